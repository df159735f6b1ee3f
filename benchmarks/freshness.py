"""Freshness on the local profile: seconds from `dw send` until `dw query` returns the events, each
step a real `dw` process. The first events of a new hour also need the hour registered (the
registration sensor's job under `dagster dev`, here `dw backfill --only register`); events for an
hour already registered are visible as soon as `dw send` returns.

    python -m benchmarks.freshness [--events 1000] [--repeats 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import Row, Section, children_peak_rss_mib, run_section, spread
from dw_platform.lake.hours import floor_hour, inserted_at
from dw_platform.orchestration.registration_assets import SENSOR_INTERVAL_S
from dw_platform.runtime.settings import ensure_dagster_home


def dw(env: dict[str, str], *arguments: str) -> tuple[float, str]:
    start = time.perf_counter()
    output = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *arguments],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return time.perf_counter() - start, output


def visible(env: dict[str, str], hour: str) -> tuple[float, int]:
    seconds, output = dw(
        env,
        "query",
        f"SELECT count(*) AS n FROM impressions WHERE inserted_at = '{hour}'",
        "--format",
        "json",
    )
    return seconds, json.loads(output)[0]["n"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=1000, help="events per `dw send`")
    parser.add_argument("--repeats", type=int, default=5)


def measure(args: argparse.Namespace) -> Section:
    new_hour: list[float] = []
    registered: list[float] = []
    steps: dict[str, list[float]] = {"send": [], "register": [], "query": []}
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "DW_HOME": f"{home}/dw", "DAGSTER_HOME": f"{home}/dagster"}
        env["DW_PARTITIONS_START"] = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%d")
        ensure_dagster_home(Path(env["DAGSTER_HOME"]))
        for repeat in range(args.repeats):
            # A new (past) hour each time: send, register, query.
            arrival = floor_hour(datetime.now(UTC)) - timedelta(hours=repeat + 2) + timedelta(minutes=5)
            hour, flag = inserted_at(arrival), f"{arrival:%Y-%m-%dT%H}"
            send_s, _ = dw(
                env, "send", "impressions", "--count", str(args.events), "--arrival", arrival.isoformat()
            )
            register_s, _ = dw(env, "backfill", "--from", flag, "--to", flag, "--only", "register")
            query_s, count = visible(env, hour)
            assert count == args.events, (count, args.events)
            new_hour.append(send_s + register_s + query_s)
            for name, value in zip(steps, (send_s, register_s, query_s), strict=True):
                steps[name].append(value)
            # The same hour again, now registered: send and query.
            send_s, _ = dw(
                env, "send", "impressions", "--count", str(args.events), "--arrival", arrival.isoformat()
            )
            query_s, count = visible(env, hour)
            assert count == 2 * args.events, (count, args.events)
            registered.append(send_s + query_s)
    median = {name: statistics.median(values) for name, values in steps.items()}
    return Section(
        title="Freshness (local profile)",
        command=f"python -m benchmarks.freshness --events {args.events} --repeats {args.repeats}",
        rows=[
            Row(
                "`dw send` -> visible to `dw query`, hour already registered",
                f"{statistics.median(registered):.1f} s",
                "-",
                "-",
                "-",
                None,
                spread(registered),
                children_peak_rss_mib(),
            ),
            Row(
                "`dw send` -> registered -> visible, first events of an hour",
                f"{statistics.median(new_hour):.1f} s (send {median['send']:.1f} + register "
                f"{median['register']:.1f} + query {median['query']:.1f})",
                "-",
                "-",
                "-",
                None,
                spread(new_hour),
                children_peak_rss_mib(),
            ),
        ],
        notes=[
            f"{args.events:,} events per `dw send`, medians of {args.repeats}; every step is a new `dw` "
            "process, so about a second of each is Python and library start-up. Peak RSS is the largest "
            "`dw` process.",
            f"Under `dagster dev` the registration sensor looks every {SENSOR_INTERVAL_S} s, so the first "
            f"events of an hour become visible within about {SENSOR_INTERVAL_S} s plus a registration run; "
            "later events of the hour as soon as their object is written. The local delivery stream "
            "writes an object when its buffer flushes (`dw send` flushes when it ends; the event "
            "generator's stream every 60 s on a dev warehouse, 900 s in production, as Firehose).",
        ],
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
