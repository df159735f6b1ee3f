"""A stack's identity: the deployment name (`DW_STACK`) every AWS resource name and the ownership
tag derive from, so two deployments of one warehouse never share a resource.

The default stack is named after the warehouse, which gives exactly the names and the tag a stack
provisioned before stacks existed carries: such a deployment keeps working unchanged.
"""

import re
from collections.abc import Collection

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.errors import UserInputError
from dw_platform.runtime.settings import SCHEMA, Settings

STACK_TAG = "dw:stack"
STACK_ENV = SCHEMA["stack"].variable
# The stack is the Glue database's name (lower-case letters, digits, underscores) and, with `_` as
# `-`, the default buckets' prefix: it must start with a letter, and 40 characters keep
# `<stack>-athena-results` within S3's 63 and `<stack>-<table>-firehose` within IAM's 64 for the
# usual table names.
_STACK = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class InvalidStackNameError(UserInputError):
    """A DW_STACK value that cannot name the stack's resources."""


class SharedStackNamesError(UserInputError):
    """Settings naming one stack's resources, given to a code location of several warehouses."""


# The settings that name a stack's resources outright: set for a code location, every warehouse in it
# would get the same stack (database, streams, lake root), workgroup or buckets.
ONE_STACK_SETTINGS = ("stack", "athena_workgroup", "data_bucket", "results_bucket")


def check_one_stack_per_warehouse(warehouses: Collection[str], settings: Settings) -> None:
    """Refuse names set for one stack when a code location runs several warehouses: left unset, each
    warehouse's stack is named after it, with its own database, streams, workgroup and buckets."""
    if settings.profile != "aws" or len(warehouses) < 2:
        return
    shared = [SCHEMA[field].variable for field in ONE_STACK_SETTINGS if getattr(settings, field)]
    if shared:
        raise SharedStackNamesError(
            f"{', '.join(shared)} name one stack's resources, but this code location runs "
            f"{len(warehouses)} warehouses ({', '.join(sorted(warehouses))}), which would share them: "
            "unset them (each warehouse's stack, buckets and workgroup are then named after it) "
            "or give each warehouse its own code location"
        )


def stack_name(warehouse: ServerlessDataWarehouse, configured: str | None = None) -> str:
    """The configured stack name, or the warehouse's name for the default stack."""
    name = configured or warehouse.name
    if not _STACK.match(name):
        raise InvalidStackNameError(
            f"invalid {STACK_ENV} {name!r}: use 1-40 lower-case letters, digits or underscores, "
            "starting with a letter"
        )
    return name


def default_data_bucket(stack: str) -> str:
    return f"{stack.replace('_', '-')}-data"


def default_results_bucket(stack: str) -> str:
    return f"{stack.replace('_', '-')}-athena-results"
