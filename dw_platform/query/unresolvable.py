"""Queries Trino resolves but sqlglot's qualify step cannot: refused by name before (or instead of)
a generic "cannot resolve the query"."""

from __future__ import annotations

from sqlglot import exp

from dw_platform.query.sql import QueryError, UnsupportedQuery

# A qualify error that, with an UNNEST in a nested query, means the UNNEST reads an outer column.
_MISSING_SOURCES = "missing source schemas"


def refuse_unresolvable(tree: exp.Expression) -> None:
    """Refuse, before qualifying, what sqlglot cannot resolve: the fields of `t.r.*` (all fields of
    a row-typed column) named outside its SELECT list, and a relation name used twice in one FROM
    clause (`t JOIN t USING (k)`, `t(a), LATERAL (...) t`, `t(a) CROSS JOIN UNNEST(a) t(x)`)."""
    for column in tree.find_all(exp.Column):
        if isinstance(column.this, exp.Star) and column.args.get("db"):
            _refuse_row_fields_read_by_name(column)
    for unnest in tree.find_all(exp.Unnest):
        if any(_is_array_of_rows(e) for e in unnest.expressions):
            # Refused when translated too; before qualify, whose error would hide that reason
            # (but a field name that is ambiguous in the query is Trino's error first).
            _refuse_ambiguous_field(unnest)
            raise UnsupportedQuery("UNNEST of an array of rows")
    for select in tree.find_all(exp.Select):
        seen: set[str] = set()
        for source in _from_items(select):
            name = _relation_name(source)
            if not name:
                continue
            if name in seen:
                raise UnsupportedQuery(f"the relation name {name} used twice in one FROM clause")
            seen.add(name)


def _refuse_row_fields_read_by_name(column: exp.Column) -> None:
    """`t.r.*` without `AS (names)` expands where it is written; sqlglot sees neither its fields'
    names nor their positions, so an ORDER BY naming them (by position or by field name) and an
    enclosing query reading them are refused."""
    select = column.find_ancestor(exp.Select)
    if select is None or isinstance(column.parent, exp.Aliases):
        return
    written = column.sql(dialect="trino")
    if _names_reach_an_outer_query(select):
        raise UnsupportedQuery(f"a subquery of all fields of a row column ({written}) read by an outer query")
    order = select.args.get("order")
    if order is None:
        return
    known = {e.alias_or_name.lower() for e in select.expressions if e.alias_or_name}
    for source in _from_items(select):
        alias = source.args.get("alias")
        if isinstance(alias, exp.TableAlias):
            known |= {c.name.lower() for c in alias.columns}
    for key in order.expressions:
        key = key.this if isinstance(key, exp.Ordered) else key
        by_position = isinstance(key, exp.Literal) and not key.is_string
        by_field = isinstance(key, exp.Column) and not key.table and key.name.lower() not in known
        if by_position or by_field:
            raise UnsupportedQuery(f"ORDER BY a field of all fields of a row column ({written})")


def _names_reach_an_outer_query(select: exp.Select) -> bool:
    """Whether the output names of `select` are those of a subquery or WITH query that another
    query reads: it is the leftmost branch of its set operations, under no column alias list."""
    node: exp.Expression = select
    while isinstance(node.parent, (exp.Union, exp.Except, exp.Intersect)):
        if node is not node.parent.this:
            return False  # a set operation's names are its first branch's
        node = node.parent
    if not isinstance(node.parent, (exp.Subquery, exp.CTE)):
        return False
    alias = node.parent.args.get("alias")
    return not (isinstance(alias, exp.TableAlias) and alias.columns)


def refuse_unresolved_unnest(tree: exp.Expression, message: str) -> None:
    """After qualify failed for want of a source: an UNNEST in a subquery or LATERAL whose array
    is a column of an enclosing query is the construct it could not resolve."""
    if _MISSING_SOURCES not in message:
        return
    for unnest in tree.find_all(exp.Unnest):
        enclosing = unnest.find_ancestor(exp.Select)
        nested = enclosing is not None and enclosing.find_ancestor(exp.Select, exp.Lateral) is not None
        lateral = unnest.find_ancestor(exp.Lateral) is not None
        if (nested or lateral) and any(unnest.find_all(exp.Column)):
            raise UnsupportedQuery("UNNEST of a column of an enclosing query (in a subquery or LATERAL)")


def _refuse_ambiguous_field(unnest: exp.Unnest) -> None:
    """Without a column alias list, UNNEST of CAST(... AS ARRAY(ROW(x ..., y ...))) has columns x
    and y; an unqualified name that two FROM items of the query provide is ambiguous in Trino."""
    select = unnest.find_ancestor(exp.Select)
    alias = unnest.args.get("alias")
    if select is None or (isinstance(alias, exp.TableAlias) and alias.columns):
        return
    provided: list[str] = []
    for source in _from_items(select):
        if source is unnest:
            for node in unnest.expressions:
                if isinstance(node, exp.Cast) and node.to.expressions:
                    row = node.to.expressions[0]
                    provided += [f.name.lower() for f in row.expressions if isinstance(f, exp.ColumnDef)]
        elif isinstance(source.args.get("alias"), exp.TableAlias):
            provided += [c.name.lower() for c in source.args["alias"].columns]
    for column in select.find_all(exp.Column):
        if not column.table and provided.count(column.name.lower()) > 1:
            raise QueryError(f"Column '{column.name}' is ambiguous")


def _is_array_of_rows(node: exp.Expression) -> bool:
    """An array of rows as written: ARRAY[ROW(...), ...] or CAST(... AS ARRAY(ROW(...)))."""
    if isinstance(node, exp.Cast):
        to = node.to
        return to.is_type(exp.DataType.Type.ARRAY) and any(
            e.is_type(exp.DataType.Type.STRUCT) for e in to.expressions if isinstance(e, exp.DataType)
        )
    if isinstance(node, exp.Array) and node.expressions:
        first = node.expressions[0]
        return (isinstance(first, exp.Anonymous) and first.name.upper() == "ROW") or isinstance(
            first, exp.Struct
        )
    return False


def _from_items(select: exp.Select) -> list[exp.Expression]:
    items = []
    source = select.args.get("from_") or select.args.get("from")
    if source is not None:
        items.append(source.this)
    items += [join.this for join in select.args.get("joins") or []]
    return items


def _relation_name(source: exp.Expression) -> str | None:
    if isinstance(source, exp.Table):
        return (source.alias or source.name or "").lower() or None
    alias = source.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.this is not None:
        return alias.name.lower() or None
    return None
