"""A function call, translated by its registry entry (registry.py): sqlglot's own nodes for some of
Trino's functions by their class (NODE_CALLS), any other call by its name."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.aggregates import aggregate
from dw_platform.query.functions.checks import _literal_string, _str, function_name
from dw_platform.query.functions.registry import REGISTRY, Family
from dw_platform.query.listagg import listagg
from dw_platform.query.operators import Typed
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

NodeCall = Callable[["Translator", exp.Expression, Scope], Typed]

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


def _scalar(name: str) -> Callable[[list[Typed]], Typed]:
    translate = REGISTRY[name].translate
    assert translate is not None
    return translate


def _current_timestamp(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    return Typed("dw_tstz(date_trunc('millisecond', get_current_timestamp()), 'UTC')", tt.timestamptz(3))


def _current_date(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    return Typed("CAST(timezone('UTC', get_current_timestamp()) AS DATE)", tt.DATE)


def _extract(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.datetime_ops import extract_field

    return extract_field(node.this.name.lower(), tr.expr(node.expression, scope), in_extract=True)


def _substring(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    args = [node.this, node.args.get("start"), node.args.get("length")]
    return _scalar("substr")([tr.expr(a, scope) for a in args if a is not None])


def _position(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    return _scalar("strpos")([tr.expr(node.this, scope), tr.expr(node.args["substr"], scope)])


def _trim(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions.strings import _trim

    assert isinstance(node, exp.Trim)
    return _trim(tr, node, scope)


def _chr(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    return _scalar("chr")([tr.expr(a, scope) for a in node.expressions])


def _normalize(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    form = node.args.get("form")
    if form and form.name.upper() != "NFC":
        raise UnsupportedQuery(f"normalize() to {form.name.upper()}")
    value = _str("normalize", tr.expr(node.this, scope))
    return Typed(f"nfc_normalize({value.sql})", tt.VARCHAR)


def _at_time_zone(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.datetime_ops import at_timezone

    return at_timezone(tr.expr(node.this, scope), tr.expr(node.args["zone"], scope))


def _coalesce(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    # Written by sqlglot for a JOIN ... USING column.
    return _scalar("coalesce")([tr.expr(a, scope) for a in [node.this, *node.expressions]])


def _listagg(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    assert isinstance(node, exp.GroupConcat)  # sqlglot's reading of listagg(...) WITHIN GROUP (...)
    return listagg(tr, node, scope)


def _parse_json(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions.json_functions import json_literal

    # JSON 'x' (json_parse(x) is a plain call).
    if node.args.get("is_literal") and isinstance(node.this, exp.Literal) and node.this.is_string:
        return json_literal(node.this.this)
    return _scalar("json_parse")([tr.expr(node.this, scope)])


# sqlglot's node classes for Trino's functions it reads itself, and their translations.
NODE_CALLS: dict[type, NodeCall] = {
    exp.CurrentTimestamp: _current_timestamp,
    exp.CurrentDate: _current_date,
    exp.Extract: _extract,
    exp.Substring: _substring,
    exp.StrPosition: _position,
    exp.Trim: _trim,
    exp.Chr: _chr,
    exp.Normalize: _normalize,
    exp.AtTimeZone: _at_time_zone,
    exp.Coalesce: _coalesce,
    exp.GroupConcat: _listagg,
    exp.ParseJSON: _parse_json,
}


def node_call(node: exp.Expression) -> NodeCall | None:
    for kind in type(node).__mro__:
        found = NODE_CALLS.get(kind)
        if found is not None:
            return found
    return None


def call(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    name = function_name(node)
    by_node = node_call(node)
    if by_node is not None:
        return by_node(tr, node, scope)
    if not isinstance(node, exp.Anonymous):
        raise UnsupportedQuery(f"the function {TRINO_NAMES.get(type(node), name)}")
    raw = list(node.expressions)
    spec = REGISTRY.get(name)
    if spec is None or spec.translate is None:  # not registered, refused, or syntax of its own
        raise UnsupportedQuery(f"the function {name}()")
    if spec.kind == "aggregate":
        return aggregate(tr, node, scope)
    if spec.kind == "window":
        raise QueryError(f"{name}() needs an OVER clause")
    if spec.kind == "raw":
        return spec.translate(tr, raw, scope)
    if spec.kind == "literals":
        # These need some arguments as literals (patterns, paths) to be translated exactly.
        literals = [_literal_string(a) for a in raw]
        args = [tr.expr(a, scope) for a in raw]
        return spec.translate(args, literals)
    return spec.translate([tr.expr(a, scope) for a in raw])


# ---- functions written as syntax of their own, or refused by name ----------------------------------
_strings = Family("strings")
_strings.node("normalize", args="varchar[, form]", returns="varchar", via="Normalize")
_strings.node("position", args="substring IN string", returns="bigint", via="StrPosition")


@Family("aggregates").raw("grouping", args="column, ...", returns="bigint")
def _grouping(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    """The grouping-set bitmask: the same standard definition in DuckDB."""
    if not raw:
        raise QueryError("grouping() needs at least one argument")
    return Typed(f"grouping({', '.join(tr.expr(a, scope).sql for a in raw)})", tt.BIGINT)
