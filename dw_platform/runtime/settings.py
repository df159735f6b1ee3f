"""Deployment settings, read from the environment once per process."""

import dataclasses
import os
from datetime import UTC, datetime
from pathlib import Path

from dw_platform.runtime.state_files import write_atomically

PROFILES = ("local", "aws")
DEFAULT_PARTITIONS_START = "2026-01-01"
# Below the streaming tables' error-rate warning (0.1 %) by default: a dev instance starts green.
DEFAULT_MALFORMED_RATIO = 0.0005
# The local profile's first start remembers here where its partitions start (the day its data starts).
PARTITIONS_START_FILE = "partitions_start"


@dataclasses.dataclass(frozen=True)
class Settings:
    profile: str
    home: Path
    partitions_start: datetime
    generator_events_per_minute: int
    generator_malformed_ratio: float
    compaction_lag_hours: int = 1
    compaction_cron: str = "25 * * * *"
    # AWS profile: names and region from configuration, credentials from boto3's default chain.
    aws_region: str = "us-west-2"
    stack: str | None = None  # DW_STACK: the deployment every resource name derives from
    data_bucket: str | None = None
    results_bucket: str | None = None
    athena_workgroup: str | None = None
    query_engine: str = "duckdb"
    # Local profile: closed hours of sample history seeded (and run through every hourly asset) on the
    # first start of a dev instance (DW_SEED_HOURS, 0 for none); events per table and seeded hour.
    seed_hours: int = 3
    seed_events_per_hour: int = 2000

    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.sqlite"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        profile = env.get("DW_PROFILE", "local")
        if profile not in PROFILES:
            raise ValueError(f"DW_PROFILE must be one of {PROFILES}, got {profile!r}")
        home = Path(env.get("DW_HOME", ".dw")).resolve()
        start = datetime.fromisoformat(env.get("DW_PARTITIONS_START") or _remembered_start(profile, home))
        return cls(
            profile=profile,
            home=home,
            partitions_start=start if start.tzinfo else start.replace(tzinfo=UTC),
            generator_events_per_minute=int(env.get("DW_GENERATOR_EVENTS_PER_MINUTE", "100")),
            generator_malformed_ratio=float(
                env.get("DW_GENERATOR_MALFORMED_RATIO", str(DEFAULT_MALFORMED_RATIO))
            ),
            compaction_lag_hours=int(env.get("DW_COMPACTION_LAG_HOURS", "1")),
            compaction_cron=env.get("DW_COMPACTION_CRON", "25 * * * *"),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-west-2",
            stack=env.get("DW_STACK") or None,
            data_bucket=env.get("DW_DATA_BUCKET"),
            results_bucket=env.get("DW_RESULTS_BUCKET"),
            athena_workgroup=env.get("DW_ATHENA_WORKGROUP"),
            query_engine=env.get("DW_QUERY_ENGINE", "duckdb" if profile == "local" else "athena"),
            seed_hours=int(env.get("DW_SEED_HOURS", "3")) if profile == "local" else 0,
        )


def _remembered_start(profile: str, home: Path) -> str:
    """The partitions start a local dev instance recorded on its first start, else the default."""
    path = home / PARTITIONS_START_FILE
    if profile == "local" and path.is_file():
        return path.read_text().strip() or DEFAULT_PARTITIONS_START
    return DEFAULT_PARTITIONS_START


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
