"""Trino's bitwise functions as DuckDB text: two's complement in the argument type's width.

Shifts are computed on the value's unsigned form as HUGEINT (DuckDB refuses to shift negative
numbers left), then read back as the signed type, as Trino's Java code does with masks.
"""

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.checks import _arity
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed
from dw_platform.query.sql import QueryError

bitwise = Family("bitwise")

_WIDTH = {"tinyint": 8, "smallint": 16, "integer": 32, "bigint": 64}
_REFUSE = "error('not supported by the local engine: a negative shift')"


def _integer(name: str, arg: Typed) -> Typed:
    if not (arg.type.is_integer or arg.type.is_unknown):
        raise QueryError(f"{name}() takes integer arguments, got {arg.type.trino()}")
    return arg


def _bigint(name: str, arg: Typed) -> str:
    return f"CAST({_integer(name, arg).sql} AS BIGINT)"


def _huge(value: int) -> str:
    return f"CAST('{value}' AS HUGEINT)"


def _signed(unsigned: str, width: int) -> str:
    """The signed value of a `width`-bit unsigned HUGEINT."""
    return (
        f"list_transform([{unsigned}], lambda __dw_r: CASE WHEN __dw_r >= {_huge(2 ** (width - 1))} "
        f"THEN __dw_r - {_huge(2**width)} ELSE __dw_r END)[1]"
    )


def _shift(name: str, args: list[Typed]) -> tuple[Typed, str, int]:
    _arity(name, args, 2)
    value, shift = _integer(name, args[0]), _integer(name, args[1])
    t = value.type if not value.type.is_unknown else tt.BIGINT
    return Typed(value.sql, t), f"CAST({shift.sql} AS BIGINT)", _WIDTH[t.name]


def _binary(name: str, template: str) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 2)
        a, b = _bigint(name, args[0]), _bigint(name, args[1])
        return Typed(template.format(a=a, b=b), tt.BIGINT)

    bitwise.scalar(name, args="x bigint, y bigint", returns="bigint")(translate)


_binary("bitwise_and", "({a} & {b})")
_binary("bitwise_or", "({a} | {b})")
_binary("bitwise_xor", "xor({a}, {b})")


@bitwise.scalar("bitwise_not", args="x bigint", returns="bigint")
def _bitwise_not(args: list[Typed]) -> Typed:
    _arity("bitwise_not", args, 1)
    return Typed(f"(~{_bigint('bitwise_not', args[0])})", tt.BIGINT)


@bitwise.scalar("bit_count", args="x bigint, bits bigint", returns="bigint")
def _bit_count(args: list[Typed]) -> Typed:
    _arity("bit_count", args, 2)
    x, bits = _bigint("bit_count", args[0]), _bigint("bit_count", args[1])
    text = (
        f"list_transform([{{'x': {x}, 'b': {bits}}}], lambda __dw_p: CASE "
        "WHEN __dw_p.b < 2 OR __dw_p.b > 64 THEN "
        "CAST(dw_fail('Bits specified in bit_count must be between 2 and 64, got ' || __dw_p.b) AS BIGINT) "
        "WHEN __dw_p.b < 64 AND (__dw_p.x < -CAST(pow(2, __dw_p.b - 1) AS HUGEINT) "
        "OR __dw_p.x >= CAST(pow(2, __dw_p.b - 1) AS HUGEINT)) THEN "
        "CAST(dw_fail('Number must be representable with the bits specified. ' || __dw_p.x || "
        "' cannot be represented with ' || __dw_p.b || ' bits') AS BIGINT) "
        f"ELSE CAST(bit_count(CAST((CAST(__dw_p.x AS HUGEINT) + {_huge(2**64)}) "
        "% CAST(pow(2, __dw_p.b) AS HUGEINT) AS UBIGINT)) AS BIGINT) END)[1]"
    )
    return Typed(text, tt.BIGINT)


def _unsigned(value: str, width: int) -> str:
    return f"((CAST({value} AS HUGEINT) + {_huge(2**width)}) % {_huge(2**width)})"


@bitwise.scalar("bitwise_left_shift", args="value T (an integer), shift bigint", returns="T")
def _left_shift(args: list[Typed]) -> Typed:
    value, shift, width = _shift("bitwise_left_shift", args)
    shifted = (
        f"(({_unsigned(value.sql, width)} % CAST(pow(2, {width} - __dw_s) AS HUGEINT)) "
        "* CAST(pow(2, __dw_s) AS HUGEINT))"
    )
    text = (
        f"list_transform([{shift}], lambda __dw_s: CASE WHEN __dw_s < 0 THEN {_REFUSE} "
        f"WHEN __dw_s >= {width} THEN 0 ELSE {_signed(shifted, width)} END)[1]"
    )
    return Typed(f"CAST({text} AS {value.type.duckdb()})", value.type)


@bitwise.scalar("bitwise_right_shift", args="value T (an integer), shift bigint", returns="T")
def _right_shift(args: list[Typed]) -> Typed:
    value, shift, width = _shift("bitwise_right_shift", args)
    shifted = f"({_unsigned(value.sql, width)} // CAST(pow(2, __dw_s) AS HUGEINT))"
    text = (
        f"list_transform([{shift}], lambda __dw_s: CASE WHEN __dw_s < 0 THEN {_REFUSE} "
        f"WHEN __dw_s >= {width} THEN 0 ELSE {_signed(shifted, width)} END)[1]"
    )
    return Typed(f"CAST({text} AS {value.type.duckdb()})", value.type)


@bitwise.scalar("bitwise_right_shift_arithmetic", args="value T (an integer), shift bigint", returns="T")
def _right_shift_arithmetic(args: list[Typed]) -> Typed:
    value, shift, width = _shift("bitwise_right_shift_arithmetic", args)
    # Floor division by 2^s (DuckDB's // truncates toward zero).
    text = (
        f"list_transform([{{'v': CAST({value.sql} AS HUGEINT), 's': {shift}}}], lambda __dw_p: CASE "
        f"WHEN __dw_p.s < 0 THEN {_REFUSE} "
        f"WHEN __dw_p.s >= {width} THEN (CASE WHEN __dw_p.v < 0 THEN -1 ELSE 0 END) "
        "WHEN __dw_p.v >= 0 THEN __dw_p.v // CAST(pow(2, __dw_p.s) AS HUGEINT) "
        "ELSE -((-__dw_p.v - 1) // CAST(pow(2, __dw_p.s) AS HUGEINT)) - 1 END)[1]"
    )
    return Typed(f"CAST({text} AS {value.type.duckdb()})", value.type)
