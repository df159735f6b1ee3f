"""`dw provision plan | apply | destroy | outputs | policy`: the AWS stack from the declaration."""

import argparse
import json
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from tqdm import tqdm

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.provisioning.managed_resource import ProvisioningError
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.policies import run_worker_policy
from dw_platform.provisioning.stack import DELETE, Change, Stack, summarize
from dw_platform.runtime.settings import Settings


def _stack() -> Stack:
    return Stack.from_settings(analytics_dw, Settings.from_env())


def _progress(total: int, label: str) -> tqdm:
    return tqdm(total=total, unit="resource", desc=label, disable=not sys.stderr.isatty(), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    try:
        return PROVISION_ACTIONS[args.action](args)
    except (ProvisioningError, BotoCoreError, ClientError, ResponseParserError) as error:
        raise ProvisioningError(str(error)) from error


def plan(args: argparse.Namespace) -> int:
    changes = _stack().plan()
    for change in changes:
        print(change.describe())
    print(f"\nPlan: {summarize(changes)}")
    return 0


def apply(args: argparse.Namespace) -> int:
    stack = _stack()
    with _progress(len(stack.resources), "apply") as bar:

        def report(change: Change) -> None:
            bar.write(change.describe())
            bar.update()

        changes = stack.apply(report)
    print(f"\nApplied: {summarize(changes)}")
    return 0


def destroy(args: argparse.Namespace) -> int:
    stack = _stack()
    planned = stack.destroy_plan()
    for change in planned:
        print(change.describe())
    doomed = sum(change.action == DELETE for change in planned)
    if not doomed:
        print("\nNothing to destroy.")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise ProvisioningError(f"destroy would delete {doomed} resources; pass --yes to confirm")
        answer = input(f"\nDelete these {doomed} resources of stack {stack.names.stack}? Type its name: ")
        if answer.strip() != stack.names.stack:
            print("Not confirmed; nothing deleted.")
            return 1
    with _progress(doomed, "destroy") as bar:
        stack.destroy(lambda change: bar.update())
    print(f"\nDestroyed {doomed} resources.")
    return 0


def outputs(args: argparse.Namespace) -> int:
    values = _stack().outputs()
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        for key, value in values.items():
            print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")
    return 0


def policy(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    account = args.account or _stack().names.account
    document = run_worker_policy(StackNames.from_settings(analytics_dw, settings, account))
    text = json.dumps(document, indent=2) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as error:  # a missing folder, a directory, no permission
            raise ProvisioningError(f"cannot write {args.output}: {error.strerror or error}") from None
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


PROVISION_ACTIONS = {"plan": plan, "apply": apply, "destroy": destroy, "outputs": outputs, "policy": policy}


def add_provision(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "provision",
        help="plan, apply or destroy the AWS stack derived from the declaration",
        description="The AWS profile's resources (S3 buckets, Glue database and tables, Kinesis streams, "
        "Firehose delivery streams, IAM roles and policies, log group, Athena workgroup), derived from "
        "the declaration. Region from AWS_REGION; every name and the dw:stack tag from the stack name "
        "DW_STACK (default: the warehouse's), buckets and workgroup overridable with DW_DATA_BUCKET / "
        "DW_RESULTS_BUCKET / DW_ATHENA_WORKGROUP; credentials from boto3's default chain, "
        "AWS_ENDPOINT_URL honoured.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("plan", help="show what apply would create, change or leave alone")
    actions.add_parser("apply", help="create what is missing, update what differs (safe to re-run)")
    destroy_parser = actions.add_parser(
        "destroy",
        help="delete what the stack created",
        description="Deletes only resources carrying this stack's tag (dw:stack=DW_STACK). Non-empty "
        "buckets are refused unless the warehouse is declared is_dev=True; a refusal deletes nothing.",
    )
    destroy_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    outputs_parser = actions.add_parser(
        "outputs", help="names of the stack's streams, tables, buckets, workgroup"
    )
    outputs_parser.add_argument("--json", action="store_true", help="print JSON")
    policy_parser = actions.add_parser(
        "policy",
        help="print the IAM policy Dagster's run workers need",
        description="The run-worker policy, scoped to the stack's ARNs (also created by apply as a "
        "customer-managed policy). infra/ holds a copy for review: make policy.",
    )
    policy_parser.add_argument("--account", help="account id to put in ARNs (default: the caller's)")
    policy_parser.add_argument("--output", metavar="PATH", help="write to a file instead of printing")
    parser.set_defaults(handler=_run)
