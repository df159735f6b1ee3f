"""Deployment settings: one schema, read from the environment once, where a process starts.

`Settings` is the schema: each field declares, in one place, its environment variable, its default
(as that variable would spell it; a few differ between the profiles) and how its text is read, as
aws-sdk-pandas keeps its configuration in one table. Everything else derives from it: reading the
environment (`Settings.from_env`), the Dagster resource's fields and their defaults
(orchestration/resources.py, each bound to its variable with `dg.EnvVar`, so the UI shows where a
value comes from), the generator's defaults and the README's table of settings (written by
settings_table.py). tests/test_settings.py fails on a setting named or defaulted anywhere else.
"""

import dataclasses
import os
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from dw_platform.errors import UserInputError
from dw_platform.state_files import write_atomically

Profile = Literal["local", "aws"]
QueryEngineName = Literal["duckdb", "athena"]
PROFILES: tuple[str, ...] = get_args(Profile)
QUERY_ENGINES: tuple[str, ...] = get_args(QueryEngineName)


class SettingsError(UserInputError):
    """An environment variable with a value the platform cannot use."""


@dataclasses.dataclass(frozen=True)
class ByProfile:
    """A default that differs between the local and the AWS profile."""

    local: str | None
    aws: str | None

    def of(self, profile: str) -> str | None:
        return self.local if profile == "local" else self.aws


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, its default as that variable would spell it (None:
    unset), how its text is read, and what it means (the resource's field description in the UI)."""

    variable: str
    default: str | ByProfile | None
    parse: Callable[[str], Any]
    meaning: str
    choices: tuple[str, ...] = ()
    fallback: str | None = None  # read when `variable` is unset (boto3's other name for the region)

    def default_for(self, profile: str) -> str | None:
        return self.default.of(profile) if isinstance(self.default, ByProfile) else self.default

    def raw(self, environ: Mapping[str, str]) -> str | None:
        """The variable's text in `environ` (an empty variable counts as unset)."""
        return environ.get(self.variable) or (environ.get(self.fallback) if self.fallback else None) or None

    def read(self, raw: str) -> Any:
        """The value `raw` spells, or a SettingsError: one line naming the variable."""
        if self.choices and raw not in self.choices:
            raise SettingsError(f"{self.variable} must be one of {', '.join(self.choices)}, got {raw!r}")
        try:
            return self.parse(raw)
        except ValueError as error:
            raise SettingsError(f"{self.variable}={raw!r} is not valid: {error}") from None


def _instant(raw: str) -> datetime:
    start = datetime.fromisoformat(raw)
    return start if start.tzinfo else start.replace(tzinfo=UTC)


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("use true or false")


def _path(raw: str) -> Path:
    return Path(raw).resolve()


_SETTING = "dw_setting"


def _setting(
    variable: str,
    default: str | ByProfile | None,
    parse: Callable[[str], Any] = str,
    meaning: str = "",
    **extra: Any,
) -> Any:
    """A `Settings` field declared by its `Setting` (no dataclass default: `resolve` fills it)."""
    return dataclasses.field(metadata={_SETTING: Setting(variable, default, parse, meaning, **extra)})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """The deployment's settings. Each field is one row of the schema: variable, default, meaning."""

    profile: Profile = _setting(
        "DW_PROFILE", "local", meaning="`local` (embedded) or `aws`", choices=PROFILES
    )
    home: Path = _setting(
        "DW_HOME",
        ".dw",
        _path,
        "local profile state: `lakes/` (a folder per warehouse), `catalogs/<warehouse>.sqlite`, `dagster/`",
    )
    partitions_start: datetime = _setting(
        "DW_PARTITIONS_START",
        "2026-01-01",
        _instant,
        "first hourly partition (UTC)",
    )
    generator_events_per_minute: int = _setting(
        "DW_GENERATOR_EVENTS_PER_MINUTE", "100", int, "events per table per generator tick (a minute)"
    )
    # Below the streaming tables' error-rate warning (0.1 %) by default: a dev instance starts green.
    generator_malformed_ratio: float = _setting(
        "DW_GENERATOR_MALFORMED_RATIO",
        "0.0005",
        float,
        "share of malformed generated events, kept over time (one in 20 batches of 100); below the "
        "0.1 % error-rate warning",
    )
    # Development settings (60 s Firehose flushes, buckets destroyable with their data): on by
    # default on the local profile, off on AWS. The declaration itself does not depend on it.
    is_dev: bool = _setting(
        "DW_IS_DEV",
        ByProfile(local="true", aws="false"),
        _flag,
        "dev warehouse: 60 s flushes, `dw provision destroy` may delete buckets holding data",
    )
    compaction_lag_hours: int = _setting(
        "DW_COMPACTION_LAG_HOURS", "1", int, "hours after an hour ends before it is compacted"
    )
    compaction_cron: str = _setting(
        "DW_COMPACTION_CRON", "25 * * * *", meaning="when the compaction schedule runs (UTC)"
    )
    # AWS profile: names and region from configuration, credentials from boto3's default chain.
    aws_region: str = _setting(
        "AWS_REGION",
        "us-west-2",
        meaning="AWS profile: region of every client (unset: `AWS_DEFAULT_REGION`, then the default)",
        fallback="AWS_DEFAULT_REGION",
    )
    stack: str | None = _setting(
        "DW_STACK",
        None,
        meaning="AWS profile: the stack (deployment) every resource name and the `dw:stack` tag "
        "derive from (see Stacks); unset: the warehouse's name (`analytics_dw`)",
    )
    data_bucket: str | None = _setting(
        "DW_DATA_BUCKET",
        None,
        meaning="AWS profile: the lake's bucket (names are global: set it); unset: `<stack>-data` "
        "(`_` as `-`)",
    )
    results_bucket: str | None = _setting(
        "DW_RESULTS_BUCKET",
        None,
        meaning="AWS profile: Athena's result bucket; unset: `<stack>-athena-results`",
    )
    athena_workgroup: str | None = _setting(
        "DW_ATHENA_WORKGROUP", None, meaning="AWS profile: the workgroup queries run in; unset: `<stack>`"
    )
    query_engine: QueryEngineName = _setting(
        "DW_QUERY_ENGINE",
        ByProfile(local="duckdb", aws="athena"),
        meaning="`athena` (pyathena, in the workgroup) or `duckdb` (reads the lake directly, local or S3)",
        choices=QUERY_ENGINES,
    )
    seed_hours: int = _setting(
        "DW_SEED_HOURS",
        ByProfile(local="3", aws="0"),
        int,
        "local profile: closed hours of history a dev instance seeds (and runs through every hourly "
        "asset) on its first start (`0`: none)",
    )
    seed_events_per_hour: int = _setting(
        "DW_SEED_EVENTS_PER_HOUR", "2000", int, "local profile: sample events per table and seeded hour"
    )

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise SettingsError(f"DW_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if self.query_engine not in QUERY_ENGINES:
            raise SettingsError(
                f"DW_QUERY_ENGINE must be one of {', '.join(QUERY_ENGINES)}, got {self.query_engine!r}"
            )
        if self.profile == "local" and self.query_engine != "duckdb":
            raise SettingsError("the local profile has no Athena: DW_QUERY_ENGINE=duckdb")

    @property
    def lake_dir(self) -> Path:
        """The local lake directory, laid out as a data bucket: one folder per warehouse."""
        return self.home / "lakes"

    def catalog_path(self, database: str) -> Path:
        """A warehouse's local catalog (its database, like Glue's): a file of its own, so that a
        damaged file or its rebuild concerns one warehouse."""
        return self.home / "catalogs" / f"{database}.sqlite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings the environment gives (an empty variable counts as unset)."""
        env = os.environ if environ is None else environ
        return cls.resolve({name: raw for name, setting in SCHEMA.items() if (raw := setting.raw(env))})

    @classmethod
    def resolve(cls, given: Mapping[str, Any]) -> "Settings":
        """The settings with `given` values (a str is read as its variable's text) and the profile's
        defaults for the others (None: not given)."""
        profile = _resolved("profile", given, "local")
        return cls(**{name: _resolved(name, given, profile) for name in SCHEMA})


def _resolved(name: str, given: Mapping[str, Any], profile: str) -> Any:
    setting = SCHEMA[name]
    value = given.get(name)
    if value is None:
        value = setting.default_for(profile)
    return setting.read(value) if isinstance(value, str) else value


# The schema: each field's setting, in declaration order.
SCHEMA: dict[str, Setting] = {field.name: field.metadata[_SETTING] for field in dataclasses.fields(Settings)}


def one_from_env(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """Setting `name` as the environment gives it (else its default), for a process that needs it
    before it reads all of them (`dw` places DAGSTER_HOME in DW_HOME)."""
    env = os.environ if environ is None else environ
    setting = SCHEMA[name]
    profile = one_from_env("profile", env) if isinstance(setting.default, ByProfile) else "local"
    return _resolved(name, {name: setting.raw(env)}, profile)


def default(name: str, profile: str = "local") -> Any:
    """Setting `name`'s default value on `profile`."""
    return _resolved(name, {}, profile)


# Telemetry off (nothing here may reach the network); each pool (one per table's compaction) runs
# one step at a time; ticks kept for a day when skipped (a dev instance's sensors skip about 250
# times an hour) and a week otherwise. Runs are kept: their materializations are the assets' history.
DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
retention:
  schedule:
    purge_after_days: 7
  sensor:
    purge_after_days:
      skipped: 1
      success: 7
      failure: 7
      started: 7
  auto_materialize:
    purge_after_days:
      skipped: 1
      success: 7
      failure: 7
      started: 7
"""
# What earlier versions wrote: a home still holding one of these gets the current configuration.
_EARLIER_DAGSTER_YAMLS = ("telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n",)


# A single-run backfill logs one "planned" event per asset for its whole partition range instead of
# one per partition (halving the events a month's run writes to the instance's storage); the price:
# if such a run fails, its partitions show as missing rather than failed (the run shows the failure).
# Read by the process that creates runs: `dw`, the webserver and the daemon.
PLANNED_EVENTS_ENV = "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"
# A run over many partitions stores its per-partition materializations in batches of this many, one
# insert each (dagster-postgres `store_event_batch`) rather than one write per event: beyond the
# platform's own work, a month's run spent 14 s on PostgreSQL storing events one by one, 3 s with its
# 4,320 materializations in batches (docs/benchmarks.md). Read by the process that executes the
# steps: `dw`, and the run workers (the image's environment). SQLite stores a batch event by event.
EVENT_BATCH_ENV = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = 1000
# Both, as `dw`, `make dev`, the image and the benchmarks set them.
DAGSTER_ENV = {PLANNED_EVENTS_ENV: "true", EVENT_BATCH_ENV: str(EVENT_BATCH_SIZE)}


def set_dagster_env(environ: MutableMapping[str, str]) -> None:
    """The Dagster settings above, where the environment does not already set them."""
    for name, value in DAGSTER_ENV.items():
        environ.setdefault(name, value)


def ensure_dagster_home(path: Path) -> None:
    """Create a persistent Dagster home (telemetry off: nothing here may reach the network)."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or config.read_text() in _EARLIER_DAGSTER_YAMLS:
        write_atomically(config, DAGSTER_YAML)  # never a half-written configuration


def main() -> None:
    """`python -m dw_platform.runtime.settings DAGSTER_HOME`: write its dagster.yaml (the Makefile's rule)."""
    import sys

    ensure_dagster_home(Path(sys.argv[1]))


if __name__ == "__main__":
    main()
