"""A dev instance left running: a fresh `dagster dev` (local profile, temporary DW_HOME and
DAGSTER_HOME, 127.0.0.1 on a free port) for N minutes, then runs per hour, Dagster storage growth
per hour, CPU (cores on average, every process of the instance) and resident memory, and how soon
an event is queryable after it lands.

    python -m benchmarks.dev_steady_state --minutes 60 [--warmup 5]

Rates are over the steady part of the window (after `--warmup` minutes: start-up and the first
start's seeding excluded); the whole window's figures are given beside them.
"""

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from benchmarks.common import Row, Section, run_section
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import inserted_at
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import DAGSTER_ENV, Settings, ensure_dagster_home

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
TARGET_RUNS_PER_HOUR = 20
TARGET_MIB_PER_DAY = 100
TARGET_CORES = 0.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stats() -> dict[int, list[str]]:
    """/proc/<pid>/stat fields after the command name, per live process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                found[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    return found


def instance_processes(root: int) -> dict[int, list[str]]:
    """The root and its descendants (by parent), plus whatever kept its session."""
    stats = _stats()
    members = {pid for pid, fields in stats.items() if pid == root or fields[3] == str(root)}
    grew = True
    while grew:
        children = {pid for pid, fields in stats.items() if int(fields[1]) in members} - members
        members |= children
        grew = bool(children)
    return {pid: stats[pid] for pid in members}


def cpu_seconds(processes: dict[int, list[str]]) -> float:
    """CPU time of the live processes, each with its waited-for children (an exited run worker's
    time moves into its parent's), so the sum only grows while the instance runs."""
    return sum(sum(int(f) for f in fields[11:15]) for fields in processes.values()) / TICKS_PER_S


def rss_mib(processes: dict[int, list[str]]) -> float:
    return sum(int(fields[21]) for fields in processes.values()) * PAGE / 2**20


def storage_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file())


def storage_by_part(home: Path) -> dict[str, int]:
    """Bytes per top-level part of DAGSTER_HOME (history/runs: per-run event logs, schedules: ticks,
    storage: compute logs)."""
    parts: Counter[str] = Counter()
    for path in home.rglob("*"):
        if path.is_file():
            relative = path.relative_to(home).parts
            parts["/".join(relative[:2]) if relative[0] == "history" else relative[0]] += path.stat().st_size
    return dict(parts)


@contextlib.contextmanager
def dagster_dev(home: Path, port: int, repo: Path) -> Iterator[subprocess.Popen]:
    env = {
        **os.environ,
        "DW_HOME": str(home / "dw"),
        "DAGSTER_HOME": str(home / "dagster"),
        **DAGSTER_ENV,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
    }
    ensure_dagster_home(home / "dagster")
    dagster = Path(sys.executable).parent / "dagster"
    with (home / "dagster-dev.log").open("w") as log:
        process = subprocess.Popen(
            [str(dagster), "dev", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=repo,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=90)
            with contextlib.suppress(ProcessLookupError):  # what it left behind (code servers, runs)
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def seconds_until_queryable(home: Path, events: int = 50, limit_s: float = 120.0) -> float | None:
    """Deliver events into the hour in progress (as Firehose would) and time until a query sees them."""
    settings = Settings.from_env({"DW_HOME": str(home / "dw")})
    runtime = Runtime.from_settings(analytics_dw, settings)
    now = datetime.now(UTC)
    hour = inserted_at(now)
    sql = f"SELECT count(*) AS n FROM impressions WHERE inserted_at = '{hour}'"

    def count() -> int:
        try:
            return runtime.engine.query(sql).table.to_pylist()[0]["n"]
        except Exception:  # the table or the hour is not registered yet
            return -1

    before = max(count(), 0)
    records, _ = sample_events(events, now, seed=7)
    deliver(runtime, "impressions", records, arrival=now)
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        if count() >= before + events:
            return time.monotonic() - start
        time.sleep(0.5)
    return None


def runs_created(dagster_home: Path, since: float) -> tuple[Counter[str], Counter[str]]:
    """Runs per job created after `since` (epoch seconds) and in the whole window."""
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        with dg.DagsterInstance.get() as instance:
            records = instance.get_run_records()
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = previous
    everything = Counter(r.dagster_run.job_name for r in records)
    steady = Counter(r.dagster_run.job_name for r in records if r.create_timestamp.timestamp() >= since)
    return steady, everything


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=30, help="how long the instance runs")
    parser.add_argument(
        "--warmup", type=float, default=5, help="minutes left out of the rates (start-up, seeding)"
    )
    parser.add_argument("--sample-every", type=float, default=10, help="seconds between samples")


def measure(args: argparse.Namespace) -> Section:
    if args.warmup >= args.minutes:
        raise SystemExit("--warmup must be shorter than --minutes")
    repo = Path(__file__).resolve().parents[1]
    port = free_port()
    with tempfile.TemporaryDirectory() as temp:
        home = Path(temp)
        dagster_home = home / "dagster"
        rss: list[float] = []
        with dagster_dev(home, port, repo) as process:
            start = time.monotonic()
            end = start + args.minutes * 60
            warm_at = start + args.warmup * 60
            warm: tuple[float, float, int] | None = None  # (monotonic, cpu seconds, storage bytes)
            cpu = 0.0
            while time.monotonic() < end:
                time.sleep(args.sample_every)
                if process.poll() is not None:
                    raise SystemExit(f"dagster dev exited ({process.returncode}); see its log")
                processes = instance_processes(process.pid)
                cpu = cpu_seconds(processes)
                if warm is None and time.monotonic() >= warm_at:
                    warm = (time.monotonic(), cpu, storage_bytes(dagster_home))
                    warm_epoch = time.time()
                if warm is not None:
                    rss.append(rss_mib(processes))
            assert warm is not None
            stop = time.monotonic()
            steady_s = stop - warm[0]
            grown = storage_bytes(dagster_home) - warm[2]
            parts = storage_by_part(dagster_home)
            queryable = seconds_until_queryable(home)
            processes_at_end = len(instance_processes(process.pid))
        steady_runs, all_runs = runs_created(dagster_home, warm_epoch)
    hours = steady_s / 3600
    runs_per_hour = sum(steady_runs.values()) / hours
    mib_per_day = grown / 2**20 / hours * 24
    cores = (cpu - warm[1]) / steady_s
    whole_cores = cpu / (stop - start)
    rows = [
        Row(
            "runs per hour",
            f"{runs_per_hour:.1f}",
            f"{sum(all_runs.values())} runs in the whole {args.minutes:.0f} min",
            "-",
            f"<= {TARGET_RUNS_PER_HOUR}",
            runs_per_hour <= TARGET_RUNS_PER_HOUR,
            "1 run",
            None,
        ),
        Row(
            "Dagster storage growth (DAGSTER_HOME)",
            f"{grown / 2**20 / hours:.2f} MiB/hour ({mib_per_day:.0f} MiB/day)",
            f"{sum(parts.values()) / 2**20:.1f} MiB at the end",
            "-",
            f"< {TARGET_MIB_PER_DAY} MiB/day",
            mib_per_day < TARGET_MIB_PER_DAY,
            "1 run",
            None,
        ),
        Row(
            "CPU, cores on average (every process of the instance)",
            f"{cores:.3f}",
            f"{whole_cores:.3f} over the whole window (start-up included)",
            "-",
            f"< {TARGET_CORES}",
            cores < TARGET_CORES,
            "1 run",
            None,
        ),
        Row(
            "resident memory (sum of RSS), average / peak",
            f"{sum(rss) / len(rss):,.0f} / {max(rss):,.0f} MiB",
            f"{processes_at_end} processes at the end",
            "-",
            "-",
            None,
            "1 run",
            max(rss),
        ),
        Row(
            "seconds from an object landing in the hour in progress to a query seeing it",
            "not within 120 s" if queryable is None else f"{queryable:.1f}",
            "-",
            "-",
            "< 5 s",
            queryable is not None and queryable < 5,
            "1 run",
            None,
        ),
    ]
    per_job = ", ".join(f"{job} {n / hours:.1f}" for job, n in steady_runs.most_common()) or "none"
    biggest = ", ".join(
        f"{name} {size / 2**20:.1f} MiB" for name, size in sorted(parts.items(), key=lambda p: -p[1])[:5]
    )
    notes = [
        f"{args.minutes:.0f} minutes, rates over the last {steady_s / 60:.0f} (after {args.warmup:.0f} "
        "minutes of warm-up); runs per hour by job: " + per_job + ".",
        f"DAGSTER_HOME at the end by part: {biggest}.",
    ]
    return Section(
        "Dev instance steady state",
        f"python -m benchmarks.dev_steady_state --minutes {args.minutes:g} --warmup {args.warmup:g}",
        rows,
        notes,
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
