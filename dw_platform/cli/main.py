"""`dw`: send events, backfill hours, query, inspect and demo the warehouse, provision AWS.

Start-up is kept short: this module and the parsers import nothing heavy (dagster, boto3, pandas, the
query engine); each subcommand imports what it needs when it runs (`python -m benchmarks.cli_startup`).
"""

import argparse
import contextlib
import os
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from dw_platform.cli import commands
from dw_platform.cli.backfill import add_backfill
from dw_platform.cli.bug_report import report_bug
from dw_platform.cli.catalog import add_catalog
from dw_platform.cli.output import printable
from dw_platform.cli.provision import add_provision
from dw_platform.cli.replay import add_replay
from dw_platform.errors import DwError, PreconditionError, UserInputError
from dw_platform.runtime.settings import SettingsError, one_from_env, set_dagster_env
from dw_platform.state_files import StateError

# Exit statuses: 2 the command was refused (bad input, or a warehouse or stack not in a state to do
# it; nothing was done), 1 the work ran and failed (or dw has a bug), 130 interrupted.
EXIT_REFUSED, EXIT_FAILED, EXIT_INTERRUPTED = 2, 1, 130
# Terminal colour and cursor codes some libraries put in messages: not for a log or a pipe.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # of those, the ones that only set colours (SGR)


def _add_send(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "send",
        help="deliver sample or given events to a streaming table",
        description="Generate N sample events (or read NDJSON, one record per line) and send them: on the "
        "local profile through the table's delivery stream into the lake, on AWS into its Kinesis stream.",
    )
    parser.add_argument("table", help="streaming table, e.g. impressions")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--count", type=int, default=100, help="number of sample events (default 100)")
    source.add_argument("--from-file", metavar="PATH", help="NDJSON file of records, or - for standard input")
    parser.add_argument("--arrival", metavar="ISO-8601", help="simulated arrival time (default: now)")
    parser.add_argument("--batches", type=int, default=1, help="deliver in this many objects (default 1)")
    parser.add_argument("--malformed-ratio", type=float, default=0.0, help="share of malformed sample events")
    parser.add_argument("--seed", type=int, help="random seed for reproducible sample events")
    parser.add_argument(
        "--events-per-record",
        type=int,
        default=1,
        help="AWS profile: pack up to this many events into one Kinesis record (default 1)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(handler=commands.send)


def _add_drain(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "drain",
        help="emulate Firehose: deliver the Kinesis streams' new records into the lake",
        description="For an AWS emulator, where Firehose does not read Kinesis: deliver every record the "
        "streaming tables' Kinesis streams received since the last drain into the data bucket, with the "
        "local profile's conversion, in hourly folders by Kinesis arrival time. Not needed on AWS.",
    )
    parser.add_argument("table", nargs="*", help="streaming tables (default: all)")
    parser.add_argument("--json", action="store_true", help="print a JSON summary per table")
    parser.set_defaults(handler=commands.drain)


def _add_query(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run Athena SQL against the warehouse",
        description="Athena (Trino) SQL; tables bare or qualified with the database (analytics_dw.clicks). "
        "Every partitioned table must be restricted by its partition key (=, IN, or a range bounded at both "
        "ends), and what the query reads must fit the declaration's per-query budget (query_budget_hours per "
        "table, query_budget_gib in all), unless --allow-full-scan; what the query will read is printed to "
        "stderr first.",
    )
    parser.add_argument("sql", help="one SELECT statement")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    parser.add_argument("--json", action="store_true", help="the same as --format json")
    parser.add_argument(
        "--allow-full-scan",
        action="store_true",
        help="run even if a partitioned table is read without bounding its partition key, or over the budget",
    )
    parser.set_defaults(handler=commands.query)


def _add_status(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="per table: registered partitions, objects, rows, error records",
        description="Per table: registered partitions, objects, rows and error records in the lake. With "
        "--from/--to, per streaming table and hour: records sent, rows visible, error records, error rate "
        "and whether sent = delivered + errors (local profile: the delivery ledger).",
    )
    parser.add_argument("--from", dest="first", metavar="HOUR", help="reconcile hours from this one")
    parser.add_argument("--to", dest="last", metavar="HOUR", help="... to this one (inclusive)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=commands.status)


def _add_demo(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="deliver, backfill and aggregate a few hours on a fresh local warehouse",
        description="On a fresh local warehouse (its own home, wiped first if an earlier demo made it; any "
        "other non-empty directory is refused): deliver H hours of events in several objects per hour, "
        "backfill every hourly asset over them, print the aggregates.",
    )
    parser.add_argument("--hours", type=int, default=3, help="hours of events (default 3)")
    parser.add_argument("--events-per-hour", type=int, default=1000, help="events per hour per table")
    parser.add_argument("--home", default=".dw-demo", help="demo warehouse home (default ./.dw-demo)")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON summary: deliveries, the backfill, the aggregates"
    )
    parser.set_defaults(handler=commands.demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dw",
        description="The dw_platform warehouse CLI. Configuration comes from the environment: "
        "DW_PROFILE (local), DW_HOME (./.dw), DAGSTER_HOME (DW_HOME/dagster). The warehouses are those "
        "of the project's defs folder, the code location `dg dev` loads.",
    )
    _add_warehouse_option(parser, default=None)
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser
    )
    adders = (
        _add_send,
        _add_drain,
        add_backfill,
        _add_query,
        _add_status,
        _add_demo,
        add_catalog,
        add_provision,
        add_replay,
    )
    for add in adders:
        add(subparsers)
    return parser


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: it takes --warehouse too (`dw status --warehouse sales_dw`), with no
    default, so a value given before the command is not reset. argparse makes a subcommand's own
    subcommands of its parser's class, so nested ones (`dw catalog rebuild`) take it as well."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_warehouse_option(self, default=argparse.SUPPRESS)


def _add_warehouse_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--warehouse",
        metavar="NAME",
        default=default,
        help="the warehouse a command acts on: needed when the project has several, else its only one "
        "(default: DW_WAREHOUSE)",
    )


# Seconds a command may spend on AWS calls in all (DW_AWS_DEADLINE_S overrides): reading the stack is
# quick; apply and destroy wait for streams and delivery streams to settle. Commands not listed
# (backfill, query, ...) run as long as their work takes.
DEADLINES_S = {("provision", "plan"): 120, ("provision", "outputs"): 120, ("provision", "policy"): 120}
DEADLINES_S |= {("provision", "apply"): 3600, ("provision", "destroy"): 3600}


def _deadline(args: argparse.Namespace) -> float | None:
    configured = os.environ.get("DW_AWS_DEADLINE_S")
    if configured:
        try:
            seconds = float(configured)
        except ValueError:
            message = f"DW_AWS_DEADLINE_S must be a number of seconds, got {configured!r}"
            raise SettingsError(message) from None
        if seconds <= 0:
            raise SettingsError(f"DW_AWS_DEADLINE_S must be positive, got {configured!r}")
        return seconds
    return DEADLINES_S.get((args.command, getattr(args, "action", None)))


def _refused_classes() -> tuple[type[BaseException], ...]:
    """DwErrors that refuse rather than fail: the state or stack is not fit for the command (the
    provisioning module is only consulted if a command imported it)."""
    refused: tuple[type[BaseException], ...] = (UserInputError, PreconditionError, StateError)
    provisioning = sys.modules.get("dw_platform.provisioning.managed_resource")
    return refused if provisioning is None else (*refused, provisioning.ProvisioningError)


def _aws_error(error: BaseException) -> str | None:
    """The one line for a botocore error (a missing stack, refused credentials, an endpoint that does
    not answer); None for anything else. botocore is only consulted if a command imported it."""
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None or not isinstance(error, exceptions.BotoCoreError | exceptions.ClientError):
        return None
    from dw_platform.aws.errors import describe_aws_error

    return describe_aws_error(error)


def describe_failure(error: BaseException) -> tuple[int, str] | None:
    """The exit status and the one line for a failure the platform explains (a `DwError`), the
    environment causes (AWS, a file system) or the user asks for (Ctrl-C); None for a bug (any other
    exception, a bare ValueError or KeyError included: its traceback is then the useful report)."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    aws = _aws_error(error)
    if aws is not None:
        return EXIT_REFUSED, aws
    if isinstance(error, PermissionError):  # a state file or folder made unwritable under a warehouse
        return EXIT_REFUSED, f"cannot write {error.filename}: {error.strerror}"
    if isinstance(error, OSError) and error.strerror:  # a full disk, a lost mount: the work failed
        where = f"{error.filename}: " if error.filename else ""
        return EXIT_FAILED, f"{where}{error.strerror}"
    if isinstance(error, DwError):
        return (EXIT_REFUSED if isinstance(error, _refused_classes()) else EXIT_FAILED), str(error)
    return None


def _deadline_scope(args: argparse.Namespace) -> contextlib.AbstractContextManager[None]:
    seconds = _deadline(args)
    if seconds is None:
        return contextlib.nullcontext()
    from dw_platform.aws.clients import deadline  # imports boto3: only for commands that call AWS

    return deadline(seconds)


def main(argv: Sequence[str] | None = None) -> int:
    return _dispatch(build_parser().parse_args(argv))


# Commands that leave nothing to finish at exit (no files or logs to flush, no threads to join): the
# `dw` program ends them without the interpreter's teardown (see run).
TEARDOWN_FREE = frozenset({"query"})


def run() -> NoReturn:
    """The `dw` program: main(), then after a TEARDOWN_FREE command os._exit once the output is
    flushed. Freeing every module and object of sqlglot, pyarrow and DuckDB at exit costs a query
    process about 0.1 s of CPU, a fifth of a short query's whole cost (benchmarks/engine_speed.py)."""
    args = build_parser().parse_args()
    status = _dispatch(args)
    if args.command in TEARDOWN_FREE:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except OSError:  # a closed pipe: the interpreter's own exit reports it as it always does
            sys.exit(status)
        os._exit(status)
    sys.exit(status)


def _dispatch(args: argparse.Namespace) -> int:
    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    home = one_from_env("home")
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster"))
    set_dagster_env(os.environ)
    try:
        with _deadline_scope(args):
            return args.handler(args)
    except (Exception, KeyboardInterrupt) as error:
        failure = describe_failure(error)
        status, line = failure if failure is not None else (EXIT_FAILED, report_bug(error, home))
        print(f"dw {args.command}: {one_line(line, colour=sys.stderr.isatty())}", file=sys.stderr)
        return status


def one_line(message: str, *, colour: bool) -> str:
    """A message as one line of plain text: runs of whitespace (line breaks too) become one space;
    colour codes some libraries put in messages are kept on a terminal only; any other character a
    terminal would act on (a message can quote a producer's value) is shown escaped."""
    line = " ".join(message.split())
    if not colour:
        return printable(ANSI_ESCAPE.sub("", line))
    parts = COLOUR.split(line)
    codes = COLOUR.findall(line)
    return "".join(printable(part) + code for part, code in zip(parts, [*codes, ""], strict=True))


if __name__ == "__main__":
    run()
