"""Trino's radix conversions (to_base, from_base) and width_bucket as DuckDB text.

Digits are produced and read with list_reduce over the digit positions, exactly, in HUGEINT; the
checks and messages follow Trino's MathFunctions (Java's Long.parseLong / Long.toString).
"""

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.checks import _arity, _double, _int, _str
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed
from dw_platform.query.sql import QueryError

math = Family("math")

_DIGITS = "'0123456789abcdefghijklmnopqrstuvwxyz'"
_RADIX = "CAST(dw_fail('Radix must be between 2 and 36') AS {t})"


@math.scalar("to_base", args="x bigint, radix bigint", returns="varchar")
def _to_base(args: list[Typed]) -> Typed:
    _arity("to_base", args, 2)
    value, radix = _int("to_base", args[0]), _int("to_base", args[1])
    text = (
        f"list_transform([{{'x': CAST({value.sql} AS HUGEINT), 'r': CAST({radix.sql} AS BIGINT)}}], "
        "lambda __dw_a: "
        "CASE WHEN __dw_a.x IS NULL OR __dw_a.r IS NULL THEN NULL "
        f"WHEN __dw_a.r < 2 OR __dw_a.r > 36 THEN {_RADIX.format(t='VARCHAR')} "
        "ELSE (CASE WHEN __dw_a.x < 0 THEN '-' ELSE '' END) || coalesce(nullif(list_reduce(range(64), "
        "lambda __dw_s, __dw_i: CASE WHEN __dw_s.n = 0 THEN __dw_s ELSE {'n': __dw_s.n // __dw_a.r, "
        f"'t': substr({_DIGITS}, CAST(__dw_s.n % __dw_a.r AS INTEGER) + 1, 1) || __dw_s.t}} END, "
        "{'n': abs(__dw_a.x), 't': ''}).t, ''), '0') END)[1]"
    )
    return Typed(text, tt.varchar(64))


@math.scalar("from_base", args="varchar, radix bigint", returns="bigint")
def _from_base(args: list[Typed]) -> Typed:
    _arity("from_base", args, 2)
    value, radix = _str("from_base", args[0]), _int("from_base", args[1])
    digits = "string_split(lower(ltrim(__dw_a.s, '+-')), '')"
    number = (
        f"list_reduce({digits}, lambda __dw_n, __dw_c: __dw_n * __dw_a.r + strpos({_DIGITS}, __dw_c) - 1, "
        "CAST(0 AS HUGEINT))"
    )
    valid = (
        "regexp_full_match(__dw_a.s, '[+-]?[0-9A-Za-z]+') AND "
        f"list_bool_and(list_transform({digits}, lambda __dw_c: strpos({_DIGITS}, __dw_c) <= __dw_a.r))"
    )
    invalid = "CAST(dw_fail('Not a valid base-' || __dw_a.r || ' number: ' || __dw_a.s) AS BIGINT)"
    text = (
        f"list_transform([{{'s': {value.sql}, 'r': CAST({radix.sql} AS BIGINT)}}], lambda __dw_a: "
        "CASE WHEN __dw_a.s IS NULL OR __dw_a.r IS NULL THEN NULL "
        f"WHEN __dw_a.r < 2 OR __dw_a.r > 36 THEN {_RADIX.format(t='BIGINT')} "
        f"WHEN NOT ({valid}) OR length(__dw_a.s) > 70 THEN {invalid} "
        f"ELSE list_transform([(CASE WHEN __dw_a.s[1] = '-' THEN -1 ELSE 1 END) * {number}], lambda __dw_v: "
        f"CASE WHEN __dw_v < -9223372036854775808 OR __dw_v > 9223372036854775807 THEN {invalid} "
        "ELSE CAST(__dw_v AS BIGINT) END)[1] END)[1]"
    )
    return Typed(text, tt.BIGINT)


@math.scalar(
    "width_bucket", args="x, bound1, bound2 double, n bigint | x double, bins array(double)", returns="bigint"
)
def _width_bucket(args: list[Typed]) -> Typed:
    _arity("width_bucket", args, 2, 4)
    x = _double(args[0])
    if len(args) == 2:
        return _width_bucket_bins(x, args[1])
    low, high, count = _double(args[1]), _double(args[2]), _int("width_bucket", args[3])
    fail = "CAST(dw_fail('{}') AS BIGINT)"
    text = (
        f"list_transform([{{'x': {x}, 'a': {low}, 'b': {high}, 'n': CAST({count.sql} AS BIGINT)}}], "
        "lambda w: "
        "CASE WHEN w.x IS NULL OR w.a IS NULL OR w.b IS NULL OR w.n IS NULL THEN NULL "
        f"WHEN w.n <= 0 THEN {fail.format('bucketCount must be greater than 0')} "
        f"WHEN isnan(w.x) THEN {fail.format('operand must not be NaN')} "
        f"WHEN NOT isfinite(w.a) THEN {fail.format('first bound must be finite')} "
        f"WHEN NOT isfinite(w.b) THEN {fail.format('second bound must be finite')} "
        f"WHEN w.a = w.b THEN {fail.format('bounds cannot equal each other')} "
        "ELSE list_transform([CASE WHEN w.x < least(w.a, w.b) THEN 0 "
        "WHEN w.x >= greatest(w.a, w.b) THEN w.n + 1 ELSE CAST(trunc(w.n * (w.x - least(w.a, w.b)) "
        "/ (greatest(w.a, w.b) - least(w.a, w.b)) + 1) AS BIGINT) "
        "END], lambda r: CASE WHEN w.a > w.b THEN w.n - r + 1 ELSE r END)[1] END)[1]"
    )
    return Typed(text, tt.BIGINT)


def _width_bucket_bins(x: str, bins: Typed) -> Typed:
    if not (bins.type.name == "array" and bins.type.element.is_numeric):
        raise QueryError(f"width_bucket() takes an array of numbers, got {bins.type.trino()}")
    # Trino's binary search answers the number of bins not above x when the bins are sorted and
    # finite; other arrays it may answer or reject depending on the bins it visits: refused here.
    text = (
        f"list_transform([{{'x': {x}, 'b': list_transform({bins.sql}, lambda e: CAST(e AS DOUBLE))}}], "
        "lambda w: CASE WHEN w.x IS NULL OR w.b IS NULL THEN NULL "
        "WHEN len(w.b) = 0 THEN CAST(dw_fail('Bins cannot be an empty array') AS BIGINT) "
        "WHEN isnan(w.x) THEN CAST(dw_fail('Operand cannot be NaN') AS BIGINT) "
        "WHEN w.b <> list_sort(w.b) OR NOT list_bool_and(list_transform(w.b, lambda e: isfinite(e))) THEN "
        "error('not supported by the local engine: width_bucket() over bins that are not sorted and finite') "
        "ELSE CAST(len(list_filter(w.b, lambda e: e <= w.x)) AS BIGINT) END)[1]"
    )
    return Typed(text, tt.BIGINT)


def _wilson(name: str, sign: str) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 3)
        successes, trials, z = _int(name, args[0]), _int(name, args[1]), _double(args[2])
        fail = "CAST(dw_fail('{}') AS DOUBLE)"
        # The Wilson score interval's bound: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
        bound = (
            f"(w.s / w.n + w.z * w.z / (2 * w.n) {sign} w.z * sqrt(w.s / w.n * (1 - w.s / w.n) / w.n "
            "+ w.z * w.z / (4 * w.n * w.n))) / (1 + w.z * w.z / w.n)"
        )
        text = (
            f"list_transform([{{'s': CAST({successes.sql} AS DOUBLE), 'n': CAST({trials.sql} AS DOUBLE), "
            f"'z': {z}}}], lambda w: CASE WHEN w.s IS NULL OR w.n IS NULL OR w.z IS NULL THEN NULL "
            f"WHEN w.s < 0 THEN {fail.format('number of successes must not be negative')} "
            f"WHEN w.n <= 0 THEN {fail.format('number of trials must be positive')} "
            "WHEN w.s > w.n THEN "
            f"{fail.format('number of successes must not be larger than number of trials')} "
            f"WHEN w.z < 0 THEN {fail.format('z-score must not be negative')} "
            f"ELSE {bound} END)[1]"
        )
        return Typed(text, tt.DOUBLE)

    math.scalar(name, args="successes bigint, trials bigint, z double", returns="double")(translate)


_wilson("wilson_interval_lower", "-")
_wilson("wilson_interval_upper", "+")


_DATA_SIZE = r"^[ \t\n\x0B\f\r]*([0-9]+)(?:\.([0-9]+))?[ \t\n\x0B\f\r]*([a-zA-Z]+)[ \t\n\x0B\f\r]*$"
_UNITS = "['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB']"


@Family("conversion").scalar("parse_data_size", args="varchar", returns="decimal(38,0)")
def _parse_data_size(args: list[Typed]) -> Typed:
    _arity("parse_data_size", args, 1)
    value = _str("parse_data_size", args[0])
    invalid = "CAST(dw_fail('Invalid data size: ''' || __dw_s || '''') AS DECIMAL(38,0))"
    # integer * 1024^k + fraction * 1024^k // 10^digits: BigDecimal's product, truncated.
    text = (
        f"list_transform([{value.sql}], lambda __dw_s: "
        f"list_transform([regexp_extract(__dw_s, '{_DATA_SIZE}', "
        "['i', 'f', 'u'])], lambda p: list_transform([list_position("
        f"{_UNITS}, p.u) - 1], lambda k: CASE WHEN __dw_s IS NULL THEN NULL "
        f"WHEN p.i = '' OR k IS NULL THEN {invalid} "
        "WHEN length(p.f) > 14 THEN error('not supported by the local engine: parse_data_size() with more "
        "than 14 fractional digits') "
        "ELSE CAST(CAST(p.i AS HUGEINT) * CAST(pow(1024, k) AS HUGEINT) + CASE WHEN p.f = '' THEN 0 ELSE "
        "CAST(p.f AS HUGEINT) * CAST(pow(1024, k) AS HUGEINT) // CAST(pow(10, length(p.f)) AS HUGEINT) END "
        "AS DECIMAL(38,0)) END)[1])[1])[1]"
    )
    return Typed(text, tt.decimal(38, 0))
