"""Trino's functions by name, each typed as Trino types it and emitted as DuckDB text that gives
Trino's value. A function that is not in this table is refused by name."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import complex_compare
from dw_platform.query import trino_types as tt
from dw_platform.query.contract_aggregates import CONTRACT_AGGREGATES, contract_aggregate, note
from dw_platform.query.instant_keys import instant_of, refuse_nested
from dw_platform.query.listagg import listagg
from dw_platform.query.operators import (
    Typed,
    arithmetic,
    cast,
    coerce,
    coerce_all,
    holds_tstz,
    scaled,
    unscaled,
)
from dw_platform.query.regex import java_regex, shape
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

Scalar = Callable[[list[Typed]], Typed]
SCALARS: dict[str, Scalar] = {}
# Functions whose local implementation can fail at run time where Athena would answer (a refusal
# raised inside the query): TRY(...) must not turn that refusal into a NULL.
REFUSES_AT_RUN_TIME = {
    "json_extract_scalar",
    "json_extract",
    "json_size",
    "json_array_length",
    "json_array_contains",
    "json_array_get",
    "contains_sequence",
    "repeat",
    "regexp_like",
    "regexp_extract",
    "regexp_extract_all",
    "regexp_replace",
    "regexp_split",
    "regexp_count",
}


def scalar(*names: str) -> Callable[[Scalar], Scalar]:
    def register(function: Scalar) -> Scalar:
        for name in names:
            SCALARS[name] = function
        return function

    return register


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


# ---- calls ---------------------------------------------------------------------------------------
# sqlglot's own nodes for some of Trino's functions and special forms, by the name Trino gives them.
TRINO_NAMES: dict[type, str] = {
    exp.ParseJSON: "json_parse",
    exp.JSONObject: "JSON_OBJECT",
    exp.JSONArray: "JSON_ARRAY",
    exp.JSONExists: "JSON_EXISTS",
    exp.JSONValue: "JSON_VALUE",
    exp.JSONExtract: "JSON_QUERY",
    exp.GroupConcat: "listagg",
    exp.Normalize: "normalize",
}


def function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def call(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    name = function_name(node)
    if isinstance(node, exp.CurrentTimestamp):
        return Typed("dw_tstz(date_trunc('millisecond', get_current_timestamp()), 'UTC')", tt.timestamptz(3))
    if isinstance(node, exp.CurrentDate):
        return Typed("CAST(timezone('UTC', get_current_timestamp()) AS DATE)", tt.DATE)
    if isinstance(node, exp.Extract):
        from dw_platform.query.datetime_ops import extract_field

        return extract_field(node.this.name.lower(), tr.expr(node.expression, scope), in_extract=True)
    if isinstance(node, exp.Substring):
        args = [node.this, node.args.get("start"), node.args.get("length")]
        return SCALARS["substr"]([tr.expr(a, scope) for a in args if a is not None])
    if isinstance(node, exp.StrPosition):
        return SCALARS["strpos"]([tr.expr(node.this, scope), tr.expr(node.args["substr"], scope)])
    if isinstance(node, exp.Trim):
        return _trim(tr, node, scope)
    if isinstance(node, exp.Chr):
        return SCALARS["chr"]([tr.expr(a, scope) for a in node.expressions])
    if isinstance(node, exp.Normalize):
        form = node.args.get("form")
        if form and form.name.upper() != "NFC":
            raise UnsupportedQuery(f"normalize() to {form.name.upper()}")
        value = _str("normalize", tr.expr(node.this, scope))
        return Typed(f"nfc_normalize({value.sql})", tt.VARCHAR)
    if isinstance(node, exp.AtTimeZone):
        from dw_platform.query.datetime_ops import at_timezone

        return at_timezone(tr.expr(node.this, scope), tr.expr(node.args["zone"], scope))
    if isinstance(node, exp.Coalesce):  # written by sqlglot for a JOIN ... USING column
        return SCALARS["coalesce"]([tr.expr(a, scope) for a in [node.this, *node.expressions]])
    if isinstance(node, exp.GroupConcat):  # sqlglot's reading of listagg(...) WITHIN GROUP (...)
        return listagg(tr, node, scope)
    if isinstance(node, exp.ParseJSON):  # JSON 'x' (json_parse(x) is a plain call)
        from dw_platform.query.json_functions import json_literal

        if node.args.get("is_literal") and isinstance(node.this, exp.Literal) and node.this.is_string:
            return json_literal(node.this.this)
        return SCALARS["json_parse"]([tr.expr(node.this, scope)])
    if not isinstance(node, exp.Anonymous):
        raise UnsupportedQuery(f"the function {TRINO_NAMES.get(type(node), name)}")
    raw = list(node.expressions)
    if name in AGGREGATES:
        return aggregate(tr, node, scope)
    if name in WINDOW_ONLY:
        raise QueryError(f"{name}() needs an OVER clause")
    if name in LAMBDA_FUNCTIONS:
        return LAMBDA_FUNCTIONS[name](tr, raw, scope)
    if name == "try":
        return _try(tr, raw, scope)
    if name == "regexp_replace" and len(raw) == 3 and isinstance(raw[2], exp.Lambda):
        return _regexp_replace_lambda(tr, raw, scope)
    if name == "grouping":  # the grouping-set bitmask: the same standard definition in DuckDB
        if not raw:
            raise QueryError("grouping() needs at least one argument")
        return Typed(f"grouping({', '.join(tr.expr(a, scope).sql for a in raw)})", tt.BIGINT)
    if name in LITERAL_ARG_FUNCTIONS:
        # These need some arguments as literals (patterns, paths) to be translated exactly.
        literals = [_literal_string(a) for a in raw]
        args = [tr.expr(a, scope) for a in raw]
        return LITERAL_ARG_FUNCTIONS[name](args, literals)
    function = SCALARS.get(name)
    if function is None:
        raise UnsupportedQuery(f"the function {name}()")
    return function([tr.expr(a, scope) for a in raw])


def _try(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    """try(x): NULL where Trino's evaluation of x fails. The local engine's own run-time refusals use
    DuckDB's error(), which DuckDB will not evaluate under TRY, so a refusal never turns into NULL."""
    _arity("try", raw, 1)
    for inner in raw[0].find_all(exp.Anonymous):
        if function_name(inner) in REFUSES_AT_RUN_TIME:
            raise UnsupportedQuery(f"try() around {function_name(inner)}()")
    value = tr.expr(raw[0], scope)
    return Typed(f"TRY({value.sql})", value.type)


# ---- math ----------------------------------------------------------------------------------------
@scalar("abs")
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


SCALARS["ceil"] = SCALARS["ceiling"] = _rounding("ceil", "ceil")
SCALARS["floor"] = _rounding("floor", "floor")


@scalar("truncate")
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


@scalar("round")
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


@scalar("mod")
def _mod(args: list[Typed]) -> Typed:
    _arity("mod", args, 2)
    return arithmetic("%", args[0], args[1])


def _double_function(name: str, template: str, arity: int = 1) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, arity)
        return Typed(template.format(*[_double(a) for a in args]), tt.DOUBLE)

    SCALARS[name] = translate


# IEEE results where DuckDB raises (ln(0) is -Infinity, sqrt(-1) is NaN in Trino).
_double_function("sqrt", "(CASE WHEN {0} < 0 THEN CAST('NaN' AS DOUBLE) ELSE sqrt({0}) END)")
_double_function("cbrt", "cbrt({0})")
_double_function("exp", "exp({0})")
_double_function("ln", "dw_ln({0})")
_double_function("log2", "(dw_ln({0}) / ln(2))")
_double_function("log10", "dw_log10({0})")
_double_function("power", "pow({0}, {1})", 2)
_double_function("pow", "pow({0}, {1})", 2)
_double_function("radians", "radians({0})")
_double_function("degrees", "degrees({0})")
_double_function("sin", "sin({0})")
_double_function("cos", "cos({0})")
_double_function("tan", "tan({0})")
_double_function("atan", "atan({0})")
_double_function("atan2", "atan2({0}, {1})", 2)
SCALARS["pi"] = lambda args: (_arity("pi", args, 0), Typed("pi()", tt.DOUBLE))[1]
SCALARS["e"] = lambda args: (_arity("e", args, 0), Typed("exp(1)", tt.DOUBLE))[1]
SCALARS["nan"] = lambda args: (_arity("nan", args, 0), Typed("CAST('NaN' AS DOUBLE)", tt.DOUBLE))[1]
SCALARS["infinity"] = lambda args: (
    _arity("infinity", args, 0),
    Typed("CAST('Infinity' AS DOUBLE)", tt.DOUBLE),
)[1]


def _double_predicate(name: str, duck: str) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        return Typed(f"{duck}({_double(args[0])})", tt.BOOLEAN)

    SCALARS[name] = translate


for _name, _duck in (("is_nan", "isnan"), ("is_finite", "isfinite"), ("is_infinite", "isinf")):
    _double_predicate(_name, _duck)


@scalar("sign")
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


def _distinct_by_instant(distinct: bool, args: list[Typed]) -> None:
    """DuckDB tells a timestamp with time zone apart by its zone too, Trino by its instant only."""
    if distinct and any(holds_tstz(a.type) for a in args):
        raise UnsupportedQuery("DISTINCT in an aggregate over timestamp with time zone values")


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


SCALARS["greatest"] = _extreme("greatest")
SCALARS["least"] = _extreme("least")


@scalar("random", "rand")
def _random(args: list[Typed]) -> Typed:
    _arity("random", args, 0)
    return Typed("random()", tt.DOUBLE)


# ---- conditional ---------------------------------------------------------------------------------
@scalar("coalesce")
def _coalesce(args: list[Typed]) -> Typed:
    values, common = coerce_all(args, "coalesce")
    return Typed(f"COALESCE({', '.join(v.sql for v in values)})", common)


@scalar("nullif")
def _nullif(args: list[Typed]) -> Typed:
    _arity("nullif", args, 2)
    (a, b), _ = coerce_all(args, "nullif")
    return Typed(
        f"(CASE WHEN ({a.sql}) = ({b.sql}) THEN NULL ELSE {coerce(args[0], args[0].type).sql} END)",
        args[0].type,
    )


@scalar("typeof")
def _typeof(args: list[Typed]) -> Typed:
    _arity("typeof", args, 1)
    name = args[0].type.trino()
    # The argument is still evaluated, so typeof(avg(x)) remains an aggregate.
    return Typed(
        f"(CASE WHEN ({args[0].sql}) IS NULL THEN '{name}' ELSE '{name}' END)", tt.varchar(len(name))
    )


# ---- strings -------------------------------------------------------------------------------------
def concat_values(values: list[Typed]) -> Typed:
    if len(values) < 2:
        raise QueryError("There must be two or more concatenation arguments")
    if all(v.type.is_string or v.type.is_unknown for v in values):
        # Trino's concat (and ||) of varchar values is an unbounded varchar whatever the lengths.
        return Typed("(" + " || ".join(f"({v.sql})" for v in values) + ")", tt.VARCHAR)
    if all(v.type.name == "varbinary" or v.type.is_unknown for v in values):
        return Typed("(" + " || ".join(f"({v.sql})" for v in values) + ")", tt.VARBINARY)
    if len(values) == 2 and tt.common_super_type(values[0].type, values[1].type) is None:
        from dw_platform.query.array_functions import element_concat

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


SCALARS["concat"] = concat_values


@scalar("concat_ws")
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


@scalar("length")
def _length(args: list[Typed]) -> Typed:
    _arity("length", args, 1)
    return Typed(f"CAST(length({_str('length', _padded(args[0])).sql}) AS BIGINT)", tt.BIGINT)


def _same_string(name: str, duck: str) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        x = _str(name, args[0])
        return Typed(f"{duck}({x.sql})", x.type if not x.type.is_unknown else tt.VARCHAR)

    SCALARS[name] = translate


_same_string("lower", "lower")
# DuckDB's reverse() keeps grapheme clusters together ('e' + U+0301 stays in order); Trino
# reverses code points, as string_split(x, '') lists them.
_same_string("reverse", "dw_reverse")


@scalar("upper")
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
SCALARS["trim"] = lambda args: _trim_with("trim", args)
SCALARS["ltrim"] = lambda args: _trim_with("ltrim", args)
SCALARS["rtrim"] = lambda args: _trim_with("rtrim", args)


def _trim_with(name: str, args: list[Typed]) -> Typed:
    _arity(name, args, 1, 2)
    x = _str(name, args[0])
    chars = _str(name, args[1]).sql if len(args) == 2 else _WHITESPACE
    return Typed(f"{name}({x.sql}, {chars})", x.type if not x.type.is_unknown else tt.VARCHAR)


def _trim(tr: "Translator", node: exp.Trim, scope: Scope) -> Typed:
    position = (node.args.get("position") or "BOTH").upper()
    name = {"BOTH": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}[position]
    args = [tr.expr(node.this, scope)]
    if node.args.get("expression") is not None:
        args.append(tr.expr(node.args["expression"], scope))
    return _trim_with(name, args)


def _positive_literal(sql: str) -> bool:
    return re.fullmatch(r"[1-9]\d{0,8}", sql) is not None


@scalar("substr", "substring")
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


@scalar("strpos")
def _strpos(args: list[Typed]) -> Typed:
    _arity("strpos", args, 2, 3)
    if len(args) == 3:
        value, part, instance = _str("strpos", args[0]), _str("strpos", args[1]), _int("strpos", args[2])
        return Typed(f"dw_strpos({value.sql}, {part.sql}, CAST({instance.sql} AS BIGINT))", tt.BIGINT)
    return Typed(
        f"CAST(strpos({_str('strpos', args[0]).sql}, {_str('strpos', args[1]).sql}) AS BIGINT)", tt.BIGINT
    )


@scalar("starts_with")
def _starts_with(args: list[Typed]) -> Typed:
    _arity("starts_with", args, 2)
    return Typed(
        f"starts_with({_str('starts_with', args[0]).sql}, {_str('starts_with', args[1]).sql})", tt.BOOLEAN
    )


@scalar("replace")
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


SCALARS["lpad"] = _pad("lpad")
SCALARS["rpad"] = _pad("rpad")


@scalar("split")
def _split(args: list[Typed]) -> Typed:
    _arity("split", args, 2, 3)
    x, delimiter = _str("split", args[0]), _str("split", args[1])
    limit = f"CAST({_int('split', args[2]).sql} AS BIGINT)" if len(args) == 3 else "NULL"
    return Typed(
        f"dw_split({x.sql}, {delimiter.sql}, {limit}, {len(args) == 3})", tt.array(tt.varchar(x.type.length))
    )


def _split_part(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("split_part", args, 3)
    x, delimiter, index = (
        _str("split_part", args[0]),
        _str("split_part", args[1]),
        _int("split_part", args[2]),
    )
    return Typed(f"dw_split_part({x.sql}, {delimiter.sql}, {index.sql})", tt.varchar(x.type.length))


@scalar("chr")
def _chr(args: list[Typed]) -> Typed:
    _arity("chr", args, 1)
    code = f"CAST({_int('chr', args[0]).sql} AS BIGINT)"
    return Typed(
        f"list_transform([{code}], lambda __dw_n: CASE WHEN __dw_n < 0 OR __dw_n > 1114111 "
        "THEN dw_fail_text('Not a valid Unicode code point: ' || __dw_n) "
        "ELSE chr(CAST(__dw_n AS INTEGER)) END)[1]",
        tt.varchar(1),
    )


@scalar("codepoint")
def _codepoint(args: list[Typed]) -> Typed:
    _arity("codepoint", args, 1)
    x = _str("codepoint", args[0])
    if x.type.length != 1:
        raise QueryError("codepoint() takes a varchar(1)")
    return Typed(f"CAST(unicode({x.sql}) AS INTEGER)", tt.INTEGER)


@scalar("levenshtein_distance")
def _levenshtein(args: list[Typed]) -> Typed:
    _arity("levenshtein_distance", args, 2)
    a, b = (_str("levenshtein_distance", x) for x in args)
    return Typed(f"CAST(dw_levenshtein({a.sql}, {b.sql}) AS BIGINT)", tt.BIGINT)


@scalar("hamming_distance")
def _hamming(args: list[Typed]) -> Typed:
    _arity("hamming_distance", args, 2)
    a, b = (_str("hamming_distance", x) for x in args)
    return Typed(
        f"(CASE WHEN length({a.sql}) <> length({b.sql}) THEN dw_fail('The input strings to hamming_distance "
        f"function must have the same length') WHEN length({a.sql}) = 0 THEN CAST(0 AS BIGINT) "
        f"ELSE CAST(dw_hamming({a.sql}, {b.sql}) AS BIGINT) END)",
        tt.BIGINT,
    )


@scalar("translate")
def _translate(args: list[Typed]) -> Typed:
    _arity("translate", args, 3)
    a, b, c = (_str("translate", x) for x in args)
    return Typed(f"translate({a.sql}, {b.sql}, {c.sql})", tt.VARCHAR)


@scalar("to_base64")
def _to_base64(args: list[Typed]) -> Typed:
    _arity("to_base64", args, 1)
    _expect("to_base64", args[0], lambda t: t.name == "varbinary", "varbinary")
    return Typed(f"to_base64({args[0].sql})", tt.VARCHAR)


@scalar("from_base64")
def _from_base64(args: list[Typed]) -> Typed:
    _arity("from_base64", args, 1)
    return Typed(f"from_base64({_str('from_base64', args[0]).sql})", tt.VARBINARY)


@scalar("to_utf8")
def _to_utf8(args: list[Typed]) -> Typed:
    _arity("to_utf8", args, 1)
    return Typed(f"encode({_str('to_utf8', args[0]).sql})", tt.VARBINARY)


@scalar("from_utf8")
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


# ---- regular expressions -------------------------------------------------------------------------
def _pattern(name: str, literal: str | None) -> tuple[str, str]:
    if literal is None:
        raise UnsupportedQuery(f"{name}() with a pattern that is not a literal")
    return java_regex(literal)


def _guarded(value: Typed, guard: str, body: str, name: str) -> str:
    if not guard:
        return body
    return (
        f"(CASE WHEN regexp_matches({value.sql}, '{guard}') THEN error('not supported by the local engine: "
        f"{name}() where Java and RE2 regular expressions differ on this input') ELSE {body} END)"
    )


def _regexp_like(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_like", args, 2)
    value = _str("regexp_like", args[0])
    pattern, guard = _pattern("regexp_like", literals[1])
    return Typed(
        _guarded(value, guard, f"regexp_matches({value.sql}, '{pattern}')", "regexp_like"), tt.BOOLEAN
    )


def _group_count(pattern: str) -> int:
    return shape(pattern).groups


def _regexp_extract(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_extract", args, 2, 3)
    value = _str("regexp_extract", args[0])
    pattern, guard = _pattern("regexp_extract", literals[1])
    group = 0
    if len(args) == 3:
        if not (isinstance(args[2].sql, str) and re.fullmatch(r"\d+", args[2].sql)):
            raise UnsupportedQuery("regexp_extract() with a group that is not a literal")
        group = int(args[2].sql)
    groups = _group_count(literals[1] or "")
    if group > groups:
        raise QueryError(f"Pattern has {groups} groups. Cannot access group {group}")
    if group and ("|" in (literals[1] or "") or re.search(r"\)[?*]|\)\{0", literals[1] or "")):
        raise UnsupportedQuery("regexp_extract() of a group that may not take part in the match")
    # DuckDB gives '' where Trino gives NULL (no match): a non-empty extract is a match, so only an
    # empty one is tested again (DuckDB evaluates the repeated extract once: one regex run per row).
    extracted = f"regexp_extract({value.sql}, '{pattern}', {group})"
    matched = f"regexp_matches({value.sql}, '{pattern}')"
    body = f"(CASE WHEN {extracted} <> '' THEN {extracted} WHEN {matched} THEN '' END)"
    return Typed(_guarded(value, guard, body, "regexp_extract"), tt.varchar(value.type.length))


def _regexp_extract_all(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_extract_all", args, 2, 3)
    value = _str("regexp_extract_all", args[0])
    pattern, guard = _pattern("regexp_extract_all", literals[1])
    group = int(args[2].sql) if len(args) == 3 and re.fullmatch(r"\d+", args[2].sql) else 0
    if len(args) == 3 and not re.fullmatch(r"\d+", args[2].sql):
        raise UnsupportedQuery("regexp_extract_all() with a group that is not a literal")
    if group > _group_count(literals[1] or ""):
        raise QueryError(f"Pattern has {_group_count(literals[1] or '')} groups. Cannot access group {group}")
    if group and ("|" in (literals[1] or "") or re.search(r"\)[?*]|\)\{0", literals[1] or "")):
        raise UnsupportedQuery("regexp_extract_all() of a group that may not take part in the match")
    body = f"regexp_extract_all({value.sql}, '{pattern}', {group})"
    return Typed(_guarded(value, guard, body, "regexp_extract_all"), tt.array(tt.varchar(value.type.length)))


def _java_replacement(replacement: str, groups: int, names: dict[str, int]) -> str:
    """Trino's replacement syntax as RE2's: `$g` names the longest group number that exists
    (`$10` is group 1 then `0` with fewer than ten groups), `\\c` is a literal c."""
    out, i = [], 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\":
            if i + 1 == len(replacement):
                raise QueryError(f"Illegal replacement sequence: {replacement}")
            out.append("\\\\" if replacement[i + 1] == "\\" else replacement[i + 1])
            i += 2
        elif char == "$":
            found = re.match(r"\d+", replacement[i + 1 :])
            named = re.match(r"\{([^}]*)\}", replacement[i + 1 :])
            if named:
                if named.group(1) not in names:
                    raise QueryError(f"Illegal replacement sequence: unknown group {{ {named.group(1)} }}")
                if names[named.group(1)] > 9:
                    raise UnsupportedQuery("regexp_replace() with a reference to group 10 or above")
                out.append("\\" + str(names[named.group(1)]))
                i += 1 + len(named.group(0))
                continue
            if not found:
                raise QueryError(f"Illegal replacement sequence: {replacement}")
            digits = found.group(0)
            if int(digits[0]) > groups:
                raise QueryError(f"Illegal replacement sequence: unknown group {digits[0]}")
            used = 1
            while used < len(digits) and int(digits[: used + 1]) <= groups:
                used += 1
            group = int(digits[:used])
            if group > 9:
                raise UnsupportedQuery("regexp_replace() with a reference to group 10 or above")
            out.append("\\" + str(group))
            i += 1 + used
        else:
            out.append(char)
            i += 1
    return "".join(out).replace("'", "''")


def _regexp_replace(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_replace", args, 2, 3)
    value = _str("regexp_replace", args[0])
    pattern, guard = _pattern("regexp_replace", literals[1])
    form = shape(literals[1] or "")
    if form.may_match_empty and not form.only_empty:
        # After a non-empty match Java also replaces an empty match at the same place; RE2 does not.
        raise UnsupportedQuery("regexp_replace() with a pattern that can match both empty and non-empty text")
    n = value.type.length
    if len(args) == 3:
        if literals[2] is None:
            raise UnsupportedQuery("regexp_replace() with a replacement that is not a literal")
        replacement = _java_replacement(literals[2], form.groups, form.names)
        y = args[2].type.length
        # Trino: varchar(x + max(x * y / 2, y) * (x + 1)), its bound for any pattern.
        result = tt.varchar(
            None if n is None or y is None else min(2147483647, n + max(n * y // 2, y) * (n + 1))
        )
    else:
        replacement, result = "", tt.varchar(n)
    body = f"regexp_replace({value.sql}, '{pattern}', '{replacement}', 'g')"
    return Typed(_guarded(value, guard, body, "regexp_replace"), result)


def _regexp_replace_lambda(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    """regexp_replace(s, pattern, x -> ...): each match replaced by the lambda of its groups (x[1]
    is group 1); a NULL from the lambda makes the whole result NULL."""
    value = _str("regexp_replace", tr.expr(raw[0], scope))
    literal = _literal_string(raw[1])
    pattern, guard = _pattern("regexp_replace", literal)
    form = shape(literal or "")
    if form.may_match_empty:
        raise UnsupportedQuery("regexp_replace() with a lambda and a pattern that can match empty text")
    if "|" in (literal or "") or re.search(r"\)[?*]|\)\{0", literal or ""):
        raise UnsupportedQuery("regexp_replace() with a lambda over groups that may not take part in a match")
    names, body = _lambda(tr, raw[2], scope, [tt.array(tt.VARCHAR)])
    if not (body.type.is_string or body.type.is_unknown):
        raise QueryError(f"regexp_replace()'s lambda must return varchar, got {body.type.trino()}")
    # Between the pieces regexp_split leaves, the i-th match's groups, as regexp_extract_all finds them.
    groups = ", ".join(
        f"regexp_extract_all(__dw_s, '{pattern}', {k})[__dw_i]" for k in range(1, form.groups + 1)
    )
    x = f"[{groups}]" if groups else "CAST([] AS VARCHAR[])"
    lambda_ = _lambda_text(names, body)
    replaced = f"list_transform(range(1, len(__dw_p)), lambda __dw_i: list_transform([{x}], {lambda_})[1])"
    joined = (
        "array_to_string(list_transform(range(1, len(__dw_p)), "
        "lambda __dw_i: __dw_p[__dw_i] || __dw_r[__dw_i]), '') || __dw_p[len(__dw_p)]"
    )
    text = (
        f"list_transform([{value.sql}], lambda __dw_s: "
        f"list_transform([regexp_split_to_array(__dw_s, '{pattern}')], "
        f"lambda __dw_p: list_transform([{replaced}], lambda __dw_r: CASE WHEN __dw_s IS NULL OR "
        f"list_bool_or(list_transform(__dw_r, lambda __dw_v: __dw_v IS NULL)) THEN NULL ELSE {joined} "
        "END)[1])[1])[1]"
    )
    return Typed(_guarded(value, guard, text, "regexp_replace"), tt.VARCHAR)


def _regexp_split(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_split", args, 2)
    value = _str("regexp_split", args[0])
    pattern, guard = _pattern("regexp_split", literals[1])
    if literals[1] == "":
        # Java splits around every empty match: an empty piece first and last, one per character between.
        pieces = f"CASE WHEN ({value.sql}) = '' THEN [] ELSE string_split({value.sql}, '') END"
        body = f"list_concat([''], {pieces}, [''])"
        body = f"(CASE WHEN ({value.sql}) IS NULL THEN NULL ELSE {body} END)"
    elif shape(literals[1] or "").may_match_empty:
        raise UnsupportedQuery("regexp_split() with a pattern that can match empty text")
    else:
        body = f"regexp_split_to_array({value.sql}, '{pattern}')"
    return Typed(_guarded(value, guard, body, "regexp_split"), tt.array(tt.varchar(value.type.length)))


def _regexp_count(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_count", args, 2)
    value = _str("regexp_count", args[0])
    pattern, guard = _pattern("regexp_count", literals[1])
    body = f"CAST(len(regexp_extract_all({value.sql}, '{pattern}')) AS BIGINT)"
    return Typed(_guarded(value, guard, body, "regexp_count"), tt.BIGINT)


# ---- JSON: json_functions.py (registered as it is imported, below) ---------------------------------


# ---- date and time -------------------------------------------------------------------------------
def _datetime(name: str) -> Callable[..., Typed]:
    from dw_platform.query import datetime_ops

    return getattr(datetime_ops, name)


for _name in (
    "date_diff",
    "date_add",
    "date_trunc",
    "from_iso8601_timestamp",
    "from_iso8601_date",
    "to_iso8601",
    "at_timezone",
    "with_timezone",
    "from_unixtime",
    "to_unixtime",
    "last_day_of_month",
    "now",
    "hour",
    "minute",
    "second",
    "millisecond",
    "day",
    "day_of_month",
    "day_of_week",
    "dow",
    "day_of_year",
    "doy",
    "week",
    "week_of_year",
    "month",
    "quarter",
    "year",
    "year_of_week",
    "yow",
    "date",
    "timezone_hour",
    "timezone_minute",
):
    SCALARS[_name] = (lambda n: lambda args: _datetime("call")(n, args))(_name)


def _format_datetime(args: list[Typed], literals: list[str | None]) -> Typed:
    return _datetime("format_datetime")(args, literals)


def _date_format(args: list[Typed], literals: list[str | None]) -> Typed:
    return _datetime("date_format")(args, literals)


def _date_parse(args: list[Typed], literals: list[str | None]) -> Typed:
    return _datetime("date_parse")(args, literals)


LITERAL_ARG_FUNCTIONS: dict[str, Callable[[list[Typed], list[str | None]], Typed]] = {
    "format_datetime": _format_datetime,
    "date_format": _date_format,
    "date_parse": _date_parse,
    "regexp_like": _regexp_like,
    "regexp_extract": _regexp_extract,
    "regexp_extract_all": _regexp_extract_all,
    "regexp_replace": _regexp_replace,
    "regexp_split": _regexp_split,
    "regexp_count": _regexp_count,
    "split_part": _split_part,
}


# ---- arrays and maps -----------------------------------------------------------------------------
def array_constructor(values: list[Typed]) -> Typed:
    if not values:
        return Typed("[]", tt.array(tt.UNKNOWN))
    coerced, common = coerce_all(values, "ARRAY[...]")
    element = common if not common.is_unknown else tt.UNKNOWN
    return Typed("[" + ", ".join(v.sql for v in coerced) + "]", tt.array(element))


def subscript(value: Typed, keys: list[Typed]) -> Typed:
    if len(keys) != 1:
        raise QueryError("a subscript takes one index")
    [key] = keys
    if value.type.name == "array":
        _int("subscript", key)
        return Typed(f"dw_array_subscript({value.sql}, {key.sql})", value.type.element)
    if value.type.name == "map":
        k = coerce(key, value.type.elements[0])
        return Typed(f"dw_map_subscript({value.sql}, {k.sql})", value.type.elements[1])
    if value.type.name == "row":
        # r[n]: the n-th field (n a literal, 1-based), as Trino's row subscript.
        if not re.fullmatch(r"\d+", key.sql) or not 1 <= int(key.sql) <= len(value.type.elements):
            raise QueryError(f"a row subscript must be a literal from 1 to {len(value.type.elements)}")
        position = int(key.sql) - 1
        field = value.type.field_names[position] or f"field{position}"
        return Typed(f"({value.sql}).{quote_identifier(field)}", value.type.elements[position])
    raise QueryError(f"cannot subscript a value of type {value.type.trino()}")


def row_field(value: Typed, name: str) -> Typed:
    if value.type.name != "row":
        raise QueryError(f"cannot take field {name!r} of a value of type {value.type.trino()}")
    for field, t in zip(value.type.field_names, value.type.elements, strict=True):
        if field == name:
            return Typed(f"({value.sql}).{quote_identifier(name)}", t)
    raise QueryError(f"the row has no field {name!r}")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _array_arg(name: str, value: Typed) -> Typed:
    _expect(name, value, lambda t: t.name == "array", "an array")
    return value


@scalar("cardinality")
def _cardinality(args: list[Typed]) -> Typed:
    _arity("cardinality", args, 1)
    value = args[0]
    if value.type.name not in ("array", "map"):
        raise QueryError(f"cardinality() expects an array or a map, got {value.type.trino()}")
    return Typed(
        f"CAST(len({value.sql}) AS BIGINT)"
        if value.type.name == "array"
        else f"CAST(cardinality({value.sql}) AS BIGINT)",
        tt.BIGINT,
    )


@scalar("element_at")
def _element_at(args: list[Typed]) -> Typed:
    _arity("element_at", args, 2)
    value, key = args
    if value.type.name == "array":
        _int("element_at", key)
        return Typed(f"dw_element_at({value.sql}, {key.sql})", value.type.element)
    if value.type.name == "map":
        k = coerce(key, value.type.elements[0])
        return Typed(f"dw_map_element_at({value.sql}, {k.sql})", value.type.elements[1])
    raise QueryError(f"element_at() expects an array or a map, got {value.type.trino()}")


@scalar("contains")
def _contains(args: list[Typed]) -> Typed:
    _arity("contains", args, 2)
    array = _array_arg("contains", args[0])
    element = coerce(args[1], array.type.element) if not array.type.element.is_unknown else args[1]
    if complex_compare.is_complex(element.type) or element.type.name in ("double", "real"):
        return Typed(complex_compare.contains_value(array.sql, element.sql, element.type), tt.BOOLEAN)
    # Trino: NULL when not found and the array holds a NULL.
    return Typed(f"dw_contains({_instants(array)}, {instant_of(element)})", tt.BOOLEAN)


def _instants(array: Typed) -> str:
    """An array of timestamps with time zone as their instants (Trino's `=` compares those), else itself."""
    if array.type.element.name != "timestamptz":
        return array.sql
    return f"list_transform({array.sql}, lambda __dw_tz: __dw_tz.i)"


@scalar("array_position")
def _array_position(args: list[Typed]) -> Typed:
    _arity("array_position", args, 2)
    array = _array_arg("array_position", args[0])
    element = coerce(args[1], array.type.element)
    return Typed(f"dw_array_position({_instants(array)}, {instant_of(element)})", tt.BIGINT)


@scalar("array_join")
def _array_join(args: list[Typed]) -> Typed:
    _arity("array_join", args, 2, 3)
    array = _array_arg("array_join", args[0])
    if not (array.type.element.is_string or array.type.element.is_integer):
        raise UnsupportedQuery(f"array_join() of {array.type.trino()}")
    separator = _str("array_join", args[1])
    texts = f"list_transform({array.sql}, lambda __dw_x: CAST(__dw_x AS VARCHAR))"
    if len(args) == 3:
        replacement = _str("array_join", args[2])
        texts = f"list_transform({texts}, lambda __dw_x: COALESCE(__dw_x, {replacement.sql}))"
    else:
        texts = f"list_filter({texts}, lambda __dw_x: __dw_x IS NOT NULL)"
    return Typed(f"array_to_string({texts}, {separator.sql})", tt.VARCHAR)


def _array_extreme(name: str, duck: str) -> Scalar:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        array = _array_arg(name, args[0])
        element = array.type.element
        if element.name in ("double", "real") or not (
            element.is_numeric or element.is_string or element.name in ("date", "timestamp", "boolean")
        ):
            raise UnsupportedQuery(f"{name}() of {array.type.trino()}")
        # Trino: NULL if any element is NULL.
        return Typed(
            f"(CASE WHEN dw_has_null({array.sql}) THEN NULL ELSE {duck}({array.sql}) END)",
            element,
        )

    return translate


SCALARS["array_max"] = _array_extreme("array_max", "list_max")
SCALARS["array_min"] = _array_extreme("array_min", "list_min")


@scalar("array_sort")
def _array_sort(args: list[Typed]) -> Typed:
    _arity("array_sort", args, 1)
    array = _array_arg("array_sort", args[0])
    if array.type.element.name in ("double", "real", "map", "row", "array", "json", "timestamptz"):
        raise UnsupportedQuery(f"array_sort() of {array.type.trino()}")
    return Typed(f"list_sort({array.sql}, 'ASC', 'NULLS LAST')", array.type)


@scalar("flatten")
def _flatten(args: list[Typed]) -> Typed:
    _arity("flatten", args, 1)
    array = _array_arg("flatten", args[0])
    if array.type.element.name != "array":
        raise QueryError("flatten() expects an array of arrays")
    return Typed(f"flatten({array.sql})", array.type.element)


@scalar("sequence")
def _sequence(args: list[Typed]) -> Typed:
    _arity("sequence", args, 2, 3)
    if args[0].type.name in ("date", "timestamp", "timestamptz"):
        return _datetime("temporal_sequence")(args)
    values, common = coerce_all(args, "sequence")
    if not common.is_integer:
        raise UnsupportedQuery(f"sequence() of {common.trino()}")
    step = (
        values[2].sql
        if len(args) == 3
        else f"(CASE WHEN {values[0].sql} <= {values[1].sql} THEN 1 ELSE -1 END)"
    )
    return Typed(
        "dw_sequence("
        + ", ".join(f"CAST({v} AS BIGINT)" for v in (values[0].sql, values[1].sql, step))
        + ")",
        tt.array(tt.BIGINT),
    )


@scalar("slice")
def _slice(args: list[Typed]) -> Typed:
    _arity("slice", args, 3)
    array = _array_arg("slice", args[0])
    return Typed(
        f"dw_slice({array.sql}, {_int('slice', args[1]).sql}, {_int('slice', args[2]).sql})", array.type
    )


@scalar("map")
def _map(args: list[Typed]) -> Typed:
    if not args:
        return Typed("MAP {}", tt.map_of(tt.UNKNOWN, tt.UNKNOWN))
    _arity("map", args, 2)
    keys, values = (_array_arg("map", a) for a in args)
    t = tt.map_of(keys.type.element, values.type.element)
    if complex_compare.is_complex(keys.type.element):
        # Trino rejects a key holding a NULL element: it could not be found by `=`.
        k = "__dw_mk"
        undecided = complex_compare.holds_null(k, keys.type.element)
        check = f"list_bool_or(list_transform({keys.sql}, lambda {k}: {k} IS NOT NULL AND {undecided}))"
        return Typed(
            f"(CASE WHEN {check} THEN CAST(dw_fail('map key cannot be indeterminate') AS {t.duckdb()}) "
            f"ELSE dw_map({keys.sql}, {values.sql}) END)",
            t,
        )
    return Typed(f"dw_map({keys.sql}, {values.sql})", t)


@scalar("map_keys")
def _map_keys(args: list[Typed]) -> Typed:
    _arity("map_keys", args, 1)
    m = args[0]
    if m.type.name != "map":
        raise QueryError(f"map_keys() expects a map, got {m.type.trino()}")
    return Typed(f"map_keys({m.sql})", tt.array(m.type.elements[0]))


@scalar("map_values")
def _map_values(args: list[Typed]) -> Typed:
    _arity("map_values", args, 1)
    m = args[0]
    if m.type.name != "map":
        raise QueryError(f"map_values() expects a map, got {m.type.trino()}")
    return Typed(f"map_values({m.sql})", tt.array(m.type.elements[1]))


@scalar("row")
def _row(args: list[Typed]) -> Typed:
    fields = [(f"field{i}", a.type) for i, a in enumerate(args)]
    text = "{" + ", ".join(f"'field{i}': {a.sql}" for i, a in enumerate(args)) + "}"
    return Typed(text, tt.row([(None, t) for _, t in fields]))


# ---- lambdas -------------------------------------------------------------------------------------
def _lambda(
    tr: "Translator", node: exp.Expression, scope: Scope, params: list[TrinoType]
) -> tuple[list[str], Typed]:
    if not isinstance(node, exp.Lambda):
        if isinstance(node, exp.Anonymous) and function_name(node).startswith("$"):
            raise UnsupportedQuery(f"Trino's internal function {function_name(node)}")
        raise QueryError("expected a lambda expression (x -> ...)")
    names = [p.name for p in node.expressions]
    if len(names) != len(params):
        raise QueryError(f"the lambda takes {len(names)} parameters, {len(params)} expected")
    body = tr.expr(node.this, scope.child(**dict(zip(names, params, strict=True))))
    return names, body


def _lambda_text(names: list[str], body: Typed) -> str:
    params = ", ".join(quote_identifier(n) for n in names)
    return f"lambda {params}: {body.sql}"


def _transform(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("transform", raw, 2)
    array = _array_arg("transform", tr.expr(raw[0], scope))
    names, body = _lambda(tr, raw[1], scope, [array.type.element])
    return Typed(f"list_transform({array.sql}, {_lambda_text(names, body)})", tt.array(body.type))


def _filter(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("filter", raw, 2)
    array = _array_arg("filter", tr.expr(raw[0], scope))
    names, body = _lambda(tr, raw[1], scope, [array.type.element])
    if body.type.name not in ("boolean", "unknown"):
        raise QueryError("filter()'s lambda must return boolean")
    return Typed(
        f"list_filter({array.sql}, {_lambda_text(names, Typed(f'COALESCE({body.sql}, false)', tt.BOOLEAN))})",
        array.type,
    )


def _match(name: str) -> Callable[["Translator", list[exp.Expression], Scope], Typed]:
    def translate(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
        _arity(name, raw, 2)
        array = _array_arg(name, tr.expr(raw[0], scope))
        names, body = _lambda(tr, raw[1], scope, [array.type.element])
        results = f"list_transform({array.sql}, {_lambda_text(names, body)})"
        return Typed(f"dw_{name}({results})", tt.BOOLEAN)

    return translate


def _reduce(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("reduce", raw, 4)
    array = _array_arg("reduce", tr.expr(raw[0], scope))
    initial = tr.expr(raw[1], scope)
    names, step = _lambda(tr, raw[2], scope, [initial.type, array.type.element])
    if step.type != initial.type:
        state = tt.common_super_type(initial.type, step.type)
        if state is None:
            raise QueryError("reduce(): the lambda's result does not fit the initial state's type")
        initial = coerce(initial, state)
        names, step = _lambda(tr, raw[2], scope, [state, array.type.element])
        step = coerce(step, state)
    out_names, output = _lambda(tr, raw[3], scope, [initial.type])
    # DuckDB's list_reduce takes (accumulator, element) like Trino's.
    folded = f"list_reduce({array.sql}, {_lambda_text(names, step)}, {initial.sql})"
    final = f"list_transform([{folded}], {_lambda_text(out_names, output)})[1]"
    return Typed(final, output.type)


def _apply(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    """apply(x, f): f(x), the value bound once."""
    _arity("apply", raw, 2)
    value = tr.expr(raw[0], scope)
    names, body = _lambda(tr, raw[1], scope, [value.type])
    return Typed(f"list_transform([{value.sql}], {_lambda_text(names, body)})[1]", body.type)


LAMBDA_FUNCTIONS = {
    "apply": _apply,
    "transform": _transform,
    "filter": _filter,
    "any_match": _match("any_match"),
    "all_match": _match("all_match"),
    "none_match": _match("none_match"),
    "reduce": _reduce,
}


# ---- aggregates ----------------------------------------------------------------------------------
AGGREGATES = {
    "count",
    "count_if",
    "sum",
    "avg",
    "min",
    "max",
    "max_by",
    "min_by",
    "arbitrary",
    "any_value",
    "array_agg",
    "bool_and",
    "bool_or",
    "every",
    "stddev",
    "stddev_samp",
    "stddev_pop",
    "variance",
    "var_samp",
    "var_pop",
    "geometric_mean",
    "corr",
    "covar_samp",
    "covar_pop",
    "approx_distinct",
    "approx_percentile",
    "histogram",
    "map_agg",
    "listagg",
    "checksum",
    "approx_set",
    "count_distinct",
}
WINDOW_ONLY = {
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
}


def aggregate(
    tr: "Translator",
    node: exp.Expression,
    scope: Scope,
    filter_: exp.Expression | None = None,
    window: str = "",
    window_order: str = "",
) -> Typed:
    if isinstance(node, exp.ArgMax | exp.ArgMin):  # sqlglot reads max_by/min_by as these
        name = "max_by" if isinstance(node, exp.ArgMax) else "min_by"
        if node.args.get("count") is not None:
            raise UnsupportedQuery(f"{name}(x, y, n)")
        node = exp.Anonymous(this=name, expressions=[node.this, node.expression])
    if isinstance(node, exp.GroupConcat) and not window:
        condition = filter_.this if isinstance(filter_, exp.Where) else filter_
        where = f" FILTER (WHERE {tr.boolean(condition, scope).sql})" if condition is not None else ""
        return listagg(tr, node, scope, where)
    if isinstance(node, exp.GroupConcat):
        raise QueryError("listagg cannot be used as a window function")
    if not isinstance(node, exp.Anonymous):
        raise UnsupportedQuery(f"the aggregate {node.sql('trino')[:40]}")
    name = function_name(node)
    raw = list(node.expressions)
    distinct = len(raw) == 1 and isinstance(raw[0], exp.Distinct)
    if distinct:
        raw = list(raw[0].expressions)
    if name not in AGGREGATES:
        raise UnsupportedQuery(f"the aggregate function {name}()")
    filter_sql = ""
    if filter_ is not None:
        condition = filter_.this if isinstance(filter_, exp.Where) else filter_
        filter_sql = f" FILTER (WHERE {tr.boolean(condition, scope).sql})"
    prefix = "DISTINCT " if distinct else ""

    def wrap(duck: str, args: list[str], t: TrinoType, cast_to: bool = True) -> Typed:
        text = f"{duck}({prefix}{', '.join(args)}){filter_sql}{window}"
        return Typed(f"CAST({text} AS {t.duckdb()})" if cast_to else text, t)

    order_sql = ""
    if raw and isinstance(raw[-1], exp.Order):  # array_agg(x ORDER BY y): the order inside the call
        order = raw[-1]
        raw = [*raw[:-1], order.this]
        order_sql = " ORDER BY " + ", ".join(tr._ordered(o, scope, 0) for o in order.expressions)
        if name not in ("array_agg",):
            raise UnsupportedQuery(f"ORDER BY inside {name}()")
        if window:
            raise QueryError("Window function with ORDER BY is not supported")
        if len(raw) == 1 and isinstance(raw[0], exp.Distinct):  # array_agg(DISTINCT x ORDER BY x)
            distinct, prefix = True, "DISTINCT "
            raw = list(raw[0].expressions)
        if distinct:
            arguments = {a.sql("trino") for a in raw}
            if any(o.this.sql("trino") not in arguments for o in order.expressions):
                raise QueryError(
                    "For aggregate function with DISTINCT, ORDER BY expressions must appear in arguments"
                )
    if name == "count":
        if len(raw) == 1 and isinstance(raw[0], exp.Star):
            if distinct:
                raise QueryError("count(DISTINCT *) is not valid")
            return wrap("count", ["*"], tt.BIGINT)
        _arity("count", raw, 1)
        counted = tr.expr(raw[0], scope)
        if distinct:
            complex_compare.refuse_map_grouping(counted.type, "count(DISTINCT ...)")
        if distinct and counted.type.name == "timestamptz":  # one instant in two zones is one value
            return wrap("count", [f"({counted.sql}).i"], tt.BIGINT)
        _distinct_by_instant(distinct, [counted])
        return wrap("count", [counted.sql], tt.BIGINT)
    args = [tr.expr(a, scope) for a in raw]
    if distinct:
        for a in args:
            complex_compare.refuse_map_grouping(a.type, f"{name}(DISTINCT ...)")
    _distinct_by_instant(distinct, args)
    if name in CONTRACT_AGGREGATES:
        return contract_aggregate(tr, name, raw, args, distinct, f"{filter_sql}{window}")
    if name in ("approx_set", "checksum", "map_agg"):
        raise UnsupportedQuery(
            f"{name}(): Athena's approximation cannot be reproduced exactly (use the exact aggregate, "
            "e.g. count(DISTINCT x), or run it on the AWS profile)"
        )
    if name == "count_if":
        _arity("count_if", args, 1)
        if args[0].type.name not in ("boolean", "unknown"):
            raise QueryError("count_if() expects a boolean")
        # NULL conditions count as false: count_if(x = NULL) is 0.
        return wrap("count", [f"CASE WHEN {args[0].sql} THEN 1 END"], tt.BIGINT)
    if name == "sum":
        _arity("sum", args, 1)
        t = args[0].type
        if t.is_integer:
            return wrap("sum", [args[0].sql], tt.BIGINT)
        if t.name == "decimal":
            return wrap("sum", [args[0].sql], tt.decimal(38, t.scale or 0))
        if t.name in ("double", "real"):
            return wrap("sum", [args[0].sql], t)
        raise UnsupportedQuery(f"sum() of {t.trino()}")
    if name == "avg":
        _arity("avg", args, 1)
        t = args[0].type
        if t.is_integer or t.name in ("double", "real"):
            return wrap("avg", [f"CAST({args[0].sql} AS DOUBLE)"], tt.DOUBLE if t.name != "real" else tt.REAL)
        if t.name == "decimal":
            total = wrap("sum", [args[0].sql], tt.decimal(38, t.scale or 0))
            count = wrap("count", [args[0].sql], tt.BIGINT)
            quotient = arithmetic("/", total, count)
            return cast(Typed(quotient.sql, quotient.type), t)
        raise UnsupportedQuery(f"avg() of {t.trino()}")
    if name in ("min", "max"):
        _arity(name, args, 1)
        t = args[0].type
        if t.name == "timestamptz":  # by instant, keeping the value's zone
            return wrap(f"arg_{name}", [args[0].sql, f"({args[0].sql}).i"], t, cast_to=False)
        if t.name in ("double", "real"):
            # DuckDB orders NaN above every number; refuse the groups where that could matter.
            nan = f"bool_or(isnan({args[0].sql})){filter_sql}{window}"
            value = wrap(name, [args[0].sql], t, cast_to=False).sql
            return Typed(
                f"(CASE WHEN {nan} THEN error('not supported by the local engine: {name}() over NaN') "
                f"ELSE {value} END)",
                t,
            )
        if t.name in ("map", "json"):
            raise UnsupportedQuery(f"{name}() of {t.trino()}")
        return wrap(name, [args[0].sql], t, cast_to=False)
    if name in ("max_by", "min_by"):
        _arity(name, args, 2)
        if args[1].type.name in ("double", "real", "map", "json"):
            raise UnsupportedQuery(f"{name}() ordered by {args[1].type.trino()}")
        if args[1].type.name == "timestamptz":  # ordered by instant
            args = [args[0], Typed(f"({args[1].sql}).i", args[1].type)]
        # Ties pick an arbitrary row in Trino: only exact where the ordering key is unique.
        duck = "arg_max" if name == "max_by" else "arg_min"
        return wrap(duck, [args[0].sql, args[1].sql], args[0].type, cast_to=False)
    if name in ("bool_and", "every", "bool_or"):
        _arity(name, args, 1)
        duck = "bool_or" if name == "bool_or" else "bool_and"
        return wrap(duck, [args[0].sql], tt.BOOLEAN)
    if name in ("stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop", "geometric_mean"):
        _arity(name, args, 1)
        duck = {"stddev": "stddev_samp", "variance": "var_samp", "geometric_mean": "geomean"}.get(name, name)
        return wrap(duck, [_double(args[0])], tt.DOUBLE)
    if name in ("corr", "covar_samp", "covar_pop"):
        _arity(name, args, 2)
        # Trino has only (double, double) and (real, real) overloads; integers and reals coerce to
        # real, the more specific one, so corr(integer, integer) is a real (TestDistinctAggregations
        # .java:188). The real overload computes in double over the reals and rounds the result.
        if all(a.type.name in _TO_REAL_OVERLOAD for a in args):
            inputs = [f"CAST(CAST({a.sql} AS REAL) AS DOUBLE)" for a in args]
            return wrap(name, inputs, tt.REAL)
        return wrap(name, [_double(args[0]), _double(args[1])], tt.DOUBLE)
    if name == "array_agg":
        _arity("array_agg", args, 1)
        # Without ORDER BY inside, Trino's order is unspecified: any order satisfies it (noted once).
        # Over a window the frame's own order is used, as Trino's frames are read in it.
        if not order_sql:
            note(tr, "array_agg")
            order_sql = window_order
        text = f"array_agg({prefix}{args[0].sql}{order_sql}){filter_sql}{window}"
        return Typed(text, tt.array(args[0].type))
    if name == "histogram":
        _arity("histogram", args, 1)
        if holds_tstz(args[0].type):  # its map's keys would be (instant, zone) pairs, Trino's instants
            raise UnsupportedQuery(f"histogram() over values of type {args[0].type.trino()}")
        return wrap("histogram", [args[0].sql], tt.map_of(args[0].type, tt.BIGINT), cast_to=False)
    raise UnsupportedQuery(f"the aggregate function {name}()")


# ---- windows -------------------------------------------------------------------------------------
def window(tr: "Translator", node: exp.Window, scope: Scope) -> Typed:
    if node.args.get("alias"):
        raise UnsupportedQuery("named windows")
    parts = []
    partition = node.args.get("partition_by") or []
    if partition:
        keys = [tr.expr(e, scope) for e in partition]
        for key in keys:
            refuse_nested(key.type, "PARTITION BY")
        # Trino partitions a timestamp with time zone by its instant (the zone takes no part).
        parts.append("PARTITION BY " + ", ".join(instant_of(k) for k in keys))
    order = node.args.get("order")
    order_sql = ""
    if order:
        order_sql = " ORDER BY " + ", ".join(tr._ordered(o, scope, 0) for o in order.expressions)
        parts.append(order_sql.strip())
    spec = node.args.get("spec")
    if spec is not None:
        parts.append(_frame(tr, spec, order, scope))
    over = f" OVER ({' '.join(parts)})"
    function = node.this
    filter_ = None
    if isinstance(function, exp.Filter):
        function, filter_ = function.this, function.expression
    if isinstance(function, exp.IgnoreNulls | exp.RespectNulls):
        raise UnsupportedQuery("IGNORE NULLS / RESPECT NULLS")
    name = function_name(function)
    if isinstance(function, exp.GroupConcat):
        raise QueryError("listagg cannot be used as a window function")
    if name in AGGREGATES:
        return aggregate(tr, function, scope, filter_=filter_, window=over, window_order=order_sql)
    if name not in WINDOW_ONLY or not isinstance(function, exp.Anonymous):
        raise UnsupportedQuery(f"the window function {name}()")
    args = [tr.expr(a, scope) for a in function.expressions]
    if name in ("row_number", "rank", "dense_rank"):
        _arity(name, args, 0)
        return Typed(f"CAST({name}(){over} AS BIGINT)", tt.BIGINT)
    if name in ("percent_rank", "cume_dist"):
        _arity(name, args, 0)
        return Typed(f"{name}(){over}", tt.DOUBLE)
    if name == "ntile":
        _arity(name, args, 1)
        return Typed(f"CAST(ntile({_int('ntile', args[0]).sql}){over} AS BIGINT)", tt.BIGINT)
    if name in ("lag", "lead"):
        _arity(name, args, 1, 2, 3)
        value = args[0]
        extra = []
        if len(args) >= 2:
            if not re.fullmatch(r"\d+", _int(name, args[1]).sql):
                raise UnsupportedQuery(f"{name}() with an offset that is not a literal")
            extra.append(args[1].sql)
        if len(args) == 3:
            extra.append(coerce(args[2], value.type).sql)
        return Typed(f"{name}({', '.join([value.sql, *extra])}){over}", value.type)
    if name in ("first_value", "last_value"):
        _arity(name, args, 1)
        return Typed(f"{name}({args[0].sql}){over}", args[0].type)
    if name == "nth_value":
        _arity(name, args, 2)
        if not re.fullmatch(r"\d+", args[1].sql):
            raise UnsupportedQuery("nth_value() with an offset that is not a literal")
        if int(args[1].sql) < 1:
            raise QueryError("Offset must be at least 1")
        return Typed(f"nth_value({args[0].sql}, {_int('nth_value', args[1]).sql}){over}", args[0].type)
    raise UnsupportedQuery(f"the window function {name}()")


def _frame(tr: "Translator", spec: exp.WindowSpec, order: exp.Order | None, scope: Scope) -> str:
    kind = (spec.args.get("kind") or "RANGE").upper()
    if spec.args.get("exclude"):
        raise UnsupportedQuery("EXCLUDE in window frames")

    def bound(value: object, side: object) -> str:
        side_text = str(side or "").upper()
        if isinstance(value, str):
            text = value.upper()
            if text == "UNBOUNDED":
                return f"UNBOUNDED {side_text}"
            if text == "CURRENT ROW":
                return "CURRENT ROW"
        if isinstance(value, exp.Expression):
            typed = tr.expr(value, scope)
            zero = "0"
            if typed.type.name in ("interval_ds", "interval_ym") and kind == "RANGE":
                # Offsets in time over dates and timestamps; DuckDB's interval arithmetic on a date
                # clamps to the month's end as Trino's does (2001-03-31 - 1 month = 2001-02-28).
                keys = [tr.expr(o.this, scope).type for o in (order.expressions if order else [])]
                if any(k.name not in ("date", "timestamp") for k in keys):
                    raise UnsupportedQuery("RANGE frames with an interval offset over this ORDER BY")
                zero = "INTERVAL 0 SECOND"
            elif not (typed.type.is_numeric or typed.type.is_unknown):
                raise UnsupportedQuery(f"{kind} frames with an offset of type {typed.type.trino()}")
            # Trino checks each row's offset (DuckDB would take a NULL or negative one).
            checked = (
                f"(CASE WHEN ({typed.sql}) IS NULL OR ({typed.sql}) < {zero} THEN "
                f"error('Window frame offset value must not be negative or null') ELSE {typed.sql} END)"
            )
            return f"{checked} {side_text}"
        raise UnsupportedQuery("this window frame")

    start = bound(spec.args.get("start"), spec.args.get("start_side"))
    end_value = spec.args.get("end")
    if end_value is None:
        return f"{kind} {start}"
    return f"{kind} BETWEEN {start} AND {bound(end_value, spec.args.get('end_side'))}"


# Families of functions in modules of their own, registered in the tables above as they are imported.
from dw_platform.query import array_functions, json_functions  # noqa: E402,F401
