"""Backfills on the production instance configuration (deploy/dagster.yaml: dagster-postgres on a
PostgreSQL server this script starts, with PostgreSQL's default durability), against `dagster dev`'s
SQLite storage and against one run per hour; then a year of both tables backfilled in chunks, and
the UI's partition-status query for one asset with a year of materializations.

    python -m benchmarks.postgres_backfill [--hours 720] [--events-per-hour 10000] [--objects-per-hour 4]
        [--sample 4] [--year-hours 8760] [--year-events-per-hour 100] [--year-objects-per-hour 2]
        [--chunk-hours 720] [--queries 5]
"""

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from benchmarks.backfill import FIRST_HOUR, backfill_seconds, make_hours, platform_seconds
from benchmarks.common import Row, Section, peak_rss_mib, run_section, spread
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.hours import ONE_HOUR, inserted_at
from dw_platform.orchestration.build import build_definitions
from dw_platform.orchestration.chunked_backfill import run_chunked_backfill
from dw_platform.orchestration.instance import reuse_connections
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings, ensure_dagster_home, set_dagster_env
from tests.postgres_server import PostgresServer, deploy_instance, postgres_server

YEAR_FIRST = datetime(2025, 1, 1, tzinfo=UTC)
STATUS_ASSET = ["analytics_dw", "clicks"]

# The query the UI's partitions page of an asset makes (dagster-webserver 1.13.27's bundle,
# ui-core/src/assets/usePartitionHealthData.tsx), verbatim.
PARTITION_HEALTH_QUERY = """
query PartitionHealthQuery($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      id
      partitionKeysByDimension { name type partitionKeys }
      assetPartitionStatuses {
        ... on TimePartitionStatuses { ranges { status startTime endTime startKey endKey } }
        ... on DefaultPartitionStatuses { materializedPartitions materializingPartitions failedPartitions }
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges {
            primaryDimStartKey primaryDimEndKey primaryDimStartTime primaryDimEndTime
            secondaryDim {
              ... on TimePartitionStatuses { ranges { status startTime endTime startKey endKey } }
              ... on DefaultPartitionStatuses {
                materializedPartitions materializingPartitions failedPartitions
              }
            }
          }
        }
      }
    }
  }
}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=int, default=720, help="hours of the month backfill")
    parser.add_argument("--events-per-hour", type=int, default=10_000, help="per table, month")
    parser.add_argument("--objects-per-hour", type=int, default=4, help="per table, month")
    parser.add_argument("--sample", type=int, default=4, help="hours run one partition per run")
    parser.add_argument("--year-hours", type=int, default=8760, help="hours of the chunked backfill")
    parser.add_argument("--year-events-per-hour", type=int, default=100, help="per table, year")
    parser.add_argument("--year-objects-per-hour", type=int, default=2, help="per table, year")
    parser.add_argument("--chunk-hours", type=int, default=720, help="hours per run of the year")
    parser.add_argument("--queries", type=int, default=5, help="partition-status queries timed")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="ASSET", help="leave out an asset (repeatable)"
    )


def stored_events(server: PostgresServer, database: str) -> int:
    return int(server.psql("SELECT count(*) FROM event_logs", database).strip())


def month(args: argparse.Namespace, server: PostgresServer, work: Path) -> tuple[list[Row], list[str]]:
    """The month on SQLite and on PostgreSQL (each on its own copy of the same lake), one run per hour
    on PostgreSQL for a sample of hours, and the platform's work alone on a third copy."""
    settings = Settings.from_env({"DW_HOME": str(work / "sqlite"), "DW_PARTITIONS_START": "2026-01-01"})
    runtime = Runtime.from_settings(analytics_dw, settings)
    start = time.perf_counter()
    make_hours(runtime, args.hours + args.sample, args.events_per_hour, args.objects_per_hour)
    generate_s = time.perf_counter() - start
    for copy in ("postgres", "plain"):
        shutil.copytree(work / "sqlite", work / copy)
    last = FIRST_HOUR + (args.hours - 1) * ONE_HOUR
    platform_s = platform_seconds(
        Runtime.from_settings(analytics_dw, Settings.from_env({"DW_HOME": str(work / "plain")})),
        FIRST_HOUR,
        args.hours,
        args.exclude,
    )

    ensure_dagster_home(work / "dagster-sqlite")
    sqlite = dg.DagsterInstance.from_config(str(work / "dagster-sqlite"))
    sqlite_s, sqlite_events = backfill_seconds(
        build_definitions(analytics_dw, settings), sqlite, FIRST_HOUR, last
    )
    sqlite.dispose()

    pg_settings = Settings.from_env({"DW_HOME": str(work / "postgres"), "DW_PARTITIONS_START": "2026-01-01"})
    defs = build_definitions(analytics_dw, pg_settings)
    instance = deploy_instance(work / "dagster-postgres", server.create_database("month"))
    reuse_connections(instance)  # as `dw backfill` does
    sample = [last + (index + 1) * ONE_HOUR for index in range(args.sample)]
    per_hour = [backfill_seconds(defs, instance, hour, hour, args.exclude)[0] for hour in sample]
    pg_s, pg_events = backfill_seconds(defs, instance, FIRST_HOUR, last, args.exclude)
    instance.dispose()
    counted = (
        Runtime.from_settings(analytics_dw, pg_settings)
        .engine.query(
            "SELECT sum(count) AS n FROM aggregates "
            f"WHERE inserted_at BETWEEN '{inserted_at(FIRST_HOUR)}' AND '{inserted_at(last)}'",
            budgeted=False,  # the whole backfill's hours, checked at once
        )
        .table
    )
    assert counted.column("n")[0].as_py() == 2 * args.hours * args.events_per_hour

    per_run = statistics.median(per_hour)
    extrapolated = per_run * args.hours
    peak = peak_rss_mib()
    assets = "every hourly asset" + (f" but {len(args.exclude)}" if args.exclude else "")
    label = f"{args.hours} hours x 2 tables x {args.events_per_hour:,} events, {assets}"
    rows = [
        Row(
            f"{label}, one run on PostgreSQL",
            f"{pg_s:.1f} s",
            f"one run per hour on PostgreSQL: {per_run:.2f} s x {args.hours} = {extrapolated:,.0f} s "
            "(extrapolated)",
            f"{extrapolated / pg_s:.0f}x faster",
            "< 60 s and >= 10x",
            pg_s < 60 and extrapolated / pg_s >= 10,
            f"1 run / {spread(per_hour)} over {args.sample} runs",
            peak,
        ),
        Row(
            f"{label}, one run on SQLite (`dagster dev`)",
            f"{sqlite_s:.1f} s",
            f"the same on PostgreSQL: {pg_s:.1f} s",
            f"PostgreSQL {sqlite_s / pg_s:.1f}x faster",
            "-",
            None,
            "1 run / 1 run",
            peak,
        ),
        Row(
            "the same hours, the platform's work alone (no Dagster)",
            f"{platform_s:.1f} s",
            "-",
            "-",
            "-",
            None,
            "1 run",
            peak,
        ),
    ]
    notes = [
        f"Month: {2 * args.hours * args.events_per_hour:,} events in {args.objects_per_hour} Parquet "
        f"objects per hour and table, generated by DuckDB in {generate_s:.0f} s (not counted), as in "
        "the Month backfill section; three copies of the lake, one per way.",
        f"Beyond the platform's own work: SQLite {sqlite_s - platform_s:.0f} s for {sqlite_events:,} "
        f"stored events ({(sqlite_s - platform_s) / sqlite_events * 1000:.1f} ms each), PostgreSQL "
        f"{pg_s - platform_s:.0f} s for {pg_events:,} ({(pg_s - platform_s) / pg_events * 1000:.1f} ms "
        "each).",
    ]
    return rows, notes


@contextlib.contextmanager
def _stdout_to_stderr_for_children() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def partition_status_seconds(work: Path, queries: int) -> tuple[float, list[float], int]:
    """The UI's partition-status query through dagster-graphql against a code server for the
    definitions (as the webserver runs it): the first answer, then `queries` more; and how many
    hours the answer shows materialized."""
    target = ModuleTarget(
        module_name="dw_platform.definitions",
        attribute=None,
        working_directory=None,
        location_name="dw_platform",
    )
    instance = dg.DagsterInstance.get()
    # The code server is a child process that logs to the stdout it inherits, on its own clock (its
    # shutdown line can come after this script's report): it gets stderr instead, so stdout carries
    # the report alone (`--json` is read from the last line).
    with _stdout_to_stderr_for_children(), WorkspaceProcessContext(instance, target) as process:
        times, materialized = [], 0
        for _ in range(queries + 1):
            start = time.perf_counter()
            result = execute_dagster_graphql(
                process.create_request_context(), PARTITION_HEALTH_QUERY, {"assetKey": {"path": STATUS_ASSET}}
            )
            times.append(time.perf_counter() - start)
            assert not result.errors, result.errors
            ranges = result.data["assetNodeOrError"]["assetPartitionStatuses"]["ranges"]
            materialized = sum(
                len(
                    dg.HourlyPartitionsDefinition(start_date=YEAR_FIRST).get_partition_keys_in_range(
                        dg.PartitionKeyRange(r["startKey"], r["endKey"])
                    )
                )
                for r in ranges
                if r["status"] == "MATERIALIZED"
            )
    instance.dispose()
    return times[0], times[1:], materialized


def year(args: argparse.Namespace, server: PostgresServer, work: Path) -> tuple[list[Row], list[str]]:
    env = {"DW_HOME": str(work / "year"), "DW_PARTITIONS_START": f"{YEAR_FIRST:%Y-%m-%d}"}
    settings = Settings.from_env(env)
    runtime = Runtime.from_settings(analytics_dw, settings)
    start = time.perf_counter()
    make_hours(runtime, args.year_hours, args.year_events_per_hour, args.year_objects_per_hour, YEAR_FIRST)
    generate_s = time.perf_counter() - start
    url = server.create_database("year")
    home = work / "dagster-year"
    instance = deploy_instance(home, url)
    reuse_connections(instance)  # as `dw backfill` does
    last = YEAR_FIRST + (args.year_hours - 1) * ONE_HOUR
    chunk_times: list[float] = []
    chunk_start = [0.0]
    start = time.perf_counter()
    report = run_chunked_backfill(
        build_definitions(analytics_dw, settings),
        analytics_dw,
        instance,
        YEAR_FIRST,
        last,
        chunk_hours=args.chunk_hours,
        log_level="ERROR",
        exclude=args.exclude,
        on_chunk=lambda index, chunk: chunk_start.__setitem__(0, time.perf_counter()),
        on_run=lambda outcome: (
            chunk_times.append(time.perf_counter() - chunk_start[0]),
            print(f"year chunk {len(chunk_times)}: {chunk_times[-1]:.0f} s", file=sys.stderr, flush=True),
        ),
    )
    year_s = time.perf_counter() - start
    instance.dispose()
    if not report.success:
        raise RuntimeError(f"year backfill failed in run {report.runs[-1].run_id}")
    events = stored_events(server, "year")
    counted = runtime.engine.query(
        "SELECT sum(count) AS n FROM aggregates "
        f"WHERE inserted_at BETWEEN '{inserted_at(YEAR_FIRST)}' AND '{inserted_at(last)}'",
        budgeted=False,  # the whole backfill's hours, checked at once
    ).table
    assert counted.column("n")[0].as_py() == 2 * args.year_hours * args.year_events_per_hour

    # The partition-status query, as the webserver would answer it for this instance.
    os.environ.update({**env, "DAGSTER_HOME": str(home), "DAGSTER_PG_URL": url})
    first_s, warm, materialized = partition_status_seconds(work, args.queries)
    assert materialized == args.year_hours, materialized
    warm_s = statistics.median(warm)
    peak = peak_rss_mib()
    total_events = 2 * args.year_hours * args.year_events_per_hour
    rows = [
        Row(
            f"{args.year_hours:,} hours x 2 tables x {args.year_events_per_hour} events, every hourly asset"
            + (f" but {len(args.exclude)}" if args.exclude else "")
            + ", "
            f"in chunks of {args.chunk_hours} hours on PostgreSQL",
            f"{year_s / 60:.1f} min",
            "-",
            f"{year_s / events * 1000:.1f} ms per stored event ({events:,} events)",
            "< 15 min",
            year_s < 15 * 60,
            f"{len(report.runs)} runs: {min(chunk_times):.0f}-{max(chunk_times):.0f} s each",
            peak,
        ),
        Row(
            "partition-status query of `analytics_dw/clicks` with a year materialized (the UI's "
            "PartitionHealthQuery)",
            f"{warm_s:.2f} s",
            f"first after start: {first_s:.2f} s",
            "-",
            "< 2 s",
            warm_s < 2 and first_s < 2,
            spread(warm),
            peak,
        ),
    ]
    notes = [
        f"Year: {total_events:,} events in {args.year_objects_per_hour} objects per hour and table from "
        f"{YEAR_FIRST:%Y-%m-%d}, generated in {generate_s:.0f} s (not counted); `dw backfill`'s chunked "
        f"run (run_chunked_backfill) on the instance deploy/dagster.yaml describes, {len(report.runs)} runs "
        "in order; the aggregates are checked to count every event exactly once. Stored events counted "
        "in the event_logs table.",
        "Partition status: dagster-graphql executing the query the asset's partitions page sends, against "
        "a code server for `dw_platform.definitions` as the webserver runs it; the first answer "
        f"(after the code server started) and the median of {args.queries} more (Dagster caches the "
        "asset's partition status in the instance and updates it from new events).",
    ]
    return rows, notes


def measure(args: argparse.Namespace) -> Section:
    set_dagster_env(os.environ)  # as `dw` and `make dev` set it
    with tempfile.TemporaryDirectory() as directory, postgres_server(durable=True) as server:
        work = Path(directory)
        month_rows, month_notes = month(args, server, work) if args.hours else ([], [])
        year_rows, year_notes = year(args, server, work) if args.year_hours else ([], [])
    return Section(
        title="Backfills on PostgreSQL",
        command=(
            f"python -m benchmarks.postgres_backfill --hours {args.hours} --events-per-hour "
            f"{args.events_per_hour} --objects-per-hour {args.objects_per_hour} --sample {args.sample} "
            f"--year-hours {args.year_hours} --year-events-per-hour {args.year_events_per_hour} "
            f"--year-objects-per-hour {args.year_objects_per_hour} --chunk-hours {args.chunk_hours} "
            f"--queries {args.queries}" + "".join(f" --exclude {a}" for a in args.exclude)
        ),
        rows=[*month_rows, *year_rows],
        notes=[
            "PostgreSQL 15 started by the script on 127.0.0.1 (tests/postgres_server.py) with its default "
            "durability (fsync on) and SCRAM passwords; the Dagster instance is deploy/dagster.yaml as "
            "documented (DAGSTER_PG_URL). Everything runs in this process: no run launcher start-up.",
            *(
                [f"Left out: {', '.join(args.exclude)} (see the note on it in docs/benchmarks.md)."]
                if args.exclude
                else []
            ),
            *month_notes,
            *year_notes,
        ],
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
