"""Expressions: each sqlglot node the translator accepts, typed and emitted as DuckDB text.

A node type that is not handled here is refused by name, so the local engine never passes an
expression it has not checked through to DuckDB's own (different) semantics.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.correlation import injective_coercion
from dw_platform.query.instant_keys import instant_of
from dw_platform.query.operators import (
    Typed,
    arithmetic,
    cast,
    coerce,
    coerce_all,
    comparable,
    comparison,
    literal_number,
    negate,
    string_literal,
)
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

_ARITHMETIC = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}
_COMPARISON = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def translate_expression(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query import functions

    handler = _NODES.get(type(node))
    if handler is not None:
        return handler(tr, node, scope)
    if isinstance(node, exp.Func):
        return functions.call(tr, node, scope)
    raise UnsupportedQuery(f"the expression {node.sql('trino')[:60]!r}")


def _refused(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    raise UnsupportedQuery(f"the expression {node.sql('trino')[:60]!r}")


def _paren(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    inner = tr.expr(node.this, scope)
    return Typed(f"({inner.sql})", inner.type)


def _literal(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    return string_literal(node.this) if node.is_string else literal_number(node.this)


def _hex_string(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions.binary_functions import hex_literal

    return hex_literal(node.this)


def _identifier(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:  # a lambda parameter
    return Typed(quote(node.name), scope.resolve("", node.name))


def _arithmetic(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    return arithmetic(_ARITHMETIC[type(node)], tr.expr(node.this, scope), tr.expr(node.expression, scope))


def _comparison(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    kind = type(node)
    if _quantifier(node.expression):
        return _quantified(tr, _COMPARISON[kind], node, scope)
    left, right = tr.expr(node.this, scope), tr.expr(node.expression, scope)
    if kind is exp.EQ and left.type != right.type:
        # The sides Trino coerces non-injectively (bigint to double): a correlated equality
        # whose subquery side is one is no join key for its decorrelation (correlation.py).
        common = tt.common_super_type(left.type, right.type)
        if common is not None:
            sides = (("this", left), ("expression", right))
            lossy = {side for side, t in sides if not injective_coercion(t.type, common)}
            node.meta["dw_not_injective"] = lossy
    return comparison(_COMPARISON[kind], left, right)


def _null_safe(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    left, right = comparable(tr.expr(node.this, scope), tr.expr(node.expression, scope), "IS DISTINCT FROM")
    op = "IS NOT DISTINCT FROM" if type(node) is exp.NullSafeEQ else "IS DISTINCT FROM"
    return Typed(f"(({left.sql}) {op} ({right.sql}))", tt.BOOLEAN)


def _logical(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    left, right = tr.boolean(node.this, scope), tr.boolean(node.expression, scope)
    return Typed(f"(({left.sql}) {'AND' if type(node) is exp.And else 'OR'} ({right.sql}))", tt.BOOLEAN)


def _is(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    value = tr.expr(node.this, scope)
    if not isinstance(node.expression, exp.Null):
        raise UnsupportedQuery(f"IS {node.expression.sql('trino')}")
    return Typed(f"(({value.sql}) IS NULL)", tt.BOOLEAN)


def _exists(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    sql, _ = tr.subquery(node.this, scope, exists=True)
    return Typed(f"EXISTS ({sql})", tt.BOOLEAN)


def _scalar_subquery(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    sql, columns = tr.subquery(node.this, scope)
    if len(columns) != 1:
        raise QueryError("a scalar subquery must return one column")
    # Trino fails when a scalar subquery returns more than one row; so does this.
    return Typed(f"dw_single_row(ARRAY({sql}))", columns[0][1])


def _escape(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    if not isinstance(node.this, exp.Like):
        return _refused(tr, node, scope)
    return _like(tr, node.this, scope, node.expression)


def _ilike(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    raise QueryError("ILIKE is not Trino SQL: use lower(x) LIKE ...")


def _concatenation(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions import concat_values

    return concat_values([tr.expr(node.this, scope), tr.expr(node.expression, scope)])


def _if(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    branches = [(node.this, node.args.get("true"))]
    return _branches(tr, branches, node.args.get("false"), scope)


def _cast(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    target = tt.from_sqlglot(node.to)
    safe = type(node) is exp.TryCast or bool(node.args.get("safe"))
    return cast(tr.expr(node.this, scope), target, safe=safe)


def _interval(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.datetime_ops import interval_literal

    assert isinstance(node, exp.Interval)
    return interval_literal(node)


def _tuple(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:  # (a, b) is ROW(a, b) in Trino
    from dw_platform.query.functions import lookup

    row = lookup("row")
    assert row is not None and row.translate is not None
    return row.translate([tr.expr(e, scope) for e in node.expressions])


def _array(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions import array_constructor

    return array_constructor([tr.expr(e, scope) for e in node.expressions])


def _bracket(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions import subscript

    # The subscript as written (WrittenTrino keeps it 1-based).
    return subscript(tr.expr(node.this, scope), [tr.expr(e, scope) for e in node.expressions])


def _dot(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions import row_field

    if isinstance(node.expression, exp.Star):
        raise UnsupportedQuery("expanding a row's fields with .*")
    return row_field(tr.expr(node.this, scope), node.expression.name)


def _window(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions import window

    assert isinstance(node, exp.Window)
    return window(tr, node, scope)


def _filter(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions import aggregate

    return aggregate(tr, node.this, scope, filter_=node.expression)


def _arg_extreme(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.functions import aggregate

    return aggregate(tr, node, scope)


def _at_time_zone(tr: "Translator", node: exp.Expression, scope: Scope) -> Typed:
    from dw_platform.query.datetime_ops import at_timezone

    return at_timezone(tr.expr(node.this, scope), tr.expr(node.args["zone"], scope))


def _column(node: exp.Column, scope: Scope) -> Typed:
    if node.args.get("db") or node.args.get("catalog"):
        raise UnsupportedQuery(f"the column reference {node.sql('trino')}")
    table, name = node.table, node.name
    t = scope.resolve(table, name)
    return Typed(f"{quote(table)}.{quote(name)}" if table else quote(name), t)


def _between(tr: "Translator", node: exp.Between, scope: Scope) -> Typed:
    value, low, high = (tr.expr(node.args[k], scope) for k in ("this", "low", "high"))
    (value, low, high), common = coerce_all([value, low, high], "BETWEEN")
    if common.name == "timestamptz":
        value, low, high = (Typed(f"({v.sql}).i", common) for v in (value, low, high))
    if common.name in ("array", "map", "row") and not node.args.get("symmetric"):
        return Typed(
            f"({comparison('>=', value, low).sql} AND {comparison('<=', value, high).sql})", tt.BOOLEAN
        )
    if common.name in ("double", "real") and not node.args.get("symmetric"):
        # DuckDB orders NaN above every number; Trino's v >= low AND v <= high is false with a NaN.
        nan = " OR ".join(f"isnan({v.sql})" for v in (value, low, high))
        return Typed(
            f"(CASE WHEN {nan} THEN false ELSE ({value.sql}) BETWEEN ({low.sql}) AND ({high.sql}) END)",
            tt.BOOLEAN,
        )
    if common.name in ("double", "real", "array", "map", "row"):
        raise UnsupportedQuery(f"BETWEEN SYMMETRIC over {common.trino()}")
    if node.args.get("symmetric"):
        text = (
            f"(({value.sql}) BETWEEN least({low.sql}, {high.sql}) AND greatest({low.sql}, {high.sql}) "
            f"AND ({low.sql}) IS NOT NULL AND ({high.sql}) IS NOT NULL)"
        )
        # NULL ends give NULL, as a comparison with NULL does.
        nulls = f"({low.sql}) IS NULL OR ({high.sql}) IS NULL OR ({value.sql}) IS NULL"
        text = f"CASE WHEN {nulls} THEN NULL ELSE {text} END"
        return Typed(text, tt.BOOLEAN)
    text = f"(({value.sql}) BETWEEN ({low.sql}) AND ({high.sql}))"
    if common.name in ("double", "real"):
        # IEEE: nothing is between NaN and anything; DuckDB orders NaN above every number.
        nan = f"isnan({value.sql}) OR isnan({low.sql}) OR isnan({high.sql})"
        text = f"(CASE WHEN {nan} THEN false ELSE {text} END)"
    return Typed(text, tt.BOOLEAN)


def _in(tr: "Translator", node: exp.In, scope: Scope) -> Typed:
    value = tr.expr(node.this, scope)
    query = node.args.get("query")
    written = node.expressions
    if query is None and len(written) == 1 and isinstance(written[0], exp.Values | exp.Query):
        query = written[0]  # x IN (VALUES 1, 2): sqlglot reads the VALUES as the one member
    if query is not None:
        sql, columns = tr.subquery(query.this if isinstance(query, exp.Subquery) else query, scope, in_=True)
        if len(columns) != 1:
            if value.type.name == "row":  # ROW(1, 2) IN (SELECT 1, 2): Trino compares the rows
                raise UnsupportedQuery("ROW(...) IN (a subquery of several columns)")
            raise QueryError("an IN subquery must return one column")
        common = tt.common_super_type(value.type, columns[0][1])
        if "row" in (value.type.name, columns[0][1].name) and (common is None or common.name == "row"):
            raise UnsupportedQuery("IN (subquery) over rows")
        if common is None:
            raise QueryError(f"IN compares {value.type.trino()} with {columns[0][1].trino()}")
        if common.name == "json":
            raise UnsupportedQuery(f"IN over values of type {common.trino()}")
        member = cast(Typed(quote(columns[0][0]), columns[0][1]), common)
        needle = coerce(value, common)
        if common.name == "timestamptz":  # Trino compares the instants; the zones take no part
            member, needle = Typed(instant_of(member), common), Typed(instant_of(needle), common)
        if common.name in ("array", "map", "row"):
            # DuckDB's IN finds nested NULLs (and NaN) equal; Trino's is `=` member by member:
            # true if one is true, else NULL if one is NULL, else false (also for no members).
            equal = comparison("=", needle, Typed(member.sql, common)).sql
            return Typed(
                f"(SELECT CASE WHEN bool_or(__dw_e) THEN true WHEN bool_or(__dw_e IS NULL) THEN NULL "
                f"ELSE false END FROM (SELECT {equal} AS __dw_e FROM ({sql}) AS __dw_in) AS __dw_in_e)",
                tt.BOOLEAN,
            )
        where = ""
        if common.name in ("double", "real"):  # NaN equals nothing, itself included, in Trino
            where = f" WHERE ({member.sql}) IS NULL OR NOT isnan({member.sql})"
        inner = f"SELECT {member.sql} FROM ({sql}) AS __dw_in{where}"
        return Typed(f"(({needle.sql}) IN ({inner}))", tt.BOOLEAN)
    if node.args.get("unnest") or node.args.get("field"):
        raise UnsupportedQuery("this form of IN")
    members = [tr.expr(e, scope) for e in node.expressions]
    values, common = coerce_all([value, *members], "IN")
    if common.name == "json":
        raise QueryError("values of type json cannot be compared")
    if common.name in ("timestamptz", "array", "map", "row", "double", "real"):
        # Trino's x IN (a, b) is x = a OR x = b, with `=`'s NULL and NaN rules.
        text = "(" + " OR ".join(comparison("=", values[0], v).sql for v in values[1:]) + ")"
    else:
        text = f"(({values[0].sql}) IN ({', '.join(v.sql for v in values[1:])}))"
    if any(e.find(exp.Div, exp.Mod, exp.Anonymous) for e in node.expressions):
        # Trino evaluates every member, so `3 IN (3, 5 / 0)` fails; DuckDB stops at the first match.
        every = ", ".join(v.sql for v in values[1:])
        text = f"(CASE WHEN len([{every}]) IS NULL THEN NULL ELSE {text} END)"
    return Typed(text, tt.BOOLEAN)


def _like(tr: "Translator", node: exp.Like, scope: Scope, escape: exp.Expression | None) -> Typed:
    value, pattern = tr.expr(node.this, scope), tr.expr(node.expression, scope)
    for operand in (value, pattern):
        if not (operand.type.is_string or operand.type.is_char or operand.type.is_unknown):
            raise QueryError(f"LIKE needs varchar operands, got {operand.type.trino()}")
    negate = "NOT " if node.args.get("negate") else ""
    if escape is None:
        # DuckDB's LIKE has no default escape character either; `\` is literal in both.
        return Typed(f"({negate}({value.sql}) LIKE ({pattern.sql}) ESCAPE '')", tt.BOOLEAN)
    esc = tr.expr(escape, scope)
    return Typed(f"({negate}({value.sql}) LIKE ({pattern.sql}) ESCAPE ({esc.sql}))", tt.BOOLEAN)


def _case(tr: "Translator", node: exp.Case, scope: Scope) -> Typed:
    subject = node.this
    branches = []
    for when in node.args.get("ifs") or []:
        condition = when.this
        if subject is not None:
            condition = exp.EQ(this=subject.copy(), expression=condition)
        branches.append((condition, when.args.get("true")))
    return _branches(tr, branches, node.args.get("default"), scope)


def _branches(
    tr: "Translator",
    branches: list[tuple[exp.Expression, exp.Expression | None]],
    default: exp.Expression | None,
    scope: Scope,
) -> Typed:
    conditions = [tr.boolean(c, scope) for c, _ in branches]
    results = [tr.expr(r, scope) if r is not None else Typed("NULL", tt.UNKNOWN) for _, r in branches]
    otherwise = tr.expr(default, scope) if default is not None else Typed("NULL", tt.UNKNOWN)
    values, common = coerce_all([*results, otherwise], "CASE")
    text = " ".join(f"WHEN {c.sql} THEN {v.sql}" for c, v in zip(conditions, values[:-1], strict=True))
    if common.is_unknown:
        common = tt.UNKNOWN
    return Typed(f"(CASE {text} ELSE {values[-1].sql} END)", common)


def _quantifier(node: exp.Expression) -> tuple[str, exp.Expression] | None:
    """`ALL (subquery)` / `ANY (...)` / `SOME (...)` on a comparison's right: the quantifier and the
    query (sqlglot reads `ALL (VALUES ...)` and `SOME (...)` as function calls)."""
    if isinstance(node, exp.All | exp.Any):
        quantifier, query = ("ALL" if isinstance(node, exp.All) else "ANY"), node.this
    elif (
        isinstance(node, exp.Anonymous)
        and str(node.this).upper() in ("ALL", "ANY", "SOME")
        and len(node.expressions) == 1
    ):
        quantifier, query = ("ALL" if str(node.this).upper() == "ALL" else "ANY"), node.expressions[0]
    else:
        return None
    if isinstance(query, exp.Subquery):
        query = query.this
    if not isinstance(query, exp.Query | exp.Values):
        return None
    return quantifier, query


def _quantified(tr: "Translator", op: str, node: exp.Expression, scope: Scope) -> Typed:
    """`x op ALL|ANY|SOME (subquery)`, with SQL's (and Trino's) NULL rules, which DuckDB's follow:
    ALL over no rows is true, ANY over no rows false; a NULL comparison that decides nothing makes
    the result NULL."""
    found = _quantifier(node.expression)
    assert found is not None
    quantifier, query = found
    value = tr.expr(node.this, scope)
    sql, columns = tr.subquery(query, scope)
    if len(columns) != 1:
        raise UnsupportedQuery(f"{quantifier} over a subquery of {len(columns)} columns")
    common = tt.common_super_type(value.type, columns[0][1])
    if "row" in (value.type.name, columns[0][1].name) and (common is None or common.name == "row"):
        # Trino compares a one-field row with a one-column subquery's rows.
        raise UnsupportedQuery(f"{op} {quantifier} (subquery) over rows")
    if common is None:
        raise QueryError(f"{op} {quantifier} compares {value.type.trino()} with {columns[0][1].trino()}")
    if common.name in ("timestamptz", "json", "map", "row", "array", "double", "real"):
        # Rows and arrays compare field by field in Trino; doubles hold NaN, which DuckDB orders.
        raise UnsupportedQuery(f"{op} {quantifier} (subquery) over values of type {common.trino()}")
    inner = f"SELECT {cast(Typed(quote(columns[0][0]), columns[0][1]), common).sql} FROM ({sql}) AS __dw_q"
    return Typed(f"(({coerce(value, common).sql}) {op} {quantifier} ({inner}))", tt.BOOLEAN)


Handler = Callable[["Translator", exp.Expression, Scope], Typed]
# Each sqlglot node class the translator accepts (by exact class) and its translation; any other
# function node is a call (functions/calls.py), anything else is refused.
_NODES: dict[type[exp.Expression], Handler] = {
    exp.HexString: _hex_string,
    exp.Paren: _paren,
    exp.Literal: _literal,
    exp.Boolean: lambda tr, node, scope: Typed("true" if node.this else "false", tt.BOOLEAN),
    exp.Null: lambda tr, node, scope: Typed("NULL", tt.UNKNOWN),
    exp.Column: lambda tr, node, scope: _column(node, scope),  # type: ignore[arg-type]
    exp.Identifier: _identifier,
    **dict.fromkeys(_ARITHMETIC, _arithmetic),
    exp.Neg: lambda tr, node, scope: negate(tr.expr(node.this, scope)),
    **dict.fromkeys(_COMPARISON, _comparison),
    exp.NullSafeEQ: _null_safe,
    exp.NullSafeNEQ: _null_safe,
    exp.And: _logical,
    exp.Or: _logical,
    exp.Not: lambda tr, node, scope: Typed(f"(NOT ({tr.boolean(node.this, scope).sql}))", tt.BOOLEAN),
    exp.Is: _is,
    exp.Between: lambda tr, node, scope: _between(tr, node, scope),  # type: ignore[arg-type]
    exp.In: lambda tr, node, scope: _in(tr, node, scope),  # type: ignore[arg-type]
    exp.Exists: _exists,
    exp.Subquery: _scalar_subquery,
    exp.Like: lambda tr, node, scope: _like(tr, node, scope, None),  # type: ignore[arg-type]
    exp.Escape: _escape,
    exp.ILike: _ilike,
    exp.DPipe: _concatenation,
    exp.Case: lambda tr, node, scope: _case(tr, node, scope),  # type: ignore[arg-type]
    exp.If: _if,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Interval: _interval,
    exp.Tuple: _tuple,
    exp.Array: _array,
    exp.Bracket: _bracket,
    exp.Dot: _dot,
    exp.Window: _window,
    exp.Filter: _filter,
    exp.AtTimeZone: _at_time_zone,
    exp.ArgMax: _arg_extreme,
    exp.ArgMin: _arg_extreme,
}
