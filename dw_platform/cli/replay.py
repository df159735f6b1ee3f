"""`dw replay TABLE --from HOUR --to HOUR [--error-code CODE] [--dry-run] [--json]`."""

import argparse
import json
from typing import TYPE_CHECKING

from dw_platform.cli import project
from dw_platform.cli.output import printable
from dw_platform.cli.recording import record_recomputed_hours
from dw_platform.lake.hours import parse_hour, parse_instant
from dw_platform.runtime.settings import Settings

if TYPE_CHECKING:  # the replay machinery is imported when the command runs
    from dw_platform.operations.replay.run import ReplayReport


def _text(report: "ReplayReport") -> list[str]:
    span = f"{report.hours[0]}..{report.hours[-1]}" if report.hours else "no hours"
    lines = [
        f"{report.table} {span}: {report.isolated} isolated records, {report.already_delivered} delivered by "
        f"earlier replays, {report.selected} selected"
    ]
    if report.resumed:
        lines.append(f"finished {len(report.resumed)} stopped replays first: {', '.join(report.resumed)}")
    verb = "would convert" if report.dry_run else "delivered"
    lines.append(f"{verb} {report.converted} ({report.rows} rows), still failing {report.still_failing}")
    if report.landed_hour:
        lines.append(f"landed in arrival hour {report.landed_hour} (replay {report.replay_id})")
    for reason in report.top_reasons:
        lines.append(f"  {reason.records:>6}  {printable(reason.code)}: {printable(reason.message)}")
    if report.numbers:
        for table, hours in report.numbers.recomputed.items():
            if hours:
                lines.append(f"recomputed {table}: {', '.join(hours)}")
        for table, hours in report.numbers.left_to_schedule.items():
            if hours:
                lines.append(f"{table}: {', '.join(hours)} left to the automation sensor (still filling)")
    return lines


def run(args: argparse.Namespace) -> int:
    from dw_platform.operations.replay.run import replay
    from dw_platform.runtime.backends import Runtime

    runtime = Runtime.from_settings(project.warehouse(args), Settings.from_env())
    report = replay(
        runtime,
        args.table,
        parse_hour(args.first),
        parse_hour(args.last),
        error_code=args.error_code,
        dry_run=args.dry_run,
        arrival=parse_instant(args.arrival) if args.arrival else None,
    )
    if report.numbers is not None:
        record_recomputed_hours(runtime.warehouse, report.numbers.results, "dw replay")
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print("\n".join(_text(report)))
    return 0


def add_replay(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="convert a table's isolated records again with its current schema and deliver those that fit",
        description="Reads the error records of arrival hours HOUR..HOUR (inclusive), converts each record "
        "again with the table's current columns and Firehose's rules, and delivers those that now convert "
        "through the table's delivery path (local: its delivery stream; AWS: its Kinesis stream), into the "
        "current arrival hour. Each record is delivered once, however often this runs or wherever it "
        "stopped; the errors table shows each record's outcome; the hours that received records are "
        "registered and their aggregates recomputed.",
    )
    parser.add_argument("table", help="streaming table, e.g. impressions")
    parser.add_argument("--from", dest="first", required=True, metavar="HOUR", help="first arrival hour")
    parser.add_argument(
        "--to", dest="last", required=True, metavar="HOUR", help="last arrival hour (inclusive)"
    )
    parser.add_argument("--error-code", metavar="CODE", help="only records failing with this code now")
    parser.add_argument("--dry-run", action="store_true", help="report what would convert; change nothing")
    parser.add_argument(
        "--arrival", metavar="ISO-8601", help="local profile: simulated arrival of the replay"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)
