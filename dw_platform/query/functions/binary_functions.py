"""Trino's varbinary literals and functions as DuckDB text (BLOB values).

Functions Trino defines over both varchar and varbinary (length, substr, lpad, rpad, reverse,
from_base64, from_hex) dispatch on the first argument's type: the varchar forms stay in
strings.py. Byte-wise operations reuse the string ones over a text with one character per byte
(code points 256-511, see dw_bytes_text in macros.py). Hashes DuckDB lacks (sha512, xxhash64,
murmur3, spooky hashes, HMACs) are refused by name (refused.py).
"""

import re

from dw_platform.query import trino_types as tt
from dw_platform.query.functions import registry
from dw_platform.query.functions.checks import Scalar, _arity, _expect, _int, _str
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed
from dw_platform.query.sql import QueryError

binary = Family("binary")


def hex_literal(digits: str) -> Typed:
    """X'58F7': a varbinary literal."""
    text = re.sub(r"\s", "", digits)
    if not re.fullmatch(r"([0-9A-Fa-f]{2})*", text):
        raise QueryError(
            f"Binary literal can only contain hexadecimal digits and must have an even length: X'{digits}'"
        )
    return Typed(f"unhex('{text}')", tt.VARBINARY)


def _is_binary(t: tt.TrinoType) -> bool:
    return t.name == "varbinary"


def _bin(name: str, arg: Typed) -> Typed:
    _expect(name, arg, _is_binary, "varbinary")
    return arg


def _bytes_text(value: Typed) -> Typed:
    return Typed(f"dw_bytes_text({value.sql})", tt.VARCHAR)


def _overload(name: str, binary: Scalar, forms: str, returns: str = "varbinary") -> None:
    """`name` of a varbinary first argument is `binary`; of anything else, the existing function."""
    spec = registry.REGISTRY[name]
    other = spec.translate
    assert other is not None

    def dispatch(args: list[Typed]) -> Typed:
        if args and _is_binary(args[0].type):
            return binary(args)
        return other(args)

    registry.replace(
        name, translate=dispatch, args=f"{spec.args} | {forms}", returns=f"{spec.returns} | {returns}"
    )


def _length(args: list[Typed]) -> Typed:
    _arity("length", args, 1)
    return Typed(f"CAST(octet_length({args[0].sql}) AS BIGINT)", tt.BIGINT)


def _substr(args: list[Typed]) -> Typed:
    _arity("substr", args, 2, 3)
    rest = ", ".join(_int("substr", a).sql for a in args[1:])
    return Typed(f"dw_text_bytes(dw_substr(dw_bytes_text({args[0].sql}), {rest}))", tt.VARBINARY)


def _reverse(args: list[Typed]) -> Typed:
    _arity("reverse", args, 1)
    return Typed(f"dw_text_bytes(dw_reverse(dw_bytes_text({args[0].sql})))", tt.VARBINARY)


def _pad(name: str) -> Scalar:
    text_pad = registry.REGISTRY[name].translate
    assert text_pad is not None

    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 3)
        value, size, pad = _bin(name, args[0]), _int(name, args[1]), _bin(name, args[2])
        padded = text_pad([_bytes_text(value), size, _bytes_text(pad)])
        return Typed(f"dw_text_bytes({padded.sql})", tt.VARBINARY)

    return translate


def _from_base64(args: list[Typed]) -> Typed:
    _arity("from_base64", args, 1)
    return Typed(f"from_base64(decode({args[0].sql}))", tt.VARBINARY)


def _text_of(name: str, arg: Typed) -> str:
    """A varchar argument, or a varbinary one read as its (ASCII) text."""
    if _is_binary(arg.type):
        return f"decode({arg.sql})"
    return _str(name, arg).sql


_overload("length", _length, "varbinary", "bigint")
_overload("substr", _substr, "varbinary, start bigint[, length bigint]")
_overload("substring", _substr, "varbinary, start bigint[, length bigint]")
_overload("reverse", _reverse, "varbinary")
_overload("lpad", _pad("lpad"), "varbinary, size bigint, padbytes varbinary")
_overload("rpad", _pad("rpad"), "varbinary, size bigint, padbytes varbinary")
_overload("from_base64", _from_base64, "varbinary")


@binary.scalar("to_hex", args="varbinary", returns="varchar")
def _to_hex(args: list[Typed]) -> Typed:
    _arity("to_hex", args, 1)
    return Typed(f"hex({_bin('to_hex', args[0]).sql})", tt.VARCHAR)


@binary.scalar("from_hex", args="varchar | varbinary", returns="varbinary")
def _from_hex(args: list[Typed]) -> Typed:
    _arity("from_hex", args, 1)
    text = _text_of("from_hex", args[0])
    return Typed(
        f"list_transform([{text}], lambda __dw_h: CASE WHEN regexp_full_match(__dw_h, '([0-9A-Fa-f]{{2}})*') "
        "THEN unhex(__dw_h) ELSE unhex(dw_fail_text('invalid hexadecimal input: ' || __dw_h)) END)[1]",
        tt.VARBINARY,
    )


@binary.scalar("to_base64url", args="varbinary", returns="varchar")
def _to_base64url(args: list[Typed]) -> Typed:
    _arity("to_base64url", args, 1)
    value = _bin("to_base64url", args[0])
    return Typed(f"replace(replace(to_base64({value.sql}), '+', '-'), '/', '_')", tt.VARCHAR)


@binary.scalar("from_base64url", args="varchar | varbinary", returns="varbinary")
def _from_base64url(args: list[Typed]) -> Typed:
    _arity("from_base64url", args, 1)
    text = _text_of("from_base64url", args[0])
    # Java's URL decoder rejects + and / and does not need the padding.
    return Typed(
        f"list_transform([{text}], lambda __dw_t: CASE WHEN regexp_matches(__dw_t, '[+/]') THEN "
        "from_base64(dw_fail_text('Illegal base64url character in ' || __dw_t)) ELSE "
        "from_base64(replace(replace(__dw_t, '-', '+'), '_', '/') "
        "|| repeat('=', (4 - length(__dw_t) % 4) % 4)) "
        "END)[1]",
        tt.VARBINARY,
    )


def _digest(name: str, duck: str) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        return Typed(f"unhex({duck}({_bin(name, args[0]).sql}))", tt.VARBINARY)

    binary.scalar(name, args="varbinary", returns="varbinary")(translate)


_digest("md5", "md5")
_digest("sha1", "sha1")
_digest("sha256", "sha256")


@binary.scalar("to_base32", args="varbinary", returns="varchar")
def _to_base32(args: list[Typed]) -> Typed:
    _arity("to_base32", args, 1)
    return Typed(f"dw_to_base32({_bin('to_base32', args[0]).sql})", tt.VARCHAR)


@binary.scalar("from_base32", args="varchar | varbinary", returns="varbinary")
def _from_base32(args: list[Typed]) -> Typed:
    _arity("from_base32", args, 1)
    return Typed(f"dw_from_base32({_text_of('from_base32', args[0])})", tt.VARBINARY)


@binary.scalar("crc32", args="varbinary", returns="bigint")
def _crc32(args: list[Typed]) -> Typed:
    _arity("crc32", args, 1)
    return Typed(f"dw_crc32({_bin('crc32', args[0]).sql})", tt.BIGINT)


@binary.scalar("to_big_endian_64", args="bigint", returns="varbinary")
def _to_big_endian_64(args: list[Typed]) -> Typed:
    _arity("to_big_endian_64", args, 1)
    value = _int("to_big_endian_64", args[0])
    return Typed(f"unhex(lpad(hex(CAST({value.sql} AS BIGINT)), 16, '0'))", tt.VARBINARY)


@binary.scalar("to_big_endian_32", args="integer", returns="varbinary")
def _to_big_endian_32(args: list[Typed]) -> Typed:
    _arity("to_big_endian_32", args, 1)
    value = args[0]
    if value.type.name not in ("integer", "smallint", "tinyint", "unknown"):
        raise QueryError(f"to_big_endian_32() takes an integer, got {value.type.trino()}")
    # DuckDB's hex of a negative INTEGER is 16 digits (sign-extended): keep the last 8.
    return Typed(f"unhex(right('00000000' || hex(CAST({value.sql} AS INTEGER)), 8))", tt.VARBINARY)


def _from_big_endian(name: str, size: int, t: tt.TrinoType) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        value = _bin(name, args[0])
        bits = size * 8
        return Typed(
            f"list_transform([{value.sql}], lambda __dw_b: CASE WHEN octet_length(__dw_b) <> {size} THEN "
            f"CAST(dw_fail('expected {size}-byte input, but got instead: ' || octet_length(__dw_b)) "
            f"AS {t.duckdb()}) "
            f"ELSE CAST(list_transform([CAST('0x' || hex(__dw_b) AS HUGEINT)], lambda __dw_u: CASE WHEN "
            f"__dw_u >= {2 ** (bits - 1)} THEN __dw_u - {2**bits} ELSE __dw_u END)[1] "
            f"AS {t.duckdb()}) END)[1]",
            t,
        )

    binary.scalar(name, args="varbinary", returns=t.trino())(translate)


_from_big_endian("from_big_endian_64", 8, tt.BIGINT)
_from_big_endian("from_big_endian_32", 4, tt.INTEGER)


@binary.scalar("to_ieee754_64", args="double", returns="varbinary")
def _to_ieee754_64(args: list[Typed]) -> Typed:
    _arity("to_ieee754_64", args, 1)
    if not (args[0].type.is_numeric or args[0].type.is_unknown):
        raise QueryError(f"to_ieee754_64() takes a double, got {args[0].type.trino()}")
    return Typed(
        f"unhex(lpad(hex(dw_ieee754_bits(CAST({args[0].sql} AS DOUBLE), 11, 52)), 16, '0'))", tt.VARBINARY
    )


@binary.scalar("to_ieee754_32", args="real", returns="varbinary")
def _to_ieee754_32(args: list[Typed]) -> Typed:
    _arity("to_ieee754_32", args, 1)
    if not ((args[0].type.is_numeric and args[0].type.name != "double") or args[0].type.is_unknown):
        raise QueryError(f"to_ieee754_32() takes a real, got {args[0].type.trino()}")
    real = f"CAST(CAST({args[0].sql} AS FLOAT) AS DOUBLE)"
    return Typed(f"unhex(lpad(hex(dw_ieee754_bits({real}, 8, 23)), 8, '0'))", tt.VARBINARY)


def _from_ieee754(name: str, size: int, exponent_bits: int, fraction_bits: int, t: tt.TrinoType) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        value = _bin(name, args[0])
        return Typed(
            f"list_transform([{value.sql}], lambda __dw_b: CASE WHEN octet_length(__dw_b) <> {size} THEN "
            f"CAST(dw_fail('Input floating-point value must be exactly {size} bytes long') AS {t.duckdb()}) "
            "ELSE CAST(dw_ieee754_value(CAST('0x' || hex(__dw_b) AS UBIGINT), "
            f"{exponent_bits}, {fraction_bits}) "
            f"AS {t.duckdb()}) END)[1]",
            t,
        )

    binary.scalar(name, args="varbinary", returns=t.trino())(translate)


_from_ieee754("from_ieee754_64", 8, 11, 52, tt.DOUBLE)
_from_ieee754("from_ieee754_32", 4, 8, 23, tt.REAL)
