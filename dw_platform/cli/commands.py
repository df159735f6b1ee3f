"""The `dw` subcommands: thin wrappers printing what platform functions return."""

import argparse
import csv
import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dw_platform.cli import project
from dw_platform.cli.output import format_table, plural, printable, progress
from dw_platform.errors import DwError, UserInputError
from dw_platform.lake.hours import ONE_HOUR, floor_hour, parse_hour, parse_instant
from dw_platform.runtime.settings import SCHEMA, Settings, ensure_dagster_home
from dw_platform.state_files import ensure_writable_dir

# Start-up stays short (`dw --help` imports this module): the runtime, the query engine, Dagster and
# boto3 are imported inside the commands that use them.
if TYPE_CHECKING:
    from dw_platform.declaration.warehouse import ServerlessDataWarehouse
    from dw_platform.delivery.sending import PartialDelivery
    from dw_platform.query.engine import QueryResult
    from dw_platform.query.scan_plan import ScanPlan
    from dw_platform.runtime.backends import Runtime

# A send of at least this many events shows a progress bar (on a terminal, without --json).
PROGRESS_MIN_EVENTS = 10_000


class CommandError(UserInputError):
    """A command that could not do its work; printed without a traceback."""


def _runtime(warehouse: "ServerlessDataWarehouse", settings: Settings | None = None) -> "Runtime":
    from dw_platform.runtime.backends import Runtime

    return Runtime.from_settings(warehouse, settings or Settings.from_env())


def _streaming_table(warehouse: "ServerlessDataWarehouse", name: str) -> None:
    """Refuse a name that is not one of the streaming tables, naming those (send and drain)."""
    from dw_platform.declaration.warehouse import TableKind

    streaming = [t.name for t in warehouse.tables_of(TableKind.STREAMING)]
    if name not in streaming:
        what = "is not a streaming table" if name in warehouse.table_names else "does not exist"
        raise CommandError(f"table {name!r} {what}; the streaming tables are {', '.join(streaming)}")


@dataclasses.dataclass(frozen=True)
class FileRecords:
    """The records of an NDJSON file and the line number of each (blank lines are skipped)."""

    records: list[bytes]
    lines: list[int]


def _read_records(path: str) -> FileRecords:
    try:
        if path == "-":
            if sys.stdin is None:  # started with its standard input closed
                raise CommandError("--from-file -: standard input is closed")
            data = sys.stdin.buffer.read()
        else:
            data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CommandError(f"--from-file {path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"--from-file {path} is a directory, not a file of records") from None
    except OSError as error:
        raise CommandError(f"--from-file {path}: cannot read it ({error.strerror or error})") from None
    return ndjson_records(data)


# A UTF-8 byte-order mark: RFC 8259 section 8.1 lets a parser ignore one at the start of a text.
_BOM = b"\xef\xbb\xbf"


def ndjson_records(data: bytes) -> FileRecords:
    """One record per line; a leading byte-order mark and blank (whitespace-only) lines are not
    records (NDJSON parsers skip them), so they are neither sent nor isolated."""
    data = data.removeprefix(_BOM)
    records: list[bytes] = []
    numbers: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip(b" \t\r"):  # JSON's whitespace; \n already split on
            records.append(line)
            numbers.append(number)
    return FileRecords(records, numbers)


def _check_send(args: argparse.Namespace, settings: Settings, arrival: datetime | None) -> None:
    """Refuse what could only send nothing, or events no partition can ever hold."""
    for option, value in (("--count", args.count), ("--batches", args.batches)):
        if value < 1 and not (option == "--count" and args.from_file):
            raise CommandError(f"{option} must be at least 1, got {value}")
    if args.events_per_record < 1:
        raise CommandError(f"--events-per-record must be at least 1, got {args.events_per_record}")
    moment = arrival or datetime.now(UTC)
    if moment < settings.partitions_start:
        what = f"--arrival {args.arrival}" if arrival else f"now ({moment:%Y-%m-%dT%H:%M}Z)"
        raise CommandError(
            f"{what} is before the first hourly partition (DW_PARTITIONS_START="
            f"{settings.partitions_start:%Y-%m-%dT%H:%M}Z): its hour could never be registered or queried"
        )


def _check_record_sizes(records: list[bytes], lines: list[int], path: str) -> None:
    """Firehose takes at most MAX_RECORD_BYTES per record; a larger one is refused here, before
    anything is sent, rather than written as an error record too large to query."""
    from dw_platform.delivery.conversion import MAX_RECORD_BYTES

    source = "standard input" if path == "-" else path
    for number, record in zip(lines, records, strict=True):
        if len(record) > MAX_RECORD_BYTES:
            raise CommandError(
                f"line {number} of {source} is {len(record):,} bytes, over Firehose's limit of "
                f"{MAX_RECORD_BYTES:,} bytes (1,000 KiB) per record; nothing was sent"
            )


def _arrival(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise CommandError(
            f"--arrival {text!r} is not an ISO-8601 instant: use e.g. 2026-11-20T10:15:00Z "
            "(no zone means UTC)"
        ) from None


def send(args: argparse.Namespace) -> int:
    from dw_platform.delivery.events import sample_events
    from dw_platform.delivery.sending import PartialDelivery

    warehouse = project.warehouse(args)
    _streaming_table(warehouse, args.table)
    settings = Settings.from_env()
    runtime = _runtime(warehouse, settings)
    if not runtime.events.controls_arrival and (args.arrival or args.batches != 1):
        raise CommandError(
            "--arrival and --batches are for the local profile: on AWS, Kinesis stamps the arrival"
        )
    arrival = _arrival(args.arrival)
    _check_send(args, settings, arrival)
    lines: list[int] | None = None
    if args.from_file:
        found = _read_records(args.from_file)
        records, lines = found.records, found.lines
        _check_record_sizes(records, lines, args.from_file)
    else:
        records, _ = sample_events(
            args.count, arrival or datetime.now(UTC), malformed_ratio=args.malformed_ratio, seed=args.seed
        )
    shown = not args.json and len(records) >= PROGRESS_MIN_EVENTS
    with progress(len(records), "event", enabled=shown, desc=f"send {args.table}") as bar:
        try:
            report = runtime.events.send(
                args.table,
                records,
                arrival=arrival,
                batches=args.batches,
                events_per_record=args.events_per_record,
                on_progress=bar.update,
            )
        except PartialDelivery as partial:
            raise _partial_send(partial, lines, args.from_file) from partial
    print(json.dumps(report.details) if args.json else report.line)
    return 0


def _partial_send(partial: "PartialDelivery", lines: list[int] | None, path: str | None) -> DwError:
    """A send that failed part-way: what reached the lake, in the file's lines when it came from one."""
    if not lines or not partial.handled:
        return partial
    source = "standard input" if path == "-" else path
    done = f"lines 1-{lines[partial.handled - 1]} of {source} reached the lake"
    rest = (
        f"lines {lines[partial.handled]}-{lines[-1]} did not" if partial.handled < len(lines) else "all did"
    )
    return DwError(f"{partial} ({done}; {rest})")


def drain(args: argparse.Namespace) -> int:
    from dw_platform.declaration.warehouse import TableKind

    warehouse = project.warehouse(args)
    for table in args.table:
        _streaming_table(warehouse, table)
    runtime = _runtime(warehouse)
    tables = args.table or [t.name for t in warehouse.tables_of(TableKind.STREAMING)]
    with progress(None, "record", enabled=not args.json, desc="drain") as bar:
        reports = runtime.events.drain(tables, on_progress=bar.update)
    if args.json:
        found = {t: {"records": r.records, **r.summary.as_json()} for t, r in reports.items()}
        print(json.dumps(list(found.values())))
        return 0
    for table, report in reports.items():
        summary = report.summary
        delivered = f"delivered {summary.delivered:,} ({plural(summary.rows, 'row')})"
        rest = f"errors {summary.errors:,}, {plural(len(summary.objects), 'object')}"
        print(f"{table}: {plural(report.records, 'Kinesis record')}, {delivered}, {rest}")
    return 0


def query(args: argparse.Namespace) -> int:
    engine = _runtime(project.warehouse(args)).engine

    def announce(plan: "ScanPlan") -> None:
        if plan.scans:
            print(f"reads {'; '.join(plan.describe().splitlines())}", file=sys.stderr)

    # One translation, told what it reads before it runs; plain rows where the types allow them
    # (no pyarrow to import: see query/plain_rows.py).
    result = engine.query(args.sql, allow_full_scan=args.allow_full_scan, on_plan=announce, plain=True)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    _print_result(result, "json" if args.json else args.format)
    return 0


def _print_result(result: "QueryResult", output_format: str) -> None:
    """Values as Athena prints them, by type: bigints as JSON numbers, decimals with their exact
    digits, timestamps as Trino renders them, NULL as null."""
    from dw_platform.query.rendering import json_rows, text

    if output_format == "json":
        print(json_rows(result.table, result.types))
        return
    names = result.table.column_names
    cells = [[text(v) for v in row] for row in _typed_rows(result)]
    if output_format == "csv":
        # CSV keeps values exact for the program reading it (quoting keeps a newline inside its
        # field); shown on a terminal, characters the terminal would act on are escaped, as `ls` does.
        shown = printable if sys.stdout.isatty() else str
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow([shown(n) for n in names])
        writer.writerows([["" if v == "NULL" else shown(v) for v in row] for row in cells])
        return
    # The table is for a person: every value on one line, nothing a terminal would act on.
    names = [printable(n) for n in names]
    cells = [[printable(v) for v in row] for row in cells]
    if not cells:
        print("(no rows)")
        return
    widths = [max(len(n), *(len(r[i]) for r in cells)) for i, n in enumerate(names)]
    print("  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))


def _typed_rows(result: "QueryResult") -> list[list[object]]:
    from dw_platform.query.rendering import rows as rendered_rows

    if result.types is None:
        return [list(r.values()) for r in result.table.to_pylist()]
    return rendered_rows(result.table, result.types)


def _hours(first: str, last: str) -> list[str]:
    start, end = parse_hour(first), parse_hour(last)
    if end < start:
        raise CommandError(f"--to {last} is before --from {first}")
    return [f"{start + i * ONE_HOUR:%Y/%m/%d/%H}" for i in range(int((end - start) / ONE_HOUR) + 1)]


# Column titles of `dw status` (the JSON keeps the field names).
STATUS_HEADERS = {
    "error_records": "error records",
    "error_rate": "error rate",
    "inserted_at": "hour",
    "replayed_records": "replayed",
    "still_isolated": "still isolated",
}


def status(args: argparse.Namespace) -> int:
    from dw_platform.operations.status import reconcile_hours, warehouse_status

    runtime = _runtime(project.warehouse(args))
    # Glue answers "no partitions" for tables of a database that does not exist: ask for the
    # database's tables first, so an unprovisioned stack is said to be one (EntityNotFound).
    runtime.catalog.list_tables(runtime.database)
    if args.first or args.last:
        statuses = reconcile_hours(runtime, _hours(args.first or args.last, args.last or args.first))
    else:
        statuses = warehouse_status(runtime)
    found = [dataclasses.asdict(s) for s in statuses]
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print(format_table(found, STATUS_HEADERS))
    return 0


# Written into every home `dw demo` makes: only such a home may it wipe.
DEMO_MARKER = ".dw-demo-home"


def _wipe_demo_home(home: Path) -> None:
    """Start from an empty `home`, deleting only what an earlier demo made: a directory that holds
    anything else (a warehouse, DW_HOME itself, someone's files) is refused, untouched."""
    if home.exists() and not home.is_dir():
        raise CommandError(f"--home {home} is a file, not a directory; choose another --home")
    if home.exists() and any(home.iterdir()):
        if not (home / DEMO_MARKER).is_file():
            raise CommandError(
                f"--home {home} is not empty and was not made by dw demo; refusing to delete it "
                "(choose a missing or empty directory)"
            )
        shutil.rmtree(home)
    ensure_writable_dir(home, "--home")
    (home / DEMO_MARKER).write_text("made by `dw demo`, which deletes and recreates this directory\n")


def demo(args: argparse.Namespace) -> int:
    import dagster as dg

    from dw_platform.declaration.warehouse import TableKind
    from dw_platform.delivery.events import sample_events
    from dw_platform.delivery.sending import deliver
    from dw_platform.operations.batch_tables import inputs_settle_delay
    from dw_platform.orchestration.backfill import run_backfill

    for option, value in (("--hours", args.hours), ("--events-per-hour", args.events_per_hour)):
        if value < 1:
            raise CommandError(f"{option} must be at least 1, got {value}")
    warehouse = project.warehouse(args)
    if "aggregates" not in warehouse.table_names:
        raise CommandError(f"dw demo shows an aggregates table; warehouse {warehouse.name} declares none")
    home = Path(args.home).resolve()
    _wipe_demo_home(home)
    # The demo is the project's code location on a local home of its own: its definitions read
    # their settings from the environment, as under `dg dev`.
    os.environ.update({SCHEMA["profile"].variable: "local", SCHEMA["home"].variable: str(home)})
    settings = Settings.from_env()
    runtime = _runtime(warehouse, settings)
    now = datetime.now(UTC)
    # The last hour whose inputs have settled, and the hours before it.
    last = floor_hour(now - inputs_settle_delay(warehouse, warehouse.table("aggregates"))) - ONE_HOUR
    first = last - (args.hours - 1) * ONE_HOUR
    streaming = [t.name for t in warehouse.tables_of(TableKind.STREAMING)]
    say: Callable[[str], None] = (lambda line: None) if args.json else print  # --json: the summary alone
    deliveries: list[dict[str, object]] = []
    for index in range(args.hours):
        hour = first + index * ONE_HOUR
        for number, table in enumerate(streaming):
            records, _ = sample_events(
                args.events_per_hour, hour, malformed_ratio=0.01, seed=index * 100 + number
            )
            arrival = hour + timedelta(minutes=5 + number)
            summary = deliver(runtime, table, records, arrival=arrival, batches=4)
            deliveries.append({"inserted_at": f"{hour:%Y/%m/%d/%H}", **summary.as_json()})
            say(f"{hour:%Y/%m/%d/%H} {table}: {summary.as_json()}")
    _, defs = project.definitions(args)
    ensure_dagster_home(home / "dagster")  # telemetry off, as for every instance dw makes
    with dg.DagsterInstance.local_temp(tempdir=str(home / "dagster")) as instance:
        outcome = run_backfill(defs, warehouse, instance, first, last, log_level="WARNING")
    if not outcome.success:
        raise DwError(f"backfill run {outcome.run_id} failed")  # exit 1: the work failed
    say(f"backfilled {plural(outcome.hours, 'hour')} of {', '.join(outcome.assets)} in one run\n")
    result = runtime.engine.query(
        "SELECT time, event_type, count FROM aggregates "
        f"WHERE inserted_at BETWEEN '{first:%Y/%m/%d/%H}' AND '{last:%Y/%m/%d/%H}' ORDER BY time, event_type"
    )
    if args.json:
        from dw_platform.query.rendering import json_rows

        aggregates = json.loads(json_rows(result.table, result.types))  # as `dw query --json` prints them
        backfill = {"run_id": outcome.run_id, "hours": outcome.hours, "assets": list(outcome.assets)}
        report = {"home": str(home), "deliveries": deliveries, "backfill": backfill, "aggregates": aggregates}
        print(json.dumps(report, indent=2))
        return 0
    _print_result(result, "table")
    print(
        f'\nQuery it: DW_HOME={home} {_dw_command()} query "SELECT * FROM aggregates WHERE inserted_at = '
        f"'{last:%Y/%m/%d/%H}'\""
    )
    return 0


def _dw_command() -> str:
    """How to type `dw` here: `dw` when it is on the PATH, else the virtualenv's (e.g. `make demo`
    without `. .venv/bin/activate`), so that the printed command works when copied."""
    if shutil.which("dw"):
        return "dw"
    installed = Path(sys.executable).parent / "dw"
    if not installed.exists():
        return "dw"
    relative = os.path.relpath(installed)
    return relative if not relative.startswith("..") else str(installed)
