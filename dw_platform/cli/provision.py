"""`dw provision plan | apply | destroy | outputs | policy`: the AWS stack from the declaration."""

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dw_platform.cli import project
from dw_platform.cli.output import plural, progress
from dw_platform.runtime.settings import Settings

if TYPE_CHECKING:  # imported when a provision command runs (boto3): `dw --help` stays quick
    from dw_platform.provisioning.stack import Change, Stack


def _stack(args: argparse.Namespace) -> "Stack":
    from dw_platform.provisioning.stack import Stack

    return Stack.from_settings(project.warehouse(args), Settings.from_env())


def _run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    from dw_platform.provisioning.managed_resource import ProvisioningError

    try:
        return PROVISION_ACTIONS[args.action](args)
    except (ProvisioningError, BotoCoreError, ClientError, ResponseParserError) as error:
        raise ProvisioningError(str(error)) from error


def _show(changes: "list[Change]", heading: str, as_json: bool) -> None:
    from dw_platform.provisioning.stack import summarize

    if as_json:
        print(json.dumps({"changes": [c.to_json() for c in changes], "summary": summarize(changes)}))
        return
    for change in changes:
        print(change.describe())
    print(f"\n{heading}: {summarize(changes)}")


def _confirm(args: argparse.Namespace, what: str, question: str, answers: tuple[str, ...]) -> bool:
    """True to go on: --yes, or an accepted answer on a terminal. Without a terminal (or with --json)
    the command is refused in one line, exit 2, nothing changed."""
    from dw_platform.provisioning.managed_resource import ProvisioningError

    if args.yes:
        return True
    if args.json or sys.stdin is None or not sys.stdin.isatty():
        raise ProvisioningError(f"{what}; pass --yes to confirm")
    answer = input(f"\n{question} ")
    if answer.strip().lower() in answers:
        return True
    print("Not confirmed; nothing changed.")
    return False


def plan(args: argparse.Namespace) -> int:
    _show(_stack(args).plan(), "Plan", args.json)
    return 0


def apply(args: argparse.Namespace) -> int:
    """Show the plan, ask (unless --yes), then create and update in dependency order."""
    from dw_platform.provisioning.stack import CREATE, UPDATE, summarize

    stack = _stack(args)
    planned = stack.plan()
    if not args.json:
        _show(planned, "Plan", as_json=False)
    changing = sum(change.action in (CREATE, UPDATE) for change in planned)
    if not changing:
        if args.json:
            print(json.dumps({"changes": [c.to_json() for c in planned], "summary": summarize(planned)}))
        else:
            print("\nNothing to apply: the stack matches the declaration.")
        return 0
    what = f"apply would create or update {plural(changing, 'resource')} of stack {stack.names.stack}"
    if not _confirm(args, what, f"Apply these changes to stack {stack.names.stack}? [y/N]", ("y", "yes")):
        return 1
    with progress(changing, "resource", enabled=not args.json, desc="apply") as bar:

        def report(change: "Change") -> None:
            if change.action in (CREATE, UPDATE):
                bar.update()

        changes = stack.apply(report)
    _show([c for c in changes if c.action in (CREATE, UPDATE)], "Applied", args.json)
    return 0


def destroy(args: argparse.Namespace) -> int:
    from dw_platform.provisioning.stack import DELETE

    stack = _stack(args)
    planned = stack.destroy_plan()
    if not args.json:
        for change in planned:
            print(change.describe())
    doomed = sum(change.action == DELETE for change in planned)
    if not doomed:
        print(json.dumps({"destroyed": 0}) if args.json else "\nNothing to destroy.")
        return 0
    name = stack.names.stack
    what = f"destroy would delete {plural(doomed, 'resource')}"
    if not _confirm(args, what, f"Delete these {doomed} resources of stack {name}? Type its name:", (name,)):
        return 1
    with progress(doomed, "resource", enabled=not args.json, desc="destroy") as bar:
        stack.destroy(lambda change: bar.update())
    print(json.dumps({"destroyed": doomed}) if args.json else f"\nDestroyed {plural(doomed, 'resource')}.")
    return 0


def outputs(args: argparse.Namespace) -> int:
    values = _stack(args).outputs()
    if args.json:
        print(json.dumps(values, indent=2))
    else:
        for key, value in values.items():
            print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")
    return 0


def policy(args: argparse.Namespace) -> int:
    from dw_platform.provisioning.managed_resource import ProvisioningError
    from dw_platform.provisioning.naming import StackNames
    from dw_platform.provisioning.policies import run_worker_policy

    settings = Settings.from_env()
    account = args.account or _stack(args).names.account
    document = run_worker_policy(StackNames.from_settings(project.warehouse(args), settings, account))
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
    plan_parser = actions.add_parser("plan", help="show what apply would create, change or leave alone")
    plan_parser.add_argument("--json", action="store_true", help="print the changes as JSON")
    apply_parser = actions.add_parser(
        "apply",
        help="create what is missing, update what differs (safe to re-run)",
        description="Shows the plan and asks before changing anything; --yes skips the question. Without "
        "a terminal (a script, CI) apply refuses unless --yes is given.",
    )
    apply_parser.add_argument("--yes", action="store_true", help="apply without asking for confirmation")
    apply_parser.add_argument("--json", action="store_true", help="print the changes made as JSON")
    destroy_parser = actions.add_parser(
        "destroy",
        help="delete what the stack created",
        description="Deletes only resources carrying this stack's tag (dw:stack=DW_STACK). Non-empty "
        "buckets are refused unless the warehouse is declared is_dev=True; a refusal deletes nothing.",
    )
    destroy_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    destroy_parser.add_argument("--json", action="store_true", help="print the count deleted as JSON")
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
    policy_parser.add_argument("--json", action="store_true", help="the policy is JSON already (accepted)")
    parser.set_defaults(handler=_run)
