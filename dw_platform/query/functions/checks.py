"""Checks of a call's arguments shared by the function families: arity, types, literal values."""

import re
from collections.abc import Callable

from sqlglot import exp

from dw_platform.query.operators import Typed
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType

Scalar = Callable[[list[Typed]], Typed]


def _arity(name: str, args: list, *counts: int) -> None:  # type: ignore[type-arg]
    if len(args) not in counts:
        # Trino may have a form with this many arguments that the local engine lacks: refuse, not fail.
        raise UnsupportedQuery(f"{name}() with {len(args)} arguments")


def _expect(name: str, arg: Typed, predicate: Callable[[TrinoType], bool], what: str) -> None:
    if not (predicate(arg.type) or arg.type.is_unknown):
        # Trino may well have this overload (reverse of an array, concat_ws over an array): refuse.
        raise UnsupportedQuery(f"{name}() of {arg.type.trino()} (the local engine takes {what})")


def _is_string(t: TrinoType) -> bool:
    return t.is_string


def _str(name: str, arg: Typed) -> Typed:
    _expect(name, arg, _is_string, "varchar")
    return arg


def _int(name: str, arg: Typed) -> Typed:
    _expect(name, arg, lambda t: t.is_integer, "an integer")
    return arg


_CONSTANT_INTEGER = [
    re.compile(r"(\d+)"),
    re.compile(r"CAST\((-)\((\d+)\) AS [A-Z]+\)"),
    re.compile(r"CAST\((-)\(CAST\((\d+) AS BIGINT\)\) AS BIGINT\)"),
    re.compile(r"CAST\(dw_integer_text\('([+-]?\d+)'\) AS [A-Z]+\)"),
]


def constant_integer(arg: Typed) -> int | None:
    """The value of an integer argument written as a literal (`-1`, `TINYINT '3'`), else None."""
    for pattern in _CONSTANT_INTEGER:
        found = pattern.fullmatch(arg.sql)
        if found:
            return int("".join(found.groups()))
    return None


def is_null_constant(arg: Typed) -> bool:
    return arg.type.is_unknown or re.fullmatch(r"CAST\(NULL AS [A-Z]+\)", arg.sql) is not None


# Argument types Trino resolves to an aggregate's real overload when it has only real and double ones.
_TO_REAL_OVERLOAD = frozenset(("tinyint", "smallint", "integer", "bigint", "real"))


def _double(arg: Typed) -> str:
    if not (arg.type.is_numeric or arg.type.is_unknown):
        raise QueryError(f"expected a number, got {arg.type.trino()}")
    return f"CAST({arg.sql} AS DOUBLE)"


def _literal_string(node: exp.Expression | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _array_arg(name: str, value: Typed) -> Typed:
    _expect(name, value, lambda t: t.name == "array", "an array")
    return value


def function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()
