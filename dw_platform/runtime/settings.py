"""Deployment settings: one typed record, read from the environment once, where a process starts.

Every setting has one environment variable (`ENVIRONMENT`); the Dagster layer binds the same
variables to its resource's fields with `dg.EnvVar`, so the UI shows where each value comes from.
"""

import dataclasses
import os
from collections.abc import Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from dw_platform.errors import UserInputError
from dw_platform.runtime.state_files import write_atomically

Profile = Literal["local", "aws"]
QueryEngineName = Literal["duckdb", "athena"]
PROFILES: tuple[str, ...] = get_args(Profile)
QUERY_ENGINES: tuple[str, ...] = get_args(QueryEngineName)


class SettingsError(UserInputError):
    """An environment variable with a value the platform cannot use."""


DEFAULT_PARTITIONS_START = "2026-01-01"
# Below the streaming tables' error-rate warning (0.1 %) by default: a dev instance starts green.
DEFAULT_MALFORMED_RATIO = 0.0005


@dataclasses.dataclass(frozen=True)
class Settings:
    profile: Profile
    home: Path
    partitions_start: datetime
    generator_events_per_minute: int
    generator_malformed_ratio: float
    # Development settings (60 s Firehose flushes, buckets destroyable with their data): on by
    # default on the local profile, off on AWS. The declaration itself does not depend on it.
    is_dev: bool = True
    compaction_lag_hours: int = 1
    compaction_cron: str = "25 * * * *"
    # AWS profile: names and region from configuration, credentials from boto3's default chain.
    aws_region: str = "us-west-2"
    stack: str | None = None  # DW_STACK: the deployment every resource name derives from
    data_bucket: str | None = None
    results_bucket: str | None = None
    athena_workgroup: str | None = None
    query_engine: QueryEngineName = "duckdb"
    # Local profile: closed hours of sample history seeded (and run through every hourly asset) on the
    # first start of a dev instance (DW_SEED_HOURS, 0 for none); events per table and seeded hour.
    seed_hours: int = 3
    seed_events_per_hour: int = 2000

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
        env = os.environ if environ is None else environ
        profile = env.get("DW_PROFILE") or "local"
        values: dict[str, Any] = {"profile": profile}
        for field, (variable, parse) in ENVIRONMENT.items():
            raw = env.get(variable)
            if field == "aws_region" and not raw:
                raw = env.get("AWS_DEFAULT_REGION")
            if raw:
                values[field] = _parsed(variable, raw, parse)
        values.setdefault("home", Path(".dw").resolve())
        values.setdefault("partitions_start", _instant(DEFAULT_PARTITIONS_START))
        values.setdefault("generator_events_per_minute", 100)
        values.setdefault("generator_malformed_ratio", DEFAULT_MALFORMED_RATIO)
        values.setdefault("seed_hours", 3 if profile == "local" else 0)
        values.setdefault("is_dev", profile == "local")
        values.setdefault("query_engine", "duckdb" if profile == "local" else "athena")
        return cls(**values)


def _parsed(variable: str, raw: str, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(raw)
    except ValueError as error:
        raise SettingsError(f"{variable}={raw!r} is not valid: {error}") from None


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


# Each setting's environment variable and how its text is read.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "profile": ("DW_PROFILE", str),
    "home": ("DW_HOME", lambda raw: Path(raw).resolve()),
    "partitions_start": ("DW_PARTITIONS_START", _instant),
    "generator_events_per_minute": ("DW_GENERATOR_EVENTS_PER_MINUTE", int),
    "generator_malformed_ratio": ("DW_GENERATOR_MALFORMED_RATIO", float),
    "is_dev": ("DW_IS_DEV", _flag),
    "compaction_lag_hours": ("DW_COMPACTION_LAG_HOURS", int),
    "compaction_cron": ("DW_COMPACTION_CRON", str),
    "aws_region": ("AWS_REGION", str),
    "stack": ("DW_STACK", str),
    "data_bucket": ("DW_DATA_BUCKET", str),
    "results_bucket": ("DW_RESULTS_BUCKET", str),
    "athena_workgroup": ("DW_ATHENA_WORKGROUP", str),
    "query_engine": ("DW_QUERY_ENGINE", str),
    "seed_hours": ("DW_SEED_HOURS", int),
    "seed_events_per_hour": ("DW_SEED_EVENTS_PER_HOUR", int),
}


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
