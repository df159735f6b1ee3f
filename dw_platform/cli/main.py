"""`dw`: send events, backfill hours, query, inspect and demo the warehouse, provision AWS."""

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from dw_platform.aws.clients import AwsEndpointError, deadline
from dw_platform.aws.errors import describe_aws_error
from dw_platform.cli import commands
from dw_platform.cli.catalog import add_catalog
from dw_platform.cli.provision import add_provision
from dw_platform.cli.replay import add_replay
from dw_platform.errors import DwError
from dw_platform.runtime.settings import PLANNED_EVENTS_ENV
from dw_platform.runtime.state_files import StateError


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
    parser.set_defaults(handler=commands.drain)


def _add_backfill(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backfill",
        help="materialize the hourly assets over a range of hours in one Dagster run",
        description="HOUR accepts 2026-11-20T10, 2026-11-20-10:00 or 2026/11/20/10 (UTC). The range is "
        "inclusive. The run is recorded on the Dagster instance at DAGSTER_HOME.",
    )
    parser.add_argument("--from", dest="first", required=True, metavar="HOUR", help="first hour")
    parser.add_argument("--to", dest="last", required=True, metavar="HOUR", help="last hour (inclusive)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["register", "compact", "aggregate"],
        help="restrict to a step (repeatable)",
    )
    parser.set_defaults(handler=commands.backfill)


def _add_query(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run Athena SQL against the warehouse",
        description="Athena (Trino) SQL; tables bare or qualified with the database (analytics_dw.clicks). "
        "Every partitioned table must be restricted by its partition key (=, IN, or a range bounded at both "
        "ends) unless --allow-full-scan; what the query will read is printed to stderr first.",
    )
    parser.add_argument("sql", help="one SELECT statement")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    parser.add_argument(
        "--allow-full-scan",
        action="store_true",
        help="run even if a partitioned table is read without bounding its partition key",
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
    parser.set_defaults(handler=commands.demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dw",
        description="The dw_platform warehouse CLI. Configuration comes from the environment: "
        "DW_PROFILE (local), DW_HOME (./.dw), DAGSTER_HOME (DW_HOME/dagster).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    adders = (
        _add_send,
        _add_drain,
        _add_backfill,
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
            raise ValueError(f"DW_AWS_DEADLINE_S must be a number of seconds, got {configured!r}") from None
        if seconds <= 0:
            raise ValueError(f"DW_AWS_DEADLINE_S must be positive, got {configured!r}")
        return seconds
    return DEADLINES_S.get((args.command, getattr(args, "action", None)))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", message=".*is currently in beta.*")
    home = Path(os.environ.get("DW_HOME", ".dw")).resolve()
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster"))
    os.environ.setdefault(PLANNED_EVENTS_ENV, "true")
    try:
        with deadline(_deadline(args)):
            return args.handler(args)
    except (
        DwError,
        ValueError,
        KeyError,
        commands.CommandError,
        AwsEndpointError,
        StateError,
    ) as error:
        print(f"dw {args.command}: {error}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as error:  # AWS profile: a missing stack, refused credentials
        print(f"dw {args.command}: {describe_aws_error(error)}", file=sys.stderr)
        return 2
    except PermissionError as error:  # a state file or folder made unwritable under a running warehouse
        print(f"dw {args.command}: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dw {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
