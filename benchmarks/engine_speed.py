"""Engine speed: analyst query shapes as whole processes, `dw query` (the local engine: Trino's answer
translated to DuckDB) against DuckDB's own SQL over the same Parquet files, by CPU time (user + system
of the child process, interpreter start and imports included on both sides).

    python -m benchmarks.engine_speed [--hours 24] [--events-per-hour 100000] [--repeats 3]

The lake holds `hours` arrival hours of impressions (sessions of several impressions) and clicks (3 %
of impressions, in the same session); every query reads all of them. Each shape's two answers are
compared (row count and the sum of the last column) before it is timed.
"""

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import Row, Section, run_section, spread
from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.sending import deliver
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

START = datetime(2026, 3, 1, tzinfo=UTC)
TARGET_RATIO = 1.5


@dataclasses.dataclass(frozen=True)
class Shape:
    name: str
    trino: str  # as an analyst writes it for Athena ({bounds}: the inserted_at range of every table)
    duckdb: str  # the same question in DuckDB's SQL over the files ({impressions}, {clicks}: file lists)


SHAPES = (
    Shape(
        "event-hour histogram",
        "SELECT date_trunc('hour', from_iso8601_timestamp(event_time)) AS hour, count(*) AS n "
        "FROM impressions WHERE {bounds} GROUP BY 1 ORDER BY 1",
        "SELECT date_trunc('hour', CAST(event_time AS TIMESTAMPTZ)) AS hour, count(*) AS n "
        "FROM read_parquet({impressions}) GROUP BY 1 ORDER BY 1",
    ),
    Shape(
        "per-minute running total",
        "SELECT minute, n, sum(n) OVER (ORDER BY minute) AS running FROM (SELECT "
        "date_trunc('minute', from_iso8601_timestamp(event_time)) AS minute, count(*) AS n "
        "FROM impressions WHERE {bounds} GROUP BY 1) ORDER BY minute",
        "SELECT minute, n, sum(n) OVER (ORDER BY minute) AS running FROM (SELECT "
        "date_trunc('minute', CAST(event_time AS TIMESTAMPTZ)) AS minute, count(*) AS n "
        "FROM read_parquet({impressions}) GROUP BY 1) ORDER BY minute",
    ),
    Shape(
        "distinct sessions",
        "SELECT count(DISTINCT session_id) AS sessions FROM impressions WHERE {bounds}",
        "SELECT count(DISTINCT session_id) AS sessions FROM read_parquet({impressions})",
    ),
    Shape(
        "minute profile",
        "SELECT substr(event_time, 15, 2) AS minute, count(*) AS n, count(DISTINCT session_id) AS sessions "
        "FROM impressions WHERE {bounds} GROUP BY 1 ORDER BY 1",
        "SELECT substr(event_time, 15, 2) AS minute, count(*) AS n, count(DISTINCT session_id) AS sessions "
        "FROM read_parquet({impressions}) GROUP BY 1 ORDER BY 1",
    ),
    Shape(
        "regexp group",
        "SELECT regexp_extract(session_id, '^([a-z]+)-', 1) AS device, count(*) AS n "
        "FROM impressions WHERE {bounds} GROUP BY 1 ORDER BY 1",
        "SELECT regexp_extract(session_id, '^([a-z]+)-', 1) AS device, count(*) AS n "
        "FROM read_parquet({impressions}) GROUP BY 1 ORDER BY 1",
    ),
    Shape(
        "click-to-impression join",
        "SELECT count(*) AS matches FROM clicks c JOIN impressions i ON c.session_id = i.session_id "
        "AND {i_bounds} WHERE {c_bounds}",
        "SELECT count(*) AS matches FROM read_parquet({clicks}) c JOIN read_parquet({impressions}) i "
        "ON c.session_id = i.session_id",
    ),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--events-per-hour", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)


def _event_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _hour_records(rng: random.Random, hour: datetime, count: int) -> tuple[list[bytes], list[bytes]]:
    """One arrival hour: sessions of 1-4 impressions; 3 % of impressions get a click seconds later."""
    impressions: list[bytes] = []
    clicks: list[bytes] = []
    devices = ("web", "ios", "android")
    while len(impressions) < count:
        session = f"{rng.choice(devices)}-{rng.getrandbits(48):012x}"
        for _ in range(rng.randint(1, 4)):
            moment = hour + timedelta(milliseconds=rng.randrange(3_600_000))
            event = {"id": f"i-{rng.getrandbits(64):016x}", "session_id": session}
            impressions.append(json.dumps({**event, "event_time": _event_time(moment)}).encode())
            if rng.random() < 0.03:
                clicked = moment + timedelta(seconds=rng.randint(1, 300))
                click = {"id": f"c-{rng.getrandbits(64):016x}", "session_id": session}
                clicks.append(json.dumps({**click, "event_time": _event_time(clicked)}).encode())
    return impressions[:count], clicks


def build_lake(runtime: Runtime, hours: int, per_hour: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = []
    for offset in range(hours):
        hour = START + timedelta(hours=offset)
        impressions, clicks = _hour_records(rng, hour, per_hour)
        arrival = hour + timedelta(minutes=30)
        deliver(runtime, "impressions", impressions, arrival=arrival)
        deliver(runtime, "clicks", clicks, arrival=arrival)
        names.append(hour.strftime("%Y/%m/%d/%H"))
    for table in ("impressions", "clicks"):
        register_hours(runtime, table, names)
    return names


def parquet_files(runtime: Runtime, table: str) -> list[str]:
    """The files the catalog's partitions point at, as DuckDB reads them."""
    files = []
    for partition in runtime.catalog.get_partitions(runtime.warehouse.name, table):
        folder = Path(runtime.lake.path(partition.location))
        files += sorted(str(p) for p in folder.glob("*.parquet"))
    return files


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: Sequence[str], env: dict[str, str]) -> tuple[float, str]:
    before = _child_cpu()
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return _child_cpu() - before, output


DUCKDB_SCRIPT = (
    "import duckdb, json, sys\n"
    "connection = duckdb.connect()\n"
    "connection.execute(\"SET TimeZone = 'UTC'\")\n"
    "connection.execute('SET enable_progress_bar = false')\n"
    "rows = connection.execute(sys.argv[1]).fetchall()\n"
    "print(json.dumps([[str(v) if not isinstance(v, int | float) else v for v in r] for r in rows]))\n"
)


def _answers_agree(dw_output: str, duck_output: str) -> bool:
    ours = [list(row.values()) for row in json.loads(dw_output)]
    theirs = json.loads(duck_output)
    return len(ours) == len(theirs) and sum(r[-1] for r in ours) == sum(r[-1] for r in theirs)


def measure(args: argparse.Namespace) -> Section:
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "DW_HOME": str(Path(scratch) / "dw"), "DAGSTER_HOME": str(Path(scratch) / "dg")}
        env.pop("DW_PROFILE", None)
        # As cli_startup: a user's interpreter keeps its bytecode caches (an installed dw has them);
        # without them every `dw query` would compile the platform's modules again.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        settings = dataclasses.replace(Settings.from_env(env), partitions_start=START)
        runtime = Runtime.from_settings(analytics_dw, settings)
        sync_catalog(runtime)
        hours = build_lake(runtime, args.hours, args.events_per_hour, args.seed)
        files = {table: parquet_files(runtime, table) for table in ("impressions", "clicks")}
        lists = {table: "[" + ", ".join(f"'{f}'" for f in paths) + "]" for table, paths in files.items()}

        def bounds(alias: str = "") -> str:
            return f"{alias}inserted_at BETWEEN '{hours[0]}' AND '{hours[-1]}'"

        rows = []
        dw_command = [sys.executable, "-W", "ignore", "-m", "dw_platform.cli.main", "query", "--json"]
        _run([*dw_command, "SELECT 1"], env)  # untimed: writes the bytecode caches, as a user's first run
        for shape in SHAPES:
            trino = shape.trino.format(bounds=bounds(), i_bounds=bounds("i."), c_bounds=bounds("c."))
            duck = shape.duckdb.format(**lists)
            duck_command = [sys.executable, "-c", DUCKDB_SCRIPT, duck]
            ours, theirs = [], []
            for _ in range(args.repeats):
                cpu, dw_output = _run([*dw_command, trino], env)
                ours.append(cpu)
                cpu, duck_output = _run(duck_command, env)
                theirs.append(cpu)
            agree = _answers_agree(dw_output, duck_output)
            ratio = statistics.median(ours) / statistics.median(theirs)
            rows.append(
                Row(
                    f"{shape.name}{'' if agree else ' (ANSWERS DIFFER)'}",
                    f"{statistics.median(ours):.2f} s CPU",
                    f"{statistics.median(theirs):.2f} s CPU (DuckDB)",
                    f"{ratio:.2f}x",
                    f"<= {TARGET_RATIO}x",
                    agree and ratio <= TARGET_RATIO,
                    f"{spread(ours)} / {spread(theirs)}",
                    None,
                )
            )
    total = args.hours * args.events_per_hour
    return Section(
        title="Engine speed against DuckDB",
        command="python -m benchmarks.engine_speed",
        rows=rows,
        notes=[
            f"{total:,} impressions in {args.hours} arrival hours (raw Firehose objects, one per hour) and "
            f"{sum(1 for _ in files['clicks'])} click objects; each query reads every hour.",
            "CPU time of the whole process (user + system), median of "
            f"{args.repeats}: `dw query --json` against `python -c` running DuckDB on the same files, "
            "after an untimed run that writes the bytecode caches (PYTHONDONTWRITEBYTECODE unset).",
            "Before timing, each shape's two answers are compared (row count, sum of the last column).",
        ],
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
