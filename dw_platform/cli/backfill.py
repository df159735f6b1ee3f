"""`dw backfill`: the hourly assets over a range of hours, in chunks of single runs, resumable, with a
progress bar per chunk on a terminal (a plain line per chunk elsewhere; --json for a summary)."""

import argparse
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dw_platform.cli import project
from dw_platform.cli.output import plural
from dw_platform.lake.hours import BACKFILL_CHUNK_HOURS as CHUNK_HOURS
from dw_platform.lake.hours import parse_hour
from dw_platform.runtime.settings import Settings, ensure_dagster_home

if TYPE_CHECKING:  # dagster is imported when the command runs, not to parse its arguments
    import dagster as dg

    from dw_platform.declaration.warehouse import ServerlessDataWarehouse
    from dw_platform.orchestration.backfill import BackfillOutcome
    from dw_platform.orchestration.chunked_backfill import Chunk, ChunkedBackfill


def add_backfill(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backfill",
        help="materialize the hourly assets over a range of hours, a month per Dagster run",
        description="HOUR accepts 2026-11-20T10, 2026-11-20-10:00 or 2026/11/20/10 (UTC). The range is "
        f"inclusive. It runs as one Dagster run per chunk of --chunk-hours (default {CHUNK_HOURS}, a "
        "month), in order, recorded on the Dagster instance at DAGSTER_HOME; a failed chunk stops it "
        "and --resume continues where it stopped.",
    )
    parser.add_argument("--from", dest="first", required=True, metavar="HOUR", help="first hour")
    parser.add_argument("--to", dest="last", required=True, metavar="HOUR", help="last hour (inclusive)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["register", "compact", "aggregate"],
        help="restrict to a step (repeatable)",
    )
    parser.add_argument(
        "--chunk-hours",
        type=int,
        default=CHUNK_HOURS,
        metavar="N",
        help=f"hours per run (default {CHUNK_HOURS}, as the UI's backfills)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="skip hours that every selected asset has materialized already (asks the instance)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(handler=backfill)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _span(chunk: "Chunk") -> str:
    return f"{chunk.first:%Y-%m-%dT%H} .. {chunk.last:%Y-%m-%dT%H}"


class _Display:
    """A tqdm bar per chunk (materializations of asset x hour) on a terminal; otherwise a line per
    chunk once it ends (only when there are several), without control characters."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty() and not quiet
        self.bar: Any = None
        self.assets = self.chunks = self.index = 0
        self.chunk: Chunk | None = None
        self.started = time.monotonic()

    def plan(self, chunks: Sequence["Chunk"], assets: Sequence[str]) -> None:
        self.chunks, self.assets = len(chunks), len(assets)

    def chunk_starts(self, index: int, chunk: "Chunk") -> None:
        self.index, self.chunk, self.started = index, chunk, time.monotonic()
        chunks = self.chunks
        if self.tty:
            from tqdm import tqdm

            size = shutil.get_terminal_size()
            self.bar = tqdm(
                total=chunk.hours * self.assets,
                desc=f"chunk {index + 1}/{chunks} {_span(chunk)}",
                unit="partition",
                file=sys.stderr,
                # A terminal that reports no size (0 x 0) would otherwise get an empty bar.
                ncols=size.columns or 100,
                nrows=size.lines or 24,
            )

    def materialized(self, asset: str, partition: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"{asset} {partition}", refresh=False)
            self.bar.update(1)

    def run_ends(self, outcome: "BackfillOutcome") -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif not self.quiet and self.chunks > 1 and self.chunk is not None:
            state = "succeeded" if outcome.success else "FAILED"
            print(
                f"dw backfill: chunk {self.index + 1}/{self.chunks} {_span(self.chunk)} {state} in "
                f"{time.monotonic() - self.started:.0f} s (run {outcome.run_id})",
                file=sys.stderr,
                flush=True,
            )


def _summary(report: "ChunkedBackfill") -> str:
    assets = ", ".join(report.assets)
    skipped = f"; {plural(report.skipped, 'hour')} already materialized, skipped" if report.skipped else ""
    if not report.chunks:
        every = plural(report.hours, "hour")
        return f"backfill succeeded: nothing to do, all {every} of {assets} are materialized"
    if len(report.chunks) == 1 and report.runs:
        [run] = report.runs
        state = "succeeded" if run.success else "FAILED"
        return f"backfill {state}: {plural(run.hours, 'hour')} of {assets} in run {run.run_id}{skipped}"
    if report.success:
        hours = sum(c.hours for c in report.chunks)
        runs = plural(len(report.runs), "run")
        return f"backfill succeeded: {plural(hours, 'hour')} of {assets} in {runs}{skipped}"
    failed = report.runs[-1]
    chunk = report.chunks[len(report.runs) - 1]
    return (
        f"backfill FAILED: chunk {len(report.runs)}/{len(report.chunks)} ({_span(chunk)}) in run "
        f"{failed.run_id}; {plural(len(report.runs) - 1, 'chunk')} before it succeeded, the rest did "
        "not start (--resume continues)"
    )


def _as_json(report: "ChunkedBackfill") -> dict[str, object]:
    return {
        "success": report.success,
        "hours": report.hours,
        "skipped_hours": report.skipped,
        "assets": list(report.assets),
        "chunks": len(report.chunks),
        "runs": [
            {
                "run_id": run.run_id,
                "first": f"{chunk.first:%Y-%m-%dT%H}",
                "last": f"{chunk.last:%Y-%m-%dT%H}",
                "hours": run.hours,
                "success": run.success,
            }
            for chunk, run in zip(report.chunks, report.runs, strict=False)
        ],
    }


def backfill(args: argparse.Namespace) -> int:
    from dw_platform.orchestration.chunked_backfill import run_chunked_backfill
    from dw_platform.orchestration.instance import open_instance, reuse_connections
    from dw_platform.runtime.backends import Runtime

    warehouse, defs = project.definitions(args)
    first, last = parse_hour(args.first), parse_hour(args.last)
    Runtime.from_settings(warehouse, Settings.from_env())  # a damaged DW_HOME: one line, not a failed step
    instance = open_instance(Path(os.environ["DAGSTER_HOME"]), ensure_dagster_home)
    reuse_connections(instance)
    signal.signal(signal.SIGTERM, _interrupt)  # stop as Ctrl-C does, also while waiting for a slot
    display = _Display(quiet=args.json)
    report = run_chunked_backfill(
        defs,
        warehouse,
        instance,
        first,
        last,
        args.only,
        chunk_hours=args.chunk_hours,
        resume=args.resume,
        log_level="WARNING",
        notify=lambda message: print(f"dw backfill: {message}", file=sys.stderr, flush=True),
        on_plan=display.plan,
        on_chunk=display.chunk_starts,
        on_progress=display.materialized,
        on_run=display.run_ends,
    )
    print(json.dumps(_as_json(report)) if args.json else _summary(report))
    if args.only and "compact" in args.only and "aggregate" not in args.only:
        _say_what_was_left(instance, warehouse, [run.run_id for run in report.runs])
    return 0 if report.success else 1


def _say_what_was_left(
    instance: "dg.DagsterInstance", warehouse: "ServerlessDataWarehouse", run_ids: list[str]
) -> None:
    """Never silently stale: hours whose rows the compaction changed keep aggregates computed from
    the old rows when --only leaves the aggregates out; say which, and how to refresh them."""
    from dw_platform.orchestration.left_behind import rows_changed_by_compaction

    changed = rows_changed_by_compaction(instance, warehouse, run_ids)
    hours = sorted({h for found in changed.values() for h in found})
    if hours:
        spans = "; ".join(f"{table} {', '.join(found)}" for table, found in sorted(changed.items()))
        print(
            f"dw backfill: the compaction changed the rows of {spans}; their aggregates were not "
            f"selected (--only) and still count the old rows: run dw backfill --only aggregate "
            f"--from {parse_hour(hours[0]):%Y-%m-%dT%H} --to {parse_hour(hours[-1]):%Y-%m-%dT%H}",
            file=sys.stderr,
        )
