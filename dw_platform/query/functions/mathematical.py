"""Trino's mathematical functions (functions/math.md): each over the argument types Trino gives it,
returning the type it returns, with IEEE results where DuckDB would raise."""

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.checks import (
    Scalar,
    _arity,
    _double,
    _int,
    constant_integer,
    is_null_constant,
)
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed, arithmetic, coerce_all, scaled, unscaled
from dw_platform.query.sql import QueryError, UnsupportedQuery

math = Family("math")


# ---- math ----------------------------------------------------------------------------------------
@math.scalar("abs", args="T (a number)", returns="T")
def _abs(args: list[Typed]) -> Typed:
    _arity("abs", args, 1)
    [x] = args
    if x.type.is_unknown:
        return x
    return Typed(f"CAST(abs({x.sql}) AS {x.type.duckdb()})", x.type)


def _rounding(name: str, duck: str) -> Scalar:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        [x] = args
        t = x.type
        if t.is_integer or t.is_unknown:
            return x
        if t.name in ("double", "real"):
            return Typed(f"{duck}({x.sql})", t)
        if t.name == "decimal":
            p, s = t.precision or 0, t.scale or 0
            result = tt.decimal(p - s + min(s, 1), 0)
            return Typed(f"CAST({duck}({x.sql}) AS {result.duckdb()})", result)
        raise QueryError(f"{name}() expects a number, got {t.trino()}")

    return translate


_ROUNDED = "T; decimal(p-s+min(s,1),0) of a decimal(p,s)"
for _name in ("ceil", "ceiling"):
    math.scalar(_name, args="T (a number)", returns=_ROUNDED)(_rounding("ceil", "ceil"))
math.scalar("floor", args="T (a number)", returns=_ROUNDED)(_rounding("floor", "floor"))


@math.scalar(
    "truncate",
    args="double | real | decimal(p,s)[, n integer]",
    returns="double | real | decimal(p-s,0) | decimal(p,s) with n",
)
def _truncate(args: list[Typed]) -> Typed:
    _arity("truncate", args, 1, 2)
    if len(args) == 2:
        return _truncate_digits(args[0], args[1])
    [x] = args
    if x.type.name == "decimal":
        p, s = x.type.precision or 0, x.type.scale or 0
        result = tt.decimal(max(1, p - s), 0)
        return Typed(f"CAST(trunc({x.sql}) AS {result.duckdb()})", result)
    if x.type.name in ("double", "real"):
        return Typed(f"trunc({x.sql})", x.type)
    raise UnsupportedQuery(f"truncate() of {x.type.trino()}")


def _truncate_digits(x: Typed, n: Typed) -> Typed:
    """truncate(decimal(p,s), n): toward zero at n fractional digits, typed decimal(p,s)."""
    t = x.type if not x.type.is_unknown else tt.decimal(1, 0)
    _int("truncate", n)
    if t.name != "decimal":
        raise UnsupportedQuery(f"truncate(x, d) of {t.trino()}")
    if is_null_constant(n) or x.type.is_unknown:
        return Typed(f"CAST(NULL AS {t.duckdb()})", t)
    digits = constant_integer(n)
    if digits is None:
        raise UnsupportedQuery("truncate(x, d) with d that is not a literal")
    s = t.scale or 0
    if digits >= s:
        return Typed(x.sql, t)
    if s - digits > 38:
        return Typed(f"CAST(CASE WHEN ({x.sql}) IS NOT NULL THEN 0 END AS {t.duckdb()})", t)
    unit = 10 ** (s - digits)
    # HUGEINT division truncates toward zero, as Trino's truncate does.
    truncated = f"(({unscaled(x.sql, s, (t.precision or 38) - s)} // {unit}) * {unit})"
    return Typed(f"CAST({scaled(truncated, s)} AS {t.duckdb()})", t)


@math.scalar(
    "round", args="T (a number)[, d integer]", returns="T; decimal(p-s+min(s,1),0) | decimal(p+1,s) with d"
)
def _round(args: list[Typed]) -> Typed:
    _arity("round", args, 1, 2)
    x, t = args[0], args[0].type
    digits = 0
    if len(args) == 2:
        _int("round", args[1])
        if is_null_constant(args[1]):
            if t.name == "decimal":
                t = tt.decimal(min(38, (t.precision or 0) + 1), t.scale or 0)
            return Typed(f"CAST(NULL AS {t.duckdb()})", t) if not t.is_unknown else x
        found = constant_integer(args[1])
        if found is None:
            raise UnsupportedQuery("round(x, d) with d that is not a literal")
        digits = found
    if t.is_unknown:
        return x
    if t.is_integer:
        if digits >= 0:
            return x
        if digits < -18:  # Trino: 10^-d overflows a long
            return Typed(
                f"CAST(CASE WHEN ({x.sql}) IS NOT NULL THEN dw_fail('numerical overflow') END "
                f"AS {t.duckdb()})",
                t,
            )
        # Round half away from zero at a negative digit count, exactly; out of the type's range fails.
        return Typed(f"CAST(round(CAST({x.sql} AS DECIMAL(38,0)), {digits}) AS {t.duckdb()})", t)
    if t.name in ("double", "real"):
        if digits < 0:
            raise UnsupportedQuery("round() of a floating-point value to a negative number of digits")
        # DuckDB's round(double) is half away from zero, as Trino's.
        return Typed(f"CAST(round({x.sql}, {digits}) AS {t.duckdb()})", t)
    if t.name == "decimal":
        p, s = t.precision or 0, t.scale or 0
        if len(args) == 1:
            result = tt.decimal(p - s + min(s, 1), 0)
            return Typed(f"CAST(round({x.sql}) AS {result.duckdb()})", result)
        result = tt.decimal(min(38, p + 1), s)
        return Typed(
            f"CAST(round(CAST({x.sql} AS {result.duckdb()}), {digits}) AS {result.duckdb()})", result
        )
    raise QueryError(f"round() expects a number, got {t.trino()}")


@math.scalar("mod", args="n, m (numbers)", returns="the type of n % m")
def _mod(args: list[Typed]) -> Typed:
    _arity("mod", args, 2)
    return arithmetic("%", args[0], args[1])


def _double_function(name: str, template: str, arity: int) -> Scalar:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, arity)
        return Typed(template.format(*[_double(a) for a in args]), tt.DOUBLE)

    return translate


# Functions of doubles, as DuckDB text over the arguments cast to DOUBLE: IEEE results where DuckDB
# raises (ln(0) is -Infinity, sqrt(-1) is NaN in Trino).
_OF_DOUBLES = {
    "sqrt": "(CASE WHEN {0} < 0 THEN CAST('NaN' AS DOUBLE) ELSE sqrt({0}) END)",
    "cbrt": "cbrt({0})",
    "exp": "exp({0})",
    "ln": "dw_ln({0})",
    "log2": "(dw_ln({0}) / ln(2))",
    "log10": "dw_log10({0})",
    "power": "pow({0}, {1})",
    "pow": "pow({0}, {1})",
    "radians": "radians({0})",
    "degrees": "degrees({0})",
    "sin": "sin({0})",
    "cos": "cos({0})",
    "tan": "tan({0})",
    "atan": "atan({0})",
    "atan2": "atan2({0}, {1})",
}
for _name, _template in _OF_DOUBLES.items():
    _arguments = _template.count("{1}") + 1
    math.scalar(_name, args="double" if _arguments == 1 else "double, double", returns="double")(
        _double_function(_name, _template, _arguments)
    )

# Constants: the function of no arguments and its DuckDB text.
_CONSTANTS = {
    "pi": "pi()",
    "e": "exp(1)",
    "nan": "CAST('NaN' AS DOUBLE)",
    "infinity": "CAST('Infinity' AS DOUBLE)",
}
for _name, _text in _CONSTANTS.items():
    math.scalar(_name, args="()", returns="double")(_double_function(_name, _text, 0))


def _double_predicate(name: str, duck: str) -> Scalar:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        return Typed(f"{duck}({_double(args[0])})", tt.BOOLEAN)

    return translate


for _name, _duck in (("is_nan", "isnan"), ("is_finite", "isfinite"), ("is_infinite", "isinf")):
    math.scalar(_name, args="double", returns="boolean")(_double_predicate(_name, _duck))


@math.scalar("sign", args="T (a number)", returns="T; decimal(1,0) of a decimal")
def _sign(args: list[Typed]) -> Typed:
    _arity("sign", args, 1)
    [x] = args
    if x.type.is_integer:
        return Typed(f"CAST(sign({x.sql}) AS {x.type.duckdb()})", x.type)
    if x.type.name in ("double", "real"):
        return Typed(
            f"(CASE WHEN isnan({x.sql}) THEN {x.sql} ELSE CAST(sign({x.sql}) AS {x.type.duckdb()}) END)",
            x.type,
        )
    if x.type.name == "decimal":
        return Typed(f"CAST(sign({x.sql}) AS DECIMAL(1,0))", tt.decimal(1, 0))
    raise QueryError(f"sign() expects a number, got {x.type.trino()}")


def _extreme(name: str) -> Scalar:
    def translate(args: list[Typed]) -> Typed:
        if not args:
            raise QueryError(f"{name}() needs arguments")
        values, common = coerce_all(args, name)
        if common.name in ("timestamptz", "map", "json", "array", "row"):
            raise UnsupportedQuery(f"{name}() over {common.trino()}")
        nulls = " OR ".join(f"({v.sql}) IS NULL" for v in values)
        # Trino returns NULL when any argument is NULL; DuckDB skips NULLs.
        text = f"{name}({', '.join(v.sql for v in values)})"
        if common.name in ("double", "real"):
            # Trino skips NaN unless every value is NaN; DuckDB orders NaN above every number.
            numbers = ", ".join(f"(CASE WHEN isnan({v.sql}) THEN NULL ELSE {v.sql} END)" for v in values)
            text = f"coalesce({name}({numbers}), CAST('NaN' AS {common.duckdb()}))"
        return Typed(f"(CASE WHEN {nulls} THEN NULL ELSE {text} END)", common)

    return translate


for _name in ("greatest", "least"):
    math.scalar(_name, args="T, ... (comparable)", returns="the arguments' common type")(_extreme(_name))


@math.scalar("random", "rand", args="()", returns="double")
def _random(args: list[Typed]) -> Typed:
    _arity("random", args, 0)
    return Typed("random()", tt.DOUBLE)
