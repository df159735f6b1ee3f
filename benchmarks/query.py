"""Query: what Trino-exact translation costs. The translation of each analyst query of the conformance
suite (median per query, then the median over the queries), and `dw query` of one hour end to end in
a real process, side by side with the engine before the translation (git commit `--baseline`, run
from `git archive` of that commit on the same DW_HOME).

    python -m benchmarks.query [--events-per-hour 10000] [--repeats 7] [--baseline dcc5366]
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row, Section, run_section, spread
from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.query.engine import table_shape
from dw_platform.query.sql import QueryError
from dw_platform.query.translator import Translator, parse_written
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.conformance import analyst

REPO = Path(__file__).resolve().parent.parent
HOUR = "2026/03/01/10"
ONE_HOUR_QUERY = (
    "SELECT substr(event_time, 15, 2) AS minute, count(*) AS n, count(DISTINCT session_id) AS sessions "
    f"FROM impressions WHERE inserted_at = '{HOUR}' GROUP BY 1 ORDER BY 1"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events-per-hour", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--baseline", default="dcc5366", help="the commit before Trino-exact translation ('none': skip it)"
    )


def translation_times(runtime: Runtime, repeats: int) -> list[float]:
    """Median translation time of each analyst query, in seconds (catalog read once, as a query does)."""
    shapes = {t.name: table_shape(t) for t in runtime.catalog.list_tables(runtime.warehouse.name)}
    medians = []
    for case in analyst.CASES:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            with contextlib.suppress(QueryError):  # a refused query is timed up to its refusal
                Translator(shapes, runtime.warehouse.name).translate(parse_written(case.sql))
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
    return medians


def dw_query_times(env: dict[str, str], python_path: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-W", "ignore", "-m", "dw_platform.cli.main", "query", ONE_HOUR_QUERY],
            env={**env, "PYTHONPATH": python_path},
            cwd=python_path,  # `python -m` looks in the working directory before PYTHONPATH
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return times


def measure(args: argparse.Namespace) -> Section:
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "dw"
        env = {**os.environ, "DW_HOME": str(home), "DAGSTER_HOME": str(Path(scratch) / "dagster")}
        settings = Settings.from_env(env)
        runtime = Runtime.from_settings(analytics_dw, settings)
        sync_catalog(runtime)
        events = analyst.build_events()
        analyst.load_warehouse(runtime, events)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "dw_platform.cli.main",
                "send",
                "impressions",
                "--count",
                str(args.events_per_hour),
                "--arrival",
                "2026-03-01T10:15:00Z",
                "--batches",
                "12",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "dw_platform.cli.main",
                "backfill",
                "--from",
                HOUR,
                "--to",
                HOUR,
                "--only",
                "register",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        translations = translation_times(runtime, args.repeats)
        ours = dw_query_times(env, str(REPO), args.repeats)
        before = [float("nan")]
        if args.baseline != "none":
            baseline_tree = Path(scratch) / "baseline"
            baseline_tree.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", args.baseline], check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(baseline_tree)], input=archive, check=True)
            before = dw_query_times(env, str(baseline_tree), args.repeats)
    median_ms = statistics.median(translations) * 1000
    ratio = statistics.median(ours) / statistics.median(before)
    return Section(
        title="Query translation",
        command="python -m benchmarks.query",
        rows=[
            Row(
                f"translation of each of the {len(translations)} analyst queries (median of medians)",
                f"{median_ms:.1f} ms (slowest {max(translations) * 1000:.1f} ms)",
                "-",
                "-",
                "< 20 ms",
                median_ms < 20,
                spread(translations),
                None,
            ),
            Row(
                f"`dw query` of one hour ({args.events_per_hour:,} events, 12 objects), end to end",
                f"{statistics.median(ours):.2f} s",
                f"{statistics.median(before):.2f} s before ({args.baseline})",
                f"{ratio:.2f}x",
                "<= 1.2x",
                ratio <= 1.2,
                f"{spread(ours)} / {spread(before)}",
                None,
            ),
        ],
        notes=[
            "Translation: parse with sqlglot, qualify against the catalog, type and translate every node "
            "(tests/conformance/analyst.py's queries); the catalog read is not included.",
            "End to end includes the interpreter start and imports, as a user sees it.",
        ],
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
