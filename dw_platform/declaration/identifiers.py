"""Validation of every name that ends up in a path, a catalog entry or a SQL statement.

Glue and Athena accept lower-case letters, digits and underscores; anything else is refused here,
so names can be interpolated into SQL and object keys without quoting surprises.
"""

import re

from dw_platform.errors import UserInputError

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,127}$")


class InvalidIdentifierError(UserInputError):
    """A table, column or database name that Glue/Athena would not accept."""


def validate_identifier(name: object, *, what: str) -> str:
    """Return `name` if it is a valid Glue/Athena identifier, else raise naming the offender."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise InvalidIdentifierError(
            f"invalid {what} name {name!r}: use 1-128 lower-case letters, digits or underscores, "
            "starting with a letter or underscore"
        )
    return name


def sql_string_literal(value: str) -> str:
    """Quote a value as an SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def quoted_identifier(name: str) -> str:
    """A validated identifier in double quotes, for SQL the platform builds."""
    return f'"{validate_identifier(name, what="identifier")}"'
