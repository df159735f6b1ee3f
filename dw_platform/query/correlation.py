"""Correlated subqueries Trino cannot plan, failed locally as Trino fails them.

Trino (401, Athena engine v3) answers a correlated subquery only where its optimizer can turn the
subquery into a join; otherwise the statement fails with "Given correlated subquery is not supported".
DuckDB plans every correlated subquery, so without this check the local engine would answer what
Athena rejects. The shapes below are the ones Trino's own tests (TestSubqueries) show it rejecting:
an outer column in a VALUES row or in the select list of a subquery that neither aggregates nor
unnests; LIMIT/FETCH or GROUP BY above a correlated predicate that is not an equality; LIMIT over a
grouped correlated subquery; a global aggregation over a correlated UNNEST whose every aggregate is
filtered. The check runs on the qualified tree, where every column names its relation.
"""

from sqlglot import exp

from dw_platform.query.sql import QueryError
from dw_platform.query.trino_types import TrinoType

UNSUPPORTED = "Given correlated subquery is not supported"


def check_subquery(
    subquery: exp.Expression, *, lateral: bool = False, exists: bool = False, in_: bool = False
) -> None:
    """Raise QueryError where `subquery` (the query inside a scalar/EXISTS/IN subquery, or a LATERAL
    one) is correlated in a shape Trino cannot plan."""
    inner = _relations(subquery)
    if (
        in_
        and isinstance(subquery, exp.Select)
        and any(_own(subquery, p, inner) for p in subquery.expressions)
    ):
        raise QueryError(UNSUPPORTED)  # x IN (SELECT outer_column ...): TestSelectAll
    for select in subquery.find_all(exp.Select):
        _check_select(select, inner, exists=exists, lateral=lateral)
    if not lateral:  # LATERAL (VALUES a) is planned; a scalar (VALUES a) is not
        for values in subquery.find_all(exp.Values):
            if any(_outer_columns(row, inner) for row in values.expressions):
                raise QueryError(UNSUPPORTED)


def is_correlated(subquery: exp.Expression) -> bool:
    return bool(_outer_columns(subquery, _relations(subquery)))


def _relations(node: exp.Expression) -> set[str]:
    names = set()
    for source in node.find_all(exp.Table, exp.Subquery, exp.Unnest, exp.Values, exp.CTE):
        alias = source.alias_or_name if not isinstance(source, exp.Unnest) else source.alias
        if alias:
            names.add(alias)
    return names


def _outer_columns(node: exp.Expression, inner: set[str]) -> list[exp.Column]:
    return [c for c in node.find_all(exp.Column) if c.table and c.table not in inner]


def _own(select: exp.Select, node: exp.Expression | None, inner: set[str]) -> list[exp.Column]:
    """Outer columns in `node` that belong to this SELECT (not to a subquery nested in it)."""
    if node is None:
        return []
    return [c for c in _outer_columns(node, inner) if c.find_ancestor(exp.Select) is select]


def _check_select(select: exp.Select, inner: set[str], *, exists: bool, lateral: bool) -> None:
    where = select.args.get("where")
    # A predicate on outer columns alone is a filter of the outer row, which Trino plans anywhere.
    correlated = [c for c in _conjuncts(where.this if where else None) if _mixed(select, c, inner)]
    non_equality = [c for c in correlated if not _equality(select, c, inner)]
    limited = any(select.args.get(k) for k in ("limit", "offset"))
    group = select.args.get("group")
    aggregates = [a for a in select.find_all(exp.AggFunc) if a.find_ancestor(exp.Select) is select]
    aggregates += [
        a
        for a in select.find_all(exp.Anonymous)
        if a.find_ancestor(exp.Select) is select and _is_aggregate_name(a.name)
    ]
    # Grouped aggregation over a non-equality correlation is planned in a scalar or LATERAL
    # subquery (TestCorrelatedAggregation), not under EXISTS or LIMIT (TestSubqueries).
    if (limited or (group and exists)) and non_equality:
        raise QueryError(UNSUPPORTED)
    if group and _own(select, group, inner):
        raise QueryError("Grouping field should originate from the subquery's own relations")
    sets = (exp.GroupingSets, exp.Cube, exp.Rollup)
    several = group is not None and (
        any(isinstance(e, sets) for e in group.expressions)
        or any(group.args.get(k) for k in ("grouping_sets", "cube", "rollup"))
    )
    if several and correlated:
        raise QueryError(UNSUPPORTED)
    order = select.args.get("order")
    if limited and order and any(_own(select, o, inner) for o in order.expressions):
        raise QueryError(UNSUPPORTED)  # TopN ordered by an outer column
    if limited and group and correlated:
        # Each grouping key fixed by a correlated equality leaves one group per outer row, which
        # Trino plans; other keys leave several groups for the LIMIT to choose from, which it does not.
        fixed = {_key(side) for c in correlated for side in (c.this, c.expression)}
        if any(_key(k) not in fixed for k in group.expressions):
            raise QueryError(UNSUPPORTED)
    unnests = [u for u in select.find_all(exp.Unnest) if u.find_ancestor(exp.Select) is select]
    if not exists:  # EXISTS ignores its select list
        _check_outer_projection(select, inner, lateral)
    # An outer column alone in the select list is a constant of the subquery; combined with the
    # subquery's own columns it is not (Trino: `SELECT a + b FROM (VALUES 1) t(a)` fails).
    plain = not aggregates and not group and not unnests
    if plain and any(_mixed(select, p, inner) for p in select.expressions):
        raise QueryError(UNSUPPORTED)
    if aggregates and not group and any(_outer_columns(u, inner) for u in select.find_all(exp.Unnest)):
        windowed = [a for a in aggregates if a.find_ancestor(exp.Window)]
        filtered = [a for a in aggregates if isinstance(a.parent, exp.Filter)]
        if not windowed and len(filtered) == len(aggregates):
            raise QueryError(UNSUPPORTED)


def _check_outer_projection(select: exp.Select, inner: set[str], lateral: bool) -> None:
    """A select list of outer columns only, filtered or limited (TestSelectAll): Trino plans it only
    with a WHERE that is constantly true, and a LIMIT only over a one-row VALUES in a scalar subquery."""
    outer = [p for p in select.expressions if _own(select, p, inner)]
    if not outer or any(_inner_columns(select, p, inner) for p in select.expressions):
        return
    where = select.args.get("where")
    if where is not None and not _constantly_true(where.this):
        raise QueryError(UNSUPPORTED)
    source = select.args.get("from_") or select.args.get("from")
    nested = [s for s in source.find_all(exp.Select) if s.args.get("limit")] if source is not None else []
    if select.args.get("limit") or select.args.get("offset") or nested:
        values = source.this if source is not None else None
        if isinstance(values, exp.Subquery):
            values = values.this
        one_row = (
            isinstance(values, exp.Values) and len(values.expressions) == 1 and not select.args.get("joins")
        )
        if lateral or not one_row:
            raise QueryError(UNSUPPORTED)


def _constantly_true(node: exp.Expression) -> bool:
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Paren):
        return _constantly_true(node.this)
    return (
        isinstance(node, exp.EQ)
        and all(isinstance(s, exp.Literal) for s in (node.this, node.expression))
        and node.this == node.expression
    )


def _key(node: exp.Expression) -> str:
    return node.sql("trino")


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node]


def _inner_columns(select: exp.Select, node: exp.Expression, inner: set[str]) -> list[exp.Column]:
    return [
        c for c in node.find_all(exp.Column) if c.table in inner and c.find_ancestor(exp.Select) is select
    ]


def _mixed(select: exp.Select, node: exp.Expression, inner: set[str]) -> bool:
    """Whether `node` combines outer columns with the subquery's own."""
    return bool(_own(select, node, inner)) and bool(_inner_columns(select, node, inner))


def _equality(select: exp.Select, node: exp.Expression, inner: set[str]) -> bool:
    """`inner expression = outer expression`: the shape Trino turns into a join key."""
    if not isinstance(node, exp.EQ):
        return False
    # A subquery side Trino casts non-injectively to the outer side's type (bigint = double) is
    # no join key (TestSubqueries.testUnsupportedSubqueriesWithCoercions, "non-injective coercion
    # bigint -> double"); an injective cast (integer to decimal, null to integer) is. The sides are
    # known once the comparison is typed (expressions.py), so the check runs again then.
    coerced = node.meta.get("dw_not_injective", set())
    sides = (("this", node.this, node.expression), ("expression", node.expression, node.this))
    return any(
        not _own(select, a, inner) and not _inner_columns(select, b, inner) and name not in coerced
        for name, a, b in sides
    )


def injective_coercion(source: TrinoType, result: TrinoType) -> bool:
    """Trino's TypeCoercion.isInjectiveCoercion for the implicit coercions of a comparison: whether
    distinct values stay distinct. bigint to double or real, and integer to real, lose digits of
    the mantissa; a decimal keeps its values only into a decimal of the same scale and
    representation (short up to precision 18, long above); nothing is injective into a timestamp
    with time zone."""
    if source == result:
        return True
    if (source.name, result.name) in (("bigint", "double"), ("bigint", "real"), ("integer", "real")):
        return False
    if source.name == "decimal" and result.name == "decimal":
        short = (source.precision or 0) <= 18, (result.precision or 0) <= 18
        return source.scale == result.scale and short[0] == short[1] and source.precision <= result.precision
    return result.name != "timestamptz"


def _is_aggregate_name(name: str) -> bool:
    from dw_platform.query.functions import is_aggregate

    return is_aggregate(name)
