"""Trino's operators and casts as DuckDB text: each result is typed as Trino types it, and computed
so that DuckDB gives Trino's value for that type."""

import dataclasses
import re

from dw_platform.query import complex_compare
from dw_platform.query import trino_types as tt
from dw_platform.query.complex_compare import contains, is_complex, sorted_map
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType
from dw_platform.query.zoned_text import tstz_literal, zone_name


@dataclasses.dataclass(frozen=True)
class Typed:
    """DuckDB text computing a value, and the Trino type of that value."""

    sql: str
    type: TrinoType


def string_literal(value: str) -> Typed:
    return Typed("'" + value.replace("'", "''") + "'", tt.varchar(len(value)))


def literal_number(text: str) -> Typed:
    """An unquoted numeric literal: integer, bigint, decimal(p,s) or double, as Trino types it."""
    if re.fullmatch(r"\d+", text):
        value = int(text)
        if value <= 2**31 - 1:
            return Typed(str(value), tt.INTEGER)
        if value <= 2**63 - 1:
            return Typed(f"CAST({value} AS BIGINT)", tt.BIGINT)
        raise QueryError(f"the integer literal {text} is out of range for bigint")
    decimal = re.fullmatch(r"(\d*)\.(\d*)", text)
    if decimal:
        whole, fraction = decimal.groups()
        precision, scale = max(1, len(whole.lstrip("0") + fraction)), len(fraction)  # 0.3: decimal(1,1)
        t = tt.decimal(precision, scale)
        return Typed(f"CAST('{text}' AS {t.duckdb()})", t)
    if re.fullmatch(r"(\d+\.?\d*|\.\d+)[eE][-+]?\d+", text):
        return Typed(f"CAST('{text}' AS DOUBLE)", tt.DOUBLE)
    raise QueryError(f"cannot read the number {text!r}")


# ---- casts --------------------------------------------------------------------------------------
# Trino's text form of a timestamp: date, optional time (seconds and fraction optional).
_TIMESTAMP_TEXT = r"^\s*\d{4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,12})?)?)?\s*$"
_DATE_TEXT = r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$"
# The same followed by a zone (a name or an offset), which a cast to timestamp drops.
_ZONED_TIMESTAMP_TEXT = (
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,12})?)?)?)\s*"
    r"([+-]\d{1,2}(:?\d{2})?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$"
)


def cast(value: Typed, target: TrinoType, *, safe: bool = False) -> Typed:
    """CAST (or TRY_CAST with safe=True) with Trino's rules."""
    source = value.type
    if source == target:
        return value
    if source.is_unknown:
        return Typed(f"CAST(NULL AS {target.duckdb()})", target)
    text = _cast_text(value, source, target)
    if safe:
        text = f"TRY({text})"
    return Typed(text, target)


def _cast_text(value: Typed, source: TrinoType, target: TrinoType) -> str:
    v = value.sql
    d = target.duckdb()
    if target.is_integer:
        if source.name in ("double", "real"):
            # Trino rounds half away from zero; DuckDB's CAST rounds half to even.
            return f"CAST(round({v}) AS {d})"
        if source.is_integer or source.name == "decimal" or source.name == "boolean":
            return f"CAST({v} AS {d})"
        if source.is_string:
            return f"CAST(dw_integer_text({v}) AS {d})"
    if target.name == "decimal":
        if source.name in ("double", "real"):
            # Trino reads the value's Java text (REAL 1234567940 is 1.23456794E9), not its binary value.
            nsig = 53 if source.name == "double" else 24
            # DuckDB does not check the precision of text with an exponent (1e+20 fits decimal(20,0)).
            wide = f"CAST(dw_java_float_text({v}, {nsig}) AS DECIMAL(38,{target.scale}))"
            limit = f"1e{(target.precision or 38) - (target.scale or 0)}"
            return (
                f"list_transform([{wide}], lambda __dw_d: CASE WHEN abs(__dw_d) >= {limit} THEN "
                f"CAST(dw_fail('Cannot cast {source.name.upper()} to {target.trino()}') AS {d}) "
                f"ELSE CAST(__dw_d AS {d}) END)[1]"
            )
        if source.is_numeric:
            return f"CAST({v} AS {d})"
        if source.is_string:
            return f"CAST(dw_decimal_text({v}) AS {d})"
        if source.name == "boolean":  # true is 1, false 0
            return f"CAST(CAST({v} AS INTEGER) AS {d})"
    if target.name in ("double", "real"):
        if source.is_numeric:
            return f"CAST({v} AS {d})"
        if source.is_string:
            return f"CAST(dw_double_text({v}) AS {d})"
        if source.name == "boolean":
            return f"CAST(CAST({v} AS INTEGER) AS {d})"
    if target.is_char:
        if not (source.is_string or source.is_char):
            raise UnsupportedQuery(f"CAST from {source.trino()} to {target.trino()}")
        return f"rpad(left({v}, {target.length}), {target.length}, ' ')"  # truncated, then padded
    if target.is_string:
        text = to_varchar(value)
        if target.length is not None:
            if source.is_string or source.is_char:
                return f"left({text}, {target.length})"  # an explicit cast of a string truncates
            return (
                f"(CASE WHEN length({text}) > {target.length} THEN error('Value cannot be represented as "
                f"varchar({target.length})') ELSE {text} END)"
            )
        return text
    if target.name == "boolean":
        if source.is_string:
            return f"dw_boolean_text({v})"
        if source.is_numeric:
            return f"({v} <> 0)"
    if target.name == "date":
        if source.is_string:
            checked = f"dw_checked({v}, regexp_matches({v}, '{_DATE_TEXT}'), 'Value cannot be cast to date')"
            return f"CAST({checked} AS DATE)"
        if source.name == "timestamp":
            return f"CAST({v} AS DATE)"
        if source.name == "timestamptz":
            return f"CAST(dw_tstz_local({v}) AS DATE)"
    if target.name == "timestamp":
        precision = target.precision or 0
        if source.is_string:
            literal = re.fullmatch(r"'((?:[^']|'')*)'", v)
            if literal:
                v = _local_text_literal(literal.group(1).replace("''", "'"))
            checked = (
                f"CAST(dw_checked({v}, regexp_matches({v}, '{_TIMESTAMP_TEXT}'), "
                f"'Value cannot be cast to timestamp') AS TIMESTAMP)"
            )
            if precision == 6:  # DuckDB's cast drops digits past the microsecond: round on the 7th
                checked = (
                    f"({checked} + CASE WHEN regexp_matches({v}, '\\.\\d{{6}}[5-9]') "
                    "THEN INTERVAL 1 MICROSECOND ELSE INTERVAL 0 MICROSECOND END)"
                )
            return round_timestamp(checked, precision)
        if source.name == "date":
            return f"CAST({v} AS TIMESTAMP)"
        if source.name == "timestamp":
            return round_timestamp(v, precision) if precision < (source.precision or 0) else v
        if source.name == "timestamptz":
            return round_timestamp(f"dw_tstz_local({v})", precision)
    if target.name == "timestamptz":
        precision = target.precision or 0
        if source.name == "timestamp":
            return f"dw_tstz(timezone('UTC', {round_timestamp(v, precision)}), 'UTC')"
        if source.name == "date":
            return f"dw_tstz(timezone('UTC', CAST({v} AS TIMESTAMP)), 'UTC')"
        if source.name == "timestamptz":
            return v
        literal = re.fullmatch(r"'((?:[^']|'')*)'", v)
        if source.is_string and literal:
            return tstz_literal(literal.group(1).replace("''", "'"), precision)
    if target.name == "varbinary" and source.is_string:
        return f"encode({v})"  # the text's UTF-8 bytes
    if target.name == "json" or source.name == "json":
        from dw_platform.query.functions.json_functions import json_cast

        return json_cast(value, target)
    if target.name in ("array", "map", "row"):
        from dw_platform.query.complex_casts import complex_cast

        text = complex_cast(value, target)
        if text is not None:
            return text
    if target.name == "array" and source.name == "array":
        element = cast(Typed("__dw_x", source.element), target.element)
        return f"list_transform({v}, lambda __dw_x: {element.sql})"
    raise UnsupportedQuery(f"CAST from {source.trino()} to {target.trino()}")


def _local_text_literal(text: str) -> str:
    """A string literal cast to timestamp: a zone after the time is dropped (Trino keeps the local
    time) if it is one; years beyond 4 digits are refused."""
    year = re.match(r"\s*([+-]?\d+)-", text)
    if year and not re.fullmatch(r"\d{4}", year.group(1)):
        raise UnsupportedQuery("a timestamp before the year 1 or after 9999")
    zoned = re.fullmatch(_ZONED_TIMESTAMP_TEXT, text)
    if zoned:
        try:
            zone_name(zoned.group(5))
            text = zoned.group(1)
        except QueryError:
            pass  # Trino fails on a zone it does not know: the text fails when the statement runs
    return "'" + text.replace("'", "''") + "'"


def round_timestamp(sql: str, precision: int) -> str:
    """A timestamp rounded to `precision` fractional digits, half up, as Trino's casts do."""
    if precision >= 6:
        return sql
    unit = 10 ** (6 - precision)
    return f"dw_round_timestamp({sql}, {unit})"


def to_varchar(value: Typed) -> str:
    """Trino's text of a value (CAST(x AS varchar))."""
    t, v = value.type, value.sql
    if t.is_string or t.is_char:  # a char(n) keeps its padding
        return v
    if t.is_integer:
        return f"CAST({v} AS VARCHAR)"
    if t.name == "decimal":  # DuckDB prints -.001 where Trino prints -0.001
        return f"regexp_replace(CAST({v} AS VARCHAR), '^(-?)[.]', '\\10.')"
    if t.name == "boolean":
        return f"CASE WHEN {v} THEN 'true' WHEN NOT {v} THEN 'false' END"
    if t.name == "date":
        return f"strftime({v}, '%Y-%m-%d')"
    if t.name == "timestamp":
        return timestamp_text(v, t.precision or 0)
    if t.name == "timestamptz":
        return f"dw_tstz_text({v}, {t.precision})"
    if t.name == "json":
        from dw_platform.query.functions.json_functions import from_json

        return from_json(v, tt.VARCHAR)  # a JSON string's value, not its quoted text
    if t.name in ("double", "real"):
        # 3.77E1: Java's DecimalFormat in scientific form, 16 significant digits (a real's: 7).
        return f"dw_double_varchar(CAST({v} AS DOUBLE), {16 if t.name == 'double' else 7})"
    raise UnsupportedQuery(f"CAST from {t.trino()} to varchar")


def timestamp_text(sql: str, precision: int) -> str:
    if precision == 0:
        return f"strftime({sql}, '%Y-%m-%d %H:%M:%S')"
    return f"(strftime({sql}, '%Y-%m-%d %H:%M:%S.') || substr(strftime({sql}, '%f'), 1, {precision}))"


def coerce(value: Typed, target: TrinoType) -> Typed:
    """Implicit coercion to a common super type (never a narrowing)."""
    if value.type == target:
        return value
    if value.type.is_string and target.is_string:
        return Typed(value.sql, target)
    if value.type.is_char and target.is_char and value.type.length == target.length:
        return Typed(value.sql, target)
    return cast(value, target)


def coerce_all(values: list[Typed], what: str) -> tuple[list[Typed], TrinoType]:
    common: TrinoType | None = tt.UNKNOWN
    for value in values:
        common = tt.common_super_type(common, value.type) if common else None
    if common is None:
        names = {v.type.name for v in values}
        if "timestamptz" in names and names & {"timestamp", "date"}:
            # Trino reads the plain value in the session's zone (a client setting; UTC on Athena).
            raise UnsupportedQuery(f"{what} of timestamp with time zone and date or timestamp")
        types = ", ".join(v.type.trino() for v in values)
        raise QueryError(f"{what}: no common type for {types}")
    return [coerce(v, common) for v in values], common


# ---- arithmetic ------------------------------------------------------------------------------------
def arithmetic(op: str, left: Typed, right: Typed) -> Typed:
    a, b = left.type, right.type
    if a.is_unknown and b.is_unknown:
        return Typed("CAST(NULL AS INTEGER)", tt.INTEGER)
    if a.is_unknown:
        left, a = Typed(f"CAST(NULL AS {b.duckdb()})", b), b
    if b.is_unknown:
        right, b = Typed(f"CAST(NULL AS {a.duckdb()})", a), a
    if a.is_temporal or b.is_temporal or a.name.startswith("interval") or b.name.startswith("interval"):
        from dw_platform.query.datetime_ops import temporal_arithmetic

        return temporal_arithmetic(op, left, right)
    if not (a.is_numeric and b.is_numeric):
        raise QueryError(f"cannot apply {op} to {a.trino()} and {b.trino()}")
    if a.is_integer and b.is_integer:
        t = tt.common_super_type(a, b)
        assert t is not None
        duck = {"+": "+", "-": "-", "*": "*", "/": "//", "%": "%"}[op]
        return Typed(f"CAST(({left.sql}) {duck} ({right.sql}) AS {t.duckdb()})", t)
    if a.name in ("double", "real") or b.name in ("double", "real"):
        t = tt.DOUBLE if "double" in (a.name, b.name) else tt.REAL
        # IEEE semantics in both: x / 0 is an infinity or NaN, % is the remainder with the dividend's sign.
        l_, r_ = f"CAST({left.sql} AS {t.duckdb()})", f"CAST({right.sql} AS {t.duckdb()})"
        return Typed(f"({l_} {op} {r_})", t)
    return _decimal_arithmetic(op, left, right)


def _decimal_arithmetic(op: str, left: Typed, right: Typed) -> Typed:
    x, y = tt.as_decimal(left.type), tt.as_decimal(right.type)
    xp, xs, yp, ys = x.precision, x.scale, y.precision, y.scale
    assert xp is not None and xs is not None and yp is not None and ys is not None
    lx, ry = f"CAST({left.sql} AS {x.duckdb()})", f"CAST({right.sql} AS {y.duckdb()})"
    if op in ("+", "-"):
        scale = max(xs, ys)
        t = tt.decimal(min(38, 1 + scale + max(xp - xs, yp - ys)), scale)
        return Typed(
            f"CAST(CAST({lx} AS {_wide(scale)}) {op} CAST({ry} AS {_wide(scale)}) AS {t.duckdb()})", t
        )
    if op == "*":
        if xs + ys > 38:
            raise UnsupportedQuery(f"decimal multiplication beyond scale 38 ({x.trino()} * {y.trino()})")
        # Trino: decimal(min(38, xp + yp), xs + ys), failing where the product overflows; so does DuckDB.
        t = tt.decimal(min(38, xp + yp), xs + ys)
        return Typed(f"CAST({lx} * {ry} AS {t.duckdb()})", t)
    if op == "/":
        scale = max(xs, ys)
        t = tt.decimal(min(38, xp + ys + max(0, ys - xs)), scale)
        # Exact: the unscaled integers, one integer division rounded half up (away from zero).
        k = ys + scale - xs
        numerator = f"({unscaled(lx, xs, xp - xs)} * {10**k})"
        if xp + k > 38:
            # The exact numerator needs more than 128 bits for the largest dividends: refuse those.
            numerator = (
                f"(CASE WHEN abs({unscaled(lx, xs, xp - xs)}) >= {10 ** (38 - k)} THEN error('not supported "
                f"by the local engine: decimal division of a dividend this large') ELSE {numerator} END)"
            )
        quotient = f"dw_decimal_quotient({numerator}, {unscaled(ry, ys, yp - ys)})"
        return Typed(f"CAST({scaled(quotient, scale)} AS {t.duckdb()})", t)
    if op == "%":
        scale = max(xs, ys)
        t = tt.decimal(min(38, min(xp - xs, yp - ys) + scale), scale)
        k = scale - xs
        if yp - ys + scale + k > 38:
            raise UnsupportedQuery(f"decimal modulus beyond 38 digits ({x.trino()} % {y.trino()})")
        # (a * 10^k) mod m as ((a mod m) * 10^k) mod m: the dividend is never rescaled past 38 digits.
        modulus = unscaled(ry, scale, yp - ys)
        remainder = f"dw_remainder(dw_remainder({unscaled(lx, xs, xp - xs)}, {modulus}) * {10**k}, {modulus})"
        return Typed(f"CAST({scaled(remainder, scale)} AS {t.duckdb()})", t)
    raise QueryError(f"unknown operator {op}")


def unscaled(decimal_sql: str, scale: int, integral: int | None = None) -> str:
    """The unscaled integer of a decimal (42.85 at scale 2 -> 4285), exactly, as HUGEINT."""
    if scale > 18:
        raise UnsupportedQuery("decimal division or modulus at a scale above 18")
    wide = f"CAST({decimal_sql} AS DECIMAL(38,{scale}))"
    if scale == 0:
        return f"CAST({wide} AS HUGEINT)"
    if integral is not None and integral + 2 * scale <= 38:
        # `integral` integer digits at most: DuckDB's multiplication by 10^scale cannot overflow.
        return f"CAST({wide} * {10**scale} AS HUGEINT)"
    # Whole and fractional parts apart: DuckDB multiplies a decimal's 38-digit unscaled value itself.
    return (
        f"list_transform([{wide}], lambda __dw_u: CAST(trunc(__dw_u) AS HUGEINT) * {10**scale} "
        f"+ CAST((__dw_u - trunc(__dw_u)) * {10**scale} AS HUGEINT))[1]"
    )


def scaled(hugeint_sql: str, scale: int) -> str:
    """A decimal from its unscaled integer (4285 at scale 2 -> 42.85), exactly."""
    if scale == 0:
        return f"CAST({hugeint_sql} AS DECIMAL(38,0))"
    unit = f"CAST('{10.0**-scale:.{scale}f}' AS DECIMAL({scale + 1},{scale}))"
    return f"(CAST({hugeint_sql} AS DECIMAL(38,0)) * {unit})"


def _wide(scale: int) -> str:
    return f"DECIMAL(38,{scale})"


def negate(value: Typed) -> Typed:
    t = value.type
    if not (t.is_numeric or t.name.startswith("interval") or t.is_unknown):
        raise QueryError(f"cannot negate a value of type {t.trino()}")
    return Typed(f"CAST(-({value.sql}) AS {t.duckdb()})" if not t.is_unknown else value.sql, t)


# ---- comparisons ---------------------------------------------------------------------------------
def comparable(left: Typed, right: Typed, op: str) -> tuple[Typed, Typed]:
    (l_, r_), common = coerce_all([left, right], f"comparison {op}")
    if common.name == "timestamptz":
        # Trino compares the instants; the zones do not take part.
        return Typed(f"({l_.sql}).i", common), Typed(f"({r_.sql}).i", common)
    if holds_tstz(common):
        # DuckDB would compare the zones too: one instant written in two zones is equal in Trino.
        raise UnsupportedQuery(f"comparing values of type {common.trino()}")
    if contains(common, ("map",)) and op not in ("=", "<>", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"):
        raise QueryError(f"values of type {common.trino()} cannot be ordered")
    if contains(common, ("json",)) and op not in ("=", "<>", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"):
        raise QueryError(f"values of type {common.trino()} cannot be ordered")
    if contains(common, ("map",)) and op in ("IS DISTINCT FROM", "IS NOT DISTINCT FROM"):
        # DuckDB compares a map's entries in order; Trino's maps are equal in any order.
        return _canonical_maps(l_), _canonical_maps(r_)
    return l_, r_


def _canonical_maps(value: Typed) -> Typed:
    """The value with every map in it in key order (see complex_compare)."""
    t = value.type
    if t.name == "map":
        if contains(t.elements[1], ("map",)):
            raise UnsupportedQuery(f"IS DISTINCT FROM over {t.trino()}")
        return Typed(sorted_map(value.sql), t)
    raise UnsupportedQuery(f"IS DISTINCT FROM over {t.trino()}")


def holds_tstz(t: TrinoType) -> bool:
    """Whether values of `t` are or hold a timestamp with time zone."""
    return t.name == "timestamptz" or any(holds_tstz(e) for e in t.elements)


def comparison(op: str, left: Typed, right: Typed) -> Typed:
    l_, r_ = comparable(left, right, op)
    if is_complex(l_.type):
        if op in ("=", "<>"):
            equal = complex_compare.equal(l_.sql, r_.sql, l_.type)
            return Typed(equal if op == "=" else f"(NOT {equal})", tt.BOOLEAN)
        return Typed(complex_compare.ordering(op, l_.sql, r_.sql, l_.type), tt.BOOLEAN)
    if l_.type.name in ("double", "real") or r_.type.name in ("double", "real"):
        # IEEE: NaN is unequal to everything, itself included, and neither smaller nor greater;
        # DuckDB orders NaN above every number and equal to itself.
        nan = "true" if op == "<>" else "false"
        return Typed(
            f"(CASE WHEN isnan({l_.sql}) OR isnan({r_.sql}) THEN {nan} ELSE ({l_.sql}) {op} ({r_.sql}) END)",
            tt.BOOLEAN,
        )
    return Typed(f"(({l_.sql}) {op} ({r_.sql}))", tt.BOOLEAN)
