"""Registering a month of hours (720) in Glue, counted call by call against an AWS emulator (moto's
server on 127.0.0.1), against the reference design's way: one Athena `ALTER TABLE ADD PARTITION`
statement per hour, issued and polled against the same emulator.

    python -m benchmarks.registration [--hours 720] [--repeats 3]
"""

import argparse
import collections
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from benchmarks.common import Row, Section, peak_rss_mib, run_section, spread
from dw_platform.aws.clients import aws_client
from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.hours import ONE_HOUR, inserted_at
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import default_data_bucket
from tests.aws_emulator import REGION, moto_server, point_at_emulator

FIRST_HOUR = datetime(2026, 1, 1, tzinfo=UTC)


@contextmanager
def emulated_aws() -> Iterator[None]:
    """Every boto3 client of this process talks to a fresh moto server, with throwaway credentials."""
    with moto_server() as endpoint, pytest.MonkeyPatch.context() as patch:
        point_at_emulator(patch, endpoint)
        yield


def counting(client: Any) -> collections.Counter[str]:
    """A counter of the API calls `client` makes from now on, by operation."""
    calls: collections.Counter[str] = collections.Counter()
    client.meta.events.register("before-call", lambda model, **_: calls.update([model.name]))
    return calls


def platform_registration(runtime: Runtime, hours: list[str]) -> tuple[float, collections.Counter[str]]:
    calls = counting(runtime.catalog.glue)  # type: ignore[attr-defined]
    start = time.perf_counter()
    register_hours(runtime, "impressions", hours, with_stats=False)
    return time.perf_counter() - start, calls


def athena_ddl_per_hour(bucket: str, hours: list[str]) -> tuple[float, collections.Counter[str]]:
    """What the reference design's hourly registrar did, once per hour: start the DDL, poll it."""
    athena = aws_client("athena", REGION)
    calls = counting(athena)
    start = time.perf_counter()
    for hour in hours:
        execution = athena.start_query_execution(
            QueryString=f"ALTER TABLE impressions ADD IF NOT EXISTS PARTITION (inserted_at = '{hour}') "
            f"LOCATION 's3://{bucket}/impressions/{hour}/'",
            QueryExecutionContext={"Database": analytics_dw.name},
            ResultConfiguration={"OutputLocation": f"s3://{bucket}/athena-results/"},
        )
        while True:
            state = athena.get_query_execution(QueryExecutionId=execution["QueryExecutionId"])
            if state["QueryExecution"]["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            time.sleep(0.1)
    return time.perf_counter() - start, calls


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=int, default=720)
    parser.add_argument("--repeats", type=int, default=3)


def measure(args: argparse.Namespace) -> Section:
    hours = [inserted_at(FIRST_HOUR + index * ONE_HOUR) for index in range(args.hours)]
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as home, emulated_aws():
        for _ in range(args.repeats):
            # A fresh warehouse each time (new database and tables), so each run creates every partition.
            settings = Settings.from_env({"DW_PROFILE": "aws", "DW_HOME": home, "AWS_REGION": REGION})
            runtime = Runtime.from_settings(analytics_dw, settings)
            glue = runtime.catalog.glue  # type: ignore[attr-defined]
            if analytics_dw.name in {d["Name"] for d in glue.get_databases()["DatabaseList"]}:
                for table in glue.get_tables(DatabaseName=analytics_dw.name)["TableList"]:
                    glue.delete_table(DatabaseName=analytics_dw.name, Name=table["Name"])
            sync_catalog(runtime)  # the catalog entries, as `dw provision apply` creates them
            seconds, calls = platform_registration(runtime, hours)
            ours.append(seconds)
            seconds, statements = athena_ddl_per_hour(default_data_bucket(analytics_dw.name), hours)
            theirs.append(seconds)
            assert len(runtime.catalog.get_partitions(analytics_dw.name, "impressions")) == args.hours
    writes = calls["BatchCreatePartition"] / 2  # the table's and its errors table's
    return Section(
        title="Partition registration",
        command=f"python -m benchmarks.registration --hours {args.hours} --repeats {args.repeats}",
        rows=[
            Row(
                f"register {args.hours} hours of one streaming table: Glue calls",
                f"{sum(calls.values())} ({', '.join(f'{n} {op}' for op, n in sorted(calls.items()))})",
                f"{sum(statements.values())} Athena calls for {args.hours} DDL statements "
                f"({', '.join(f'{n} {op}' for op, n in sorted(statements.items()))})",
                f"{sum(statements.values()) / sum(calls.values()):.0f}x fewer",
                "<= 8 partition writes per table",
                writes <= 8,
                "-",
                None,
            ),
            Row(
                f"register {args.hours} hours: time against the emulator",
                f"{statistics.median(ours):.2f} s",
                f"one DDL statement per hour {statistics.median(theirs):.2f} s",
                f"{statistics.median(theirs) / statistics.median(ours):.0f}x faster",
                "-",
                None,
                f"{spread(ours)} / {spread(theirs)}",
                peak_rss_mib(),
            ),
        ],
        notes=[
            f"Partition writes: {writes:.0f} BatchCreatePartition calls of up to 100 partitions for the "
            "table and as many for its `_errors` table (registered with it); GetPartitions looks up which "
            "hours exist. The tables exist beforehand, as after `dw provision apply`.",
            "The emulator answers an Athena DDL statement at once; on AWS each one is a query that "
            "queues and runs (seconds), and counts against the account's DDL concurrency quota, so the "
            "time ratio above is the smallest it can be. Glue's BatchCreatePartition takes 100 "
            "partitions per call (Glue API reference).",
            f"Medians of {args.repeats} runs; the emulator is moto's server in its own process, spoken to "
            "over HTTP on 127.0.0.1.",
        ],
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
