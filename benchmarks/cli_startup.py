"""CLI start-up: `dw --help`, `dw status` and `dw query` of one hour, each a fresh process as a user
types it, side by side with the CLI before lazy imports (git commit `--baseline`, run from `git
archive` of that commit on the same DW_HOME).

    python -m benchmarks.cli_startup [--events-per-hour 10000] [--repeats 7] [--baseline ddcfe26]

Wall time is what a user waits; CPU time (user + system of the process) is reported beside it because
it moves less when other work shares the machine.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row, Section, run_section, spread

REPO = Path(__file__).resolve().parent.parent
HOUR = "2026/03/01/10"
ONE_HOUR_QUERY = (
    "SELECT substr(event_time, 15, 2) AS minute, count(*) AS n, count(DISTINCT session_id) AS sessions "
    f"FROM impressions WHERE inserted_at = '{HOUR}' GROUP BY 1 ORDER BY 1"
)
COMMANDS = {
    "`dw --help`": ["--help"],
    "`dw status`": ["status"],
    "`dw query` of one hour": ["query", ONE_HOUR_QUERY],
}
TARGETS_S = {"`dw --help`": 0.5, "`dw query` of one hour": 1.5}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events-per-hour", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--baseline", default="ddcfe26", help="the commit before lazy imports ('none': skip it)"
    )


def dw(env: dict[str, str], tree: Path, *args: str) -> None:
    """`dw ARGS` from the source tree `tree`: run in it, since `python -m` looks in the working
    directory before PYTHONPATH (and the editable install)."""
    subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *args],
        env={**env, "PYTHONPATH": str(tree)},
        cwd=tree,
        check=True,
        capture_output=True,
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Runs = tuple[list[float], list[float]]  # wall seconds, CPU seconds


def timings(env: dict[str, str], tree: Path, args: list[str], repeats: int) -> Runs:
    """Wall and CPU seconds of `repeats` runs, after one that writes the bytecode caches (as any
    user's second run finds them)."""
    dw(env, tree, *args)
    walls, cpus = [], []
    for _ in range(repeats):
        cpu, start = _children_cpu_s(), time.perf_counter()
        dw(env, tree, *args)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu_s() - cpu)
    return walls, cpus


def baseline_tree(commit: str, scratch: Path) -> Path:
    tree = scratch / "baseline"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def measure(args: argparse.Namespace) -> Section:
    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        env = {**os.environ, "DW_HOME": str(scratch / "dw"), "DAGSTER_HOME": str(scratch / "dagster")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's interpreter keeps its bytecode caches
        env.pop("DW_PROFILE", None)
        arrival = "2026-03-01T10:15:00Z"
        count = str(args.events_per_hour)
        dw(env, REPO, "send", "impressions", "--count", count, "--arrival", arrival, "--batches", "12")
        dw(env, REPO, "backfill", "--from", HOUR, "--to", HOUR, "--only", "register")
        ours = {name: timings(env, REPO, command, args.repeats) for name, command in COMMANDS.items()}
        before: dict[str, Runs] = {}
        if args.baseline != "none":
            tree = baseline_tree(args.baseline, scratch)
            before = {name: timings(env, tree, command, args.repeats) for name, command in COMMANDS.items()}
    rows = []
    for name, (walls, cpus) in ours.items():
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        baseline, ratio, base_spread = "-", "-", "-"
        if name in before:
            base_walls, base_cpus = before[name]
            base_wall, base_cpu = statistics.median(base_walls), statistics.median(base_cpus)
            baseline = f"{base_wall:.2f} s ({base_cpu:.2f} s) before ({args.baseline})"
            ratio, base_spread = f"{base_wall / wall:.1f}x faster", spread(base_walls)
        target = TARGETS_S.get(name)
        rows.append(
            Row(
                f"{name}, end to end (CPU)",
                f"{wall:.2f} s ({cpu:.2f} s)",
                baseline,
                ratio,
                "-" if target is None else f"< {target} s",
                None if target is None else wall < target,
                f"{spread(walls)} / {base_spread}",
                None,
            )
        )
    return Section(
        title="CLI start-up",
        command="python -m benchmarks.cli_startup",
        rows=rows,
        notes=[
            f"A local warehouse with one hour of impressions ({args.events_per_hour:,} events in 12 objects, "
            "registered); each command a fresh `python -m dw_platform.cli.main` process, medians of "
            f"{args.repeats} runs after one that writes the bytecode caches.",
            "The CLI's parsers import nothing heavy; each subcommand imports what it needs when it runs "
            "(Dagster for backfill and demo, boto3 for the AWS profile and provision, the query engine "
            "for query and status). A query no longer imports pandas (pyarrow imports it to build arrays "
            "from Python lists; the engine's file table is built in DuckDB) and creates only the DuckDB "
            "macros it calls.",
        ],
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
