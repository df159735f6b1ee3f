"""Trino's functions by name, each typed as Trino types it and emitted as DuckDB text that gives
Trino's value. A function that is not in this table is refused by name."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.operators import Typed, arithmetic, cast, coerce, coerce_all, holds_tstz
from dw_platform.query.regex import java_regex
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
    "json_format",
    "json_extract_scalar",
    "json_extract",
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


def _double(arg: Typed) -> str:
    if not (arg.type.is_numeric or arg.type.is_unknown):
        raise QueryError(f"expected a number, got {arg.type.trino()}")
    return f"CAST({arg.sql} AS DOUBLE)"


def _literal_string(node: exp.Expression | None) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


# ---- calls ---------------------------------------------------------------------------------------
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
    if isinstance(node, exp.AtTimeZone):
        from dw_platform.query.datetime_ops import at_timezone

        return at_timezone(tr.expr(node.this, scope), tr.expr(node.args["zone"], scope))
    if not isinstance(node, exp.Anonymous):
        raise UnsupportedQuery(f"the function {name}")
    raw = list(node.expressions)
    if name in AGGREGATES:
        return aggregate(tr, node, scope)
    if name in WINDOW_ONLY:
        raise QueryError(f"{name}() needs an OVER clause")
    if name in LAMBDA_FUNCTIONS:
        return LAMBDA_FUNCTIONS[name](tr, raw, scope)
    if name == "try":
        return _try(tr, raw, scope)
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
    if len(args) == 2:
        raise UnsupportedQuery("truncate(x, d)")
    _arity("truncate", args, 1)
    [x] = args
    if x.type.name == "decimal":
        p, s = x.type.precision or 0, x.type.scale or 0
        result = tt.decimal(max(1, p - s), 0)
        return Typed(f"CAST(trunc({x.sql}) AS {result.duckdb()})", result)
    if x.type.name in ("double", "real"):
        return Typed(f"trunc({x.sql})", x.type)
    raise UnsupportedQuery(f"truncate() of {x.type.trino()}")


@scalar("round")
def _round(args: list[Typed]) -> Typed:
    _arity("round", args, 1, 2)
    x, t = args[0], args[0].type
    if len(args) == 2:
        _int("round", args[1])
        if not re.fullmatch(r"\d+", args[1].sql):
            raise UnsupportedQuery("round(x, d) with d that is not a literal of 0 or more")
    digits = args[1].sql if len(args) == 2 else "0"
    if t.is_unknown:
        return x
    if t.is_integer:
        if len(args) == 1:
            return x
        # Round half away from zero at a negative digit count, exactly, in the integer's type.
        return Typed(f"CAST(round(CAST({x.sql} AS DECIMAL(38,0)), {digits}) AS {t.duckdb()})", t)
    if t.name in ("double", "real"):
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
        if common.name in ("double", "real"):
            raise UnsupportedQuery(f"{name}() over floating-point values (NaN ordering)")
        if common.name in ("timestamptz", "map", "json", "array", "row"):
            raise UnsupportedQuery(f"{name}() over {common.trino()}")
        nulls = " OR ".join(f"({v.sql}) IS NULL" for v in values)
        # Trino returns NULL when any argument is NULL; DuckDB skips NULLs.
        return Typed(
            f"(CASE WHEN {nulls} THEN NULL ELSE {name}({', '.join(v.sql for v in values)}) END)", common
        )

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
    if all(v.type.is_string or v.type.is_unknown for v in values):
        lengths = [v.type.length for v in values if not v.type.is_unknown]
        length = sum(lengths) if lengths and None not in lengths else None  # type: ignore[arg-type]
        return Typed("(" + " || ".join(f"({v.sql})" for v in values) + ")", tt.varchar(length))
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
    for a in args:
        _str("concat_ws", a)
    return Typed(f"concat_ws({', '.join(a.sql for a in args)})", tt.VARCHAR)


@scalar("length")
def _length(args: list[Typed]) -> Typed:
    _arity("length", args, 1)
    return Typed(f"CAST(length({_str('length', args[0]).sql}) AS BIGINT)", tt.BIGINT)


def _same_string(name: str, duck: str) -> None:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        x = _str(name, args[0])
        return Typed(f"{duck}({x.sql})", x.type if not x.type.is_unknown else tt.VARCHAR)

    SCALARS[name] = translate


_same_string("lower", "lower")
_same_string("upper", "upper")
_same_string("reverse", "reverse")
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


@scalar("substr", "substring")
def _substr(args: list[Typed]) -> Typed:
    _arity("substr", args, 2, 3)
    x = _str("substr", args[0])
    start = _int("substr", args[1]).sql
    if len(args) == 2:
        return Typed(f"dw_substr({x.sql}, {start})", tt.varchar(x.type.length))
    return Typed(f"dw_substr({x.sql}, {start}, {_int('substr', args[2]).sql})", tt.varchar(x.type.length))


@scalar("strpos")
def _strpos(args: list[Typed]) -> Typed:
    _arity("strpos", args, 2)
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
    replacement = _str("replace", args[2]).sql if len(args) == 3 else "''"
    # An empty search string inserts the replacement between characters in Trino; DuckDB does not.
    return Typed(
        f"(CASE WHEN ({search.sql}) = '' THEN error('not supported by the local engine: replace() with an "
        f"empty search string') ELSE replace({x.sql}, {search.sql}, {replacement}) END)",
        tt.varchar(x.type.length) if len(args) == 2 else tt.VARCHAR,
    )


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
    _arity("split", args, 2)
    x, delimiter = _str("split", args[0]), _str("split", args[1])
    return Typed(
        f"(CASE WHEN ({delimiter.sql}) = '' THEN error('not supported by the local engine: split() on an "
        f"empty delimiter') ELSE string_split({x.sql}, {delimiter.sql}) END)",
        tt.array(tt.varchar(x.type.length)),
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
    return Typed(f"chr(CAST({_int('chr', args[0]).sql} AS INTEGER))", tt.varchar(1))


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
    return Typed(f"CAST(levenshtein({a.sql}, {b.sql}) AS BIGINT)", tt.BIGINT)


@scalar("hamming_distance")
def _hamming(args: list[Typed]) -> Typed:
    _arity("hamming_distance", args, 2)
    a, b = (_str("hamming_distance", x) for x in args)
    return Typed(
        f"(CASE WHEN length({a.sql}) <> length({b.sql}) THEN dw_fail('The input strings to hamming_distance "
        f"function must have the same length') WHEN length({a.sql}) = 0 THEN CAST(0 AS BIGINT) "
        f"ELSE CAST(hamming({a.sql}, {b.sql}) AS BIGINT) END)",
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
    _arity("from_utf8", args, 1)
    _expect("from_utf8", args[0], lambda t: t.name == "varbinary", "varbinary")
    # Invalid sequences become U+FFFD exactly as Trino's decoder splits them (query/utf8.py).
    return Typed(f"dw_from_utf8({args[0].sql})", tt.VARCHAR)


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
    return len(re.findall(r"(?<!\\)\((?!\?)", pattern))


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
    extracted = f"regexp_extract({value.sql}, '{pattern}', {group})"
    body = f"(CASE WHEN regexp_matches({value.sql}, '{pattern}') THEN {extracted} END)"
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


def _java_replacement(replacement: str) -> str:
    """Trino's `$g` / `\\$` replacement syntax as RE2's `\\g`."""
    out, i = [], 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append("\\\\" if nxt == "\\" else nxt)
            i += 2
        elif char == "$":
            digits = re.match(r"\d", replacement[i + 1 :])
            if not digits:
                raise UnsupportedQuery("regexp_replace() with a named group or a lone $ in the replacement")
            out.append("\\" + digits.group(0))
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out).replace("'", "''")


def _regexp_replace(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_replace", args, 2, 3)
    value = _str("regexp_replace", args[0])
    pattern, guard = _pattern("regexp_replace", literals[1])
    if len(args) == 3:
        if literals[2] is None:
            raise UnsupportedQuery("regexp_replace() with a replacement that is not a literal")
        replacement = _java_replacement(literals[2])
    else:
        replacement = ""
    body = f"regexp_replace({value.sql}, '{pattern}', '{replacement}', 'g')"
    result = tt.varchar(value.type.length) if len(args) == 2 else tt.VARCHAR
    return Typed(_guarded(value, guard, body, "regexp_replace"), result)


def _regexp_split(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_split", args, 2)
    value = _str("regexp_split", args[0])
    pattern, guard = _pattern("regexp_split", literals[1])
    body = f"regexp_split_to_array({value.sql}, '{pattern}')"
    return Typed(_guarded(value, guard, body, "regexp_split"), tt.array(tt.varchar(value.type.length)))


def _regexp_count(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("regexp_count", args, 2)
    value = _str("regexp_count", args[0])
    pattern, guard = _pattern("regexp_count", literals[1])
    body = f"CAST(len(regexp_extract_all({value.sql}, '{pattern}')) AS BIGINT)"
    return Typed(_guarded(value, guard, body, "regexp_count"), tt.BIGINT)


# ---- JSON ----------------------------------------------------------------------------------------
_SIMPLE_JSON_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$")


def _json_path(name: str, literal: str | None) -> str:
    if literal is None or not _SIMPLE_JSON_PATH.match(literal):
        raise UnsupportedQuery(f"{name}() with the JSON path {literal!r} (only $.name and $[n] steps)")
    return literal


def _json_text(value: Typed) -> str:
    if value.type.name == "json":
        return f"CAST({value.sql} AS VARCHAR)"
    _str("json", value)
    return value.sql


def _json_extract_scalar(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("json_extract_scalar", args, 2)
    path = _json_path("json_extract_scalar", literals[1])
    return Typed(f"dw_json_scalar({_json_text(args[0])}, '{path}')", tt.varchar(args[0].type.length))


def _json_extract(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("json_extract", args, 2)
    path = _json_path("json_extract", literals[1])
    return Typed(f"dw_json_extract({_json_text(args[0])}, '{path}')", tt.JSON)


def _json_size(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("json_size", args, 2)
    path = _json_path("json_size", literals[1])
    return Typed(f"dw_json_size({_json_text(args[0])}, '{path}')", tt.BIGINT)


@scalar("json_parse")
def _json_parse(args: list[Typed]) -> Typed:
    _arity("json_parse", args, 1)
    return Typed(f"dw_json_parse({_str('json_parse', args[0]).sql})", tt.JSON)


@scalar("json_format")
def _json_format(args: list[Typed]) -> Typed:
    _arity("json_format", args, 1)
    _expect("json_format", args[0], lambda t: t.name == "json", "json")
    return Typed(f"dw_json_text({args[0].sql})", tt.VARCHAR)


@scalar("json_array_length")
def _json_array_length(args: list[Typed]) -> Typed:
    _arity("json_array_length", args, 1)
    return Typed(f"dw_json_array_length({_json_text(args[0])})", tt.BIGINT)


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
    "json_extract_scalar": _json_extract_scalar,
    "json_extract": _json_extract,
    "json_size": _json_size,
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
        raise UnsupportedQuery("a subscript of a row")
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
    # Trino: NULL when not found and the array holds a NULL.
    return Typed(f"dw_contains({array.sql}, {element.sql})", tt.BOOLEAN)


@scalar("array_position")
def _array_position(args: list[Typed]) -> Typed:
    _arity("array_position", args, 2)
    array = _array_arg("array_position", args[0])
    element = coerce(args[1], array.type.element)
    return Typed(f"dw_array_position({array.sql}, {element.sql})", tt.BIGINT)


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
    return Typed(f"dw_map({keys.sql}, {values.sql})", tt.map_of(keys.type.element, values.type.element))


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


LAMBDA_FUNCTIONS = {
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
) -> Typed:
    if isinstance(node, exp.ArgMax | exp.ArgMin):  # sqlglot reads max_by/min_by as these
        name = "max_by" if isinstance(node, exp.ArgMax) else "min_by"
        if node.args.get("count") is not None:
            raise UnsupportedQuery(f"{name}(x, y, n)")
        node = exp.Anonymous(this=name, expressions=[node.this, node.expression])
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
    if name == "count":
        if len(raw) == 1 and isinstance(raw[0], exp.Star):
            if distinct:
                raise QueryError("count(DISTINCT *) is not valid")
            return wrap("count", ["*"], tt.BIGINT)
        _arity("count", raw, 1)
        counted = tr.expr(raw[0], scope)
        if distinct and counted.type.name == "timestamptz":  # one instant in two zones is one value
            return wrap("count", [f"({counted.sql}).i"], tt.BIGINT)
        _distinct_by_instant(distinct, [counted])
        return wrap("count", [counted.sql], tt.BIGINT)
    args = [tr.expr(a, scope) for a in raw]
    _distinct_by_instant(distinct, args)
    if name in ("approx_distinct", "approx_percentile", "approx_set", "checksum", "map_agg"):
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
    if name in ("arbitrary", "any_value"):
        raise UnsupportedQuery(f"{name}(): Athena picks an arbitrary value")
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
        return wrap(name, [_double(args[0]), _double(args[1])], tt.DOUBLE)
    if name == "array_agg":
        _arity("array_agg", args, 1)
        # Order is unspecified in Trino unless ORDER BY is given inside: refuse a result that depends on it.
        if not order_sql:
            raise UnsupportedQuery("array_agg() without ORDER BY: its element order is unspecified in Athena")
        text = f"array_agg({prefix}{args[0].sql}{order_sql}){filter_sql}{window}"
        return Typed(text, tt.array(args[0].type))
    if name == "histogram":
        _arity("histogram", args, 1)
        return wrap("histogram", [args[0].sql], tt.map_of(args[0].type, tt.BIGINT), cast_to=False)
    raise UnsupportedQuery(f"the aggregate function {name}()")


# ---- windows -------------------------------------------------------------------------------------
def window(tr: "Translator", node: exp.Window, scope: Scope) -> Typed:
    if node.args.get("alias"):
        raise UnsupportedQuery("named windows")
    parts = []
    partition = node.args.get("partition_by") or []
    if partition:
        parts.append("PARTITION BY " + ", ".join(tr.expr(e, scope).sql for e in partition))
    order = node.args.get("order")
    if order:
        parts.append("ORDER BY " + ", ".join(tr._ordered(o, scope, 0) for o in order.expressions))
    spec = node.args.get("spec")
    if spec is not None:
        parts.append(_frame(tr, spec, scope))
    over = f" OVER ({' '.join(parts)})"
    function = node.this
    filter_ = None
    if isinstance(function, exp.Filter):
        function, filter_ = function.this, function.expression
    if isinstance(function, exp.IgnoreNulls | exp.RespectNulls):
        raise UnsupportedQuery("IGNORE NULLS / RESPECT NULLS")
    name = function_name(function)
    if name in AGGREGATES:
        return aggregate(tr, function, scope, filter_=filter_, window=over)
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


def _frame(tr: "Translator", spec: exp.WindowSpec, scope: Scope) -> str:
    kind = (spec.args.get("kind") or "RANGE").upper()
    if kind == "GROUPS":
        raise UnsupportedQuery("GROUPS frames")
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
            return f"{typed.sql} {side_text}"
        raise UnsupportedQuery("this window frame")

    start = bound(spec.args.get("start"), spec.args.get("start_side"))
    end_value = spec.args.get("end")
    if end_value is None:
        return f"{kind} {start}"
    return f"{kind} BETWEEN {start} AND {bound(end_value, spec.args.get('end_side'))}"
