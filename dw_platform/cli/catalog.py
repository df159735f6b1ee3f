"""`dw catalog rebuild`: the catalog rebuilt from the lake (a lost or damaged catalog, or one that
points at the wrong place)."""

import argparse
import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dw_platform.cli import project
from dw_platform.cli.output import plural
from dw_platform.cli.recording import record_recomputed_hours
from dw_platform.runtime.settings import Settings
from dw_platform.state_files import DamagedStateError

if TYPE_CHECKING:  # imported when the command runs: `dw --help` stays quick
    from dw_platform.declaration.warehouse import ServerlessDataWarehouse
    from dw_platform.runtime.backends import Runtime


LATE_FOLDED = "late objects folded"


def add_catalog(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="rebuild the catalog from the lake",
        description="The lake is the source of truth: `rebuild` recreates the database and table definitions "
        "from the declaration and points every hour at what the lake holds (its newest complete compacted "
        "version, with raw objects that arrived after it folded in, or its raw folder; a registered hour "
        "with nothing in the lake at its own empty folder); on AWS in Glue. Derived tables (aggregates) "
        "of the hours whose rows changed are recomputed before it returns. "
        "Idempotent. A local catalog file that cannot be opened is kept aside, not deleted.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rebuild = actions.add_parser("rebuild", help="rebuild the catalog from the lake")
    rebuild.add_argument("--json", action="store_true", help="print one JSON object per hour")
    rebuild.set_defaults(handler=rebuild_command)


def _runtime(warehouse: "ServerlessDataWarehouse", settings: Settings) -> tuple["Runtime", str]:
    """The runtime; a local catalog file SQLite cannot read is moved aside (kept for inspection)."""
    from dw_platform.runtime.backends import Runtime

    try:
        return Runtime.from_settings(warehouse, settings), ""
    except (sqlite3.DatabaseError, DamagedStateError) as error:
        if settings.profile != "local":
            raise
        path = settings.catalog_path(warehouse.name)
        suffix = f".broken-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        for companion in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
            if companion.exists():
                companion.rename(companion.with_name(companion.name + suffix))
        note = f"{path} could not be read ({error}); kept as {path.name}{suffix}, rebuilding a new one"
        return Runtime.from_settings(warehouse, settings), note


def rebuild_command(args: argparse.Namespace) -> int:
    from dw_platform.operations.recovery import rebuild_catalog

    runtime, note = _runtime(project.warehouse(args), Settings.from_env())
    report = rebuild_catalog(runtime)
    record_recomputed_hours(runtime.warehouse, report.results, "dw catalog rebuild")
    numbers = {
        "recomputed": {t: list(h) for t, h in report.recomputed.items()},
        "left_to_schedule": {t: list(h) for t, h in report.left_to_schedule.items()},
        "numbers_problem": report.numbers_problem,
    }
    if args.json:
        hours = [dataclasses.asdict(h) for h in report.hours]
        print(json.dumps({"note": note, "hours": hours, **numbers}, indent=1))
    else:
        if note:
            print(note)
        by_table: dict[str, dict[str, int]] = {}
        for hour in report.hours:
            counts = by_table.setdefault(hour.table, {})
            for key in (hour.source, hour.action):
                counts[key] = counts.get(key, 0) + 1
            counts[LATE_FOLDED] = counts.get(LATE_FOLDED, 0) + hour.late_objects_folded
        for table, counts in by_table.items():
            print(f"{table}: " + ", ".join(_count(n, what) for what, n in counts.items()))
        for table, recomputed in report.recomputed.items():
            if recomputed:
                print(f"recomputed {table}: {', '.join(recomputed)}")
        for table, pending in report.left_to_schedule.items():
            if pending:
                print(f"{table}: {', '.join(pending)} left to the automation sensor (still filling)")
        for hour in report.problems:
            print(f"PROBLEM {hour.table} {hour.hour}: {hour.problem}")
        if report.numbers_problem:
            print(f"PROBLEM {report.numbers_problem}")
    return 1 if report.problems or report.numbers_problem else 0


def _count(count: int, what: str) -> str:
    """`3 compacted`, `1 late object folded`, `2 late objects folded`."""
    if what == LATE_FOLDED:
        return f"{plural(count, 'late object')} folded"
    return f"{count:,} {what}"
