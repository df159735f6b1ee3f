"""Trino's string functions (functions/string.md) and the byte-text conversions of varchar
(to_utf8, from_utf8, base64); varbinary overloads of some are in binary_functions.py, the rest of the
page in text_functions.py."""

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.checks import Scalar, _arity, _expect, _int, _str, constant_integer
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed, coerce_all
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

strings = Family("strings")


def concat_values(values: list[Typed]) -> Typed:
    if len(values) < 2:
        raise QueryError("There must be two or more concatenation arguments")
    if all(v.type.is_string or v.type.is_unknown for v in values):
        # Trino's concat (and ||) of varchar values is an unbounded varchar whatever the lengths.
        return Typed("(" + " || ".join(f"({v.sql})" for v in values) + ")", tt.VARCHAR)
    if all(v.type.name == "varbinary" or v.type.is_unknown for v in values):
        return Typed("(" + " || ".join(f"({v.sql})" for v in values) + ")", tt.VARBINARY)
    if len(values) == 2 and tt.common_super_type(values[0].type, values[1].type) is None:
        from dw_platform.query.functions.array_functions import element_concat

        with_element = element_concat(values)  # array || element, element || array
        if with_element is not None:
            return with_element
    if all(v.type.name == "array" or v.type.is_unknown for v in values):
        coerced, common = coerce_all(values, "concat")
        # Trino: any NULL array makes the result NULL.
        nulls = " OR ".join(f"({v.sql}) IS NULL" for v in coerced)
        return Typed(
            f"(CASE WHEN {nulls} THEN NULL ELSE list_concat({', '.join(v.sql for v in coerced)}) END)", common
        )
    types = ", ".join(v.type.trino() for v in values)
    raise UnsupportedQuery(f"concatenation of {types}")


strings.scalar(
    "concat",
    args="varchar, ... | varbinary, ... | array(T), ... | array(T), T",
    returns="varchar | varbinary | array(T)",
)(concat_values)


@strings.scalar("concat_ws", args="varchar, varchar, ... | varchar, array(varchar)", returns="varchar")
def _concat_ws(args: list[Typed]) -> Typed:
    if len(args) < 2:
        raise QueryError("concat_ws() needs a separator and at least one value")
    separator = _str("concat_ws", args[0])
    if len(args) == 2 and args[1].type.name == "array" and args[1].type.element.is_string:
        # The array form skips NULL elements too; a NULL array or separator gives NULL.
        return Typed(f"array_to_string({args[1].sql}, {separator.sql})", tt.VARCHAR)
    for a in args[1:]:
        if a.type.is_char:
            raise UnsupportedQuery("concat_ws() of char(n) values")
        if not (a.type.is_string or a.type.is_unknown):
            raise QueryError(f"concat_ws() takes varchar values or one array(varchar), got {a.type.trino()}")
    return Typed(f"concat_ws({', '.join(a.sql for a in args)})", tt.VARCHAR)


def _padded(arg: Typed) -> Typed:
    """A char(n) argument read as its padded text (Trino's length and substr of a char see it)."""
    return Typed(arg.sql, tt.varchar(arg.type.length)) if arg.type.is_char else arg


@strings.scalar("length", args="varchar | char(n)", returns="bigint")
def _length(args: list[Typed]) -> Typed:
    _arity("length", args, 1)
    return Typed(f"CAST(length({_str('length', _padded(args[0])).sql}) AS BIGINT)", tt.BIGINT)


@strings.scalar("lower", args="varchar(n)", returns="varchar(n)")
def _lower(args: list[Typed]) -> Typed:
    _arity("lower", args, 1)
    x = _str("lower", args[0])
    return Typed(f"lower({x.sql})", x.type if not x.type.is_unknown else tt.VARCHAR)


@strings.scalar("upper", args="varchar(n)", returns="varchar(n)")
def _upper(args: list[Typed]) -> Typed:
    _arity("upper", args, 1)
    x = _str("upper", args[0])
    # Java maps each code point alone and keeps ß (it has no one-letter capital); DuckDB gives ẞ.
    text = (
        f"(CASE WHEN strpos({x.sql}, 'ß') > 0 THEN array_to_string("
        f"list_transform(string_split({x.sql}, 'ß'), "
        f"lambda __dw_p: upper(__dw_p)), 'ß') ELSE upper({x.sql}) END)"
    )
    return Typed(text, x.type if not x.type.is_unknown else tt.VARCHAR)


# Java's whitespace (Character.isWhitespace), which Trino's trim functions remove.
_WHITESPACE = (
    "' \t\n\u000b\f\r\u001c\u001d\u001e\u001f\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2008\u2009\u200a\u2028\u2029\u205f\u3000'"
)


def _trim_with(name: str, args: list[Typed]) -> Typed:
    _arity(name, args, 1, 2)
    x = _str(name, args[0])
    chars = _str(name, args[1]).sql if len(args) == 2 else _WHITESPACE
    return Typed(f"{name}({x.sql}, {chars})", x.type if not x.type.is_unknown else tt.VARCHAR)


def _trimming(name: str) -> Scalar:
    return lambda args: _trim_with(name, args)


for _name in ("trim", "ltrim", "rtrim"):
    strings.scalar(_name, args="varchar(n)[, chars varchar]", returns="varchar(n)")(_trimming(_name))


def _trim(tr: "Translator", node: exp.Trim, scope: Scope) -> Typed:
    position = (node.args.get("position") or "BOTH").upper()
    name = {"BOTH": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}[position]
    args = [tr.expr(node.this, scope)]
    if node.args.get("expression") is not None:
        args.append(tr.expr(node.args["expression"], scope))
    return _trim_with(name, args)


def _positive_literal(sql: str) -> bool:
    return re.fullmatch(r"[1-9]\d{0,8}", sql) is not None


@strings.scalar(
    "substr", "substring", args="varchar(n) | char(n), start bigint[, length bigint]", returns="varchar(n)"
)
def _substr(args: list[Typed]) -> Typed:
    _arity("substr", args, 2, 3)
    x = _str("substr", _padded(args[0]))
    start = _int("substr", args[1]).sql
    length = _int("substr", args[2]).sql if len(args) == 3 else "1"
    if _positive_literal(start) and _positive_literal(length):
        # Positive literal start and length: DuckDB's substring is Trino's (NULL in, NULL out; ''
        # past the end) without the macro's checks on every row.
        return Typed(f"substring({x.sql}, {', '.join(a.sql for a in args[1:])})", tt.varchar(x.type.length))
    if len(args) == 2:
        return Typed(f"dw_substr({x.sql}, {start})", tt.varchar(x.type.length))
    return Typed(f"dw_substr({x.sql}, {start}, {_int('substr', args[2]).sql})", tt.varchar(x.type.length))


@strings.scalar("strpos", args="varchar, substring varchar[, instance bigint]", returns="bigint")
def _strpos(args: list[Typed]) -> Typed:
    _arity("strpos", args, 2, 3)
    if len(args) == 3:
        value, part, instance = _str("strpos", args[0]), _str("strpos", args[1]), _int("strpos", args[2])
        return Typed(f"dw_strpos({value.sql}, {part.sql}, CAST({instance.sql} AS BIGINT))", tt.BIGINT)
    return Typed(
        f"CAST(strpos({_str('strpos', args[0]).sql}, {_str('strpos', args[1]).sql}) AS BIGINT)", tt.BIGINT
    )


@strings.scalar("starts_with", args="varchar, prefix varchar", returns="boolean")
def _starts_with(args: list[Typed]) -> Typed:
    _arity("starts_with", args, 2)
    return Typed(
        f"starts_with({_str('starts_with', args[0]).sql}, {_str('starts_with', args[1]).sql})", tt.BOOLEAN
    )


@strings.scalar(
    "replace",
    args="varchar(x), search varchar[, replace varchar(z)]",
    returns="varchar(x) | varchar(x + z * (x + 1))",
)
def _replace(args: list[Typed]) -> Typed:
    _arity("replace", args, 2, 3)
    x, search = _str("replace", args[0]), _str("replace", args[1])
    if len(args) == 2:
        return Typed(f"replace({x.sql}, {search.sql}, '')", tt.varchar(x.type.length))
    replacement = _str("replace", args[2])
    # An empty search string puts the replacement before each character and at the end in Trino.
    text = (
        f"(CASE WHEN ({search.sql}) <> '' THEN replace({x.sql}, {search.sql}, {replacement.sql}) "
        f"WHEN ({x.sql}) = '' THEN {replacement.sql} ELSE ({replacement.sql}) || array_to_string("
        f"list_transform(string_split({x.sql}, ''), lambda __dw_c: __dw_c || ({replacement.sql})), '') END)"
    )
    # Trino: varchar(x + z * (x + 1)), the longest an empty search string can make it.
    n, z = x.type.length, replacement.type.length
    length = None if n is None or z is None else min(2147483647, n + z * (n + 1))
    return Typed(text, tt.varchar(length))


def _pad(name: str) -> Scalar:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 3)
        x, size, pad = _str(name, args[0]), _int(name, args[1]), _str(name, args[2])
        return Typed(
            f"(CASE WHEN ({pad.sql}) = '' THEN dw_fail_text('Padding string must not be empty') "
            f"WHEN ({size.sql}) < 0 THEN dw_fail_text('Target length must be in the range [0..2147483647]') "
            f"ELSE {name}({x.sql}, CAST({size.sql} AS INTEGER), {pad.sql}) END)",
            tt.VARCHAR,
        )

    return translate


for _name in ("lpad", "rpad"):
    strings.scalar(_name, args="varchar, size bigint, padstring varchar", returns="varchar")(_pad(_name))


@strings.scalar("split", args="varchar(n), delimiter varchar[, limit bigint]", returns="array(varchar(n))")
def _split(args: list[Typed]) -> Typed:
    _arity("split", args, 2, 3)
    x, delimiter = _str("split", args[0]), _str("split", args[1])
    limit = f"CAST({_int('split', args[2]).sql} AS BIGINT)" if len(args) == 3 else "NULL"
    return Typed(
        f"dw_split({x.sql}, {delimiter.sql}, {limit}, {len(args) == 3})", tt.array(tt.varchar(x.type.length))
    )


@strings.literals("split_part", args="varchar(n), delimiter varchar, index bigint", returns="varchar(n)")
def _split_part(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("split_part", args, 3)
    x, delimiter, index = (
        _str("split_part", args[0]),
        _str("split_part", args[1]),
        _int("split_part", args[2]),
    )
    return Typed(f"dw_split_part({x.sql}, {delimiter.sql}, {index.sql})", tt.varchar(x.type.length))


@strings.scalar("chr", args="bigint", returns="varchar(1)")
def _chr(args: list[Typed]) -> Typed:
    _arity("chr", args, 1)
    code = f"CAST({_int('chr', args[0]).sql} AS BIGINT)"
    return Typed(
        f"list_transform([{code}], lambda __dw_n: CASE WHEN __dw_n < 0 OR __dw_n > 1114111 "
        "THEN dw_fail_text('Not a valid Unicode code point: ' || __dw_n) "
        "ELSE chr(CAST(__dw_n AS INTEGER)) END)[1]",
        tt.varchar(1),
    )


@strings.scalar("codepoint", args="varchar(1)", returns="integer")
def _codepoint(args: list[Typed]) -> Typed:
    _arity("codepoint", args, 1)
    x = _str("codepoint", args[0])
    if x.type.length != 1:
        raise QueryError("codepoint() takes a varchar(1)")
    return Typed(f"CAST(unicode({x.sql}) AS INTEGER)", tt.INTEGER)


@strings.scalar("levenshtein_distance", args="varchar, varchar", returns="bigint")
def _levenshtein(args: list[Typed]) -> Typed:
    _arity("levenshtein_distance", args, 2)
    a, b = (_str("levenshtein_distance", x) for x in args)
    return Typed(f"CAST(dw_levenshtein({a.sql}, {b.sql}) AS BIGINT)", tt.BIGINT)


@strings.scalar("hamming_distance", args="varchar, varchar", returns="bigint")
def _hamming(args: list[Typed]) -> Typed:
    _arity("hamming_distance", args, 2)
    a, b = (_str("hamming_distance", x) for x in args)
    return Typed(
        f"(CASE WHEN length({a.sql}) <> length({b.sql}) THEN dw_fail('The input strings to hamming_distance "
        f"function must have the same length') WHEN length({a.sql}) = 0 THEN CAST(0 AS BIGINT) "
        f"ELSE CAST(dw_hamming({a.sql}, {b.sql}) AS BIGINT) END)",
        tt.BIGINT,
    )


@strings.scalar("translate", args="source varchar, from varchar, to varchar", returns="varchar")
def _translate(args: list[Typed]) -> Typed:
    _arity("translate", args, 3)
    a, b, c = (_str("translate", x) for x in args)
    return Typed(f"translate({a.sql}, {b.sql}, {c.sql})", tt.VARCHAR)


@strings.scalar("to_base64", args="varbinary", returns="varchar")
def _to_base64(args: list[Typed]) -> Typed:
    _arity("to_base64", args, 1)
    _expect("to_base64", args[0], lambda t: t.name == "varbinary", "varbinary")
    return Typed(f"to_base64({args[0].sql})", tt.VARCHAR)


@strings.scalar("from_base64", args="varchar", returns="varbinary")
def _from_base64(args: list[Typed]) -> Typed:
    _arity("from_base64", args, 1)
    return Typed(f"from_base64({_str('from_base64', args[0]).sql})", tt.VARBINARY)


@strings.scalar("to_utf8", args="varchar", returns="varbinary")
def _to_utf8(args: list[Typed]) -> Typed:
    _arity("to_utf8", args, 1)
    return Typed(f"encode({_str('to_utf8', args[0]).sql})", tt.VARBINARY)


@strings.scalar("from_utf8", args="varbinary[, replace varchar | bigint]", returns="varchar")
def _from_utf8(args: list[Typed]) -> Typed:
    _arity("from_utf8", args, 1, 2)
    _expect("from_utf8", args[0], lambda t: t.name == "varbinary", "varbinary")
    # Invalid sequences become U+FFFD exactly as Trino's decoder splits them (query/utf8.py).
    decoded = f"dw_from_utf8({args[0].sql})"
    if len(args) == 1:
        return Typed(decoded, tt.VARCHAR)
    replacement = _utf8_replacement(args[1]).replace("'", "''")
    # Another replacement is put in U+FFFD's place: exact unless the input holds U+FFFD itself.
    return Typed(
        f"(CASE WHEN contains(hex({args[0].sql}), 'EFBFBD') THEN error('not supported by the local engine: "
        f"from_utf8() with a replacement of input holding U+FFFD') "
        f"ELSE replace({decoded}, '\ufffd', '{replacement}') END)",
        tt.VARCHAR,
    )


def _utf8_replacement(arg: Typed) -> str:
    """from_utf8's replacement argument: one character, none, or a code point, as a literal."""
    if arg.type.is_string:
        found = re.fullmatch(r"'((?:[^']|'')*)'", arg.sql)
        if found is None:
            raise UnsupportedQuery("from_utf8() with a replacement that is not a literal")
        text = found.group(1).replace("''", "'")
        if len(text) > 1:
            raise QueryError("Replacement character string must empty or a single character")
        return text
    code = constant_integer(arg) if arg.type.is_integer else None
    if code is None:
        raise UnsupportedQuery("from_utf8() with a replacement that is not a literal")
    if not 0 <= code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise QueryError(f"Invalid replacement character: {code}")
    return chr(code)
