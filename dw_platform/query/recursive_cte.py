"""WITH RECURSIVE, as Trino plans it: unrolled to a fixed depth.

Trino (Athena engine v3) accepts `name(columns) AS (base UNION ALL step)`, where the step reads
`name`. It evaluates the base, then the step over the previous step's rows, at most
`max_recursion_depth` (10) times; if one more step would still give rows, the query fails with
"Recursion depth limit exceeded (10). Use 'max_recursion_depth' session property to modify the
limit." The column types are the base's; the step's must coerce to them. Unrolling the same way
(one materialized CTE per step, the last one checked for emptiness) gives Trino's answer and error,
where DuckDB's own WITH RECURSIVE would iterate without a limit.
"""

import itertools
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.operators import Typed, cast
from dw_platform.query.scopes import Columns, Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dw_platform.query.translator import Translator

MAX_RECURSION_DEPTH = 10
DEPTH_EXCEEDED = (
    f"Recursion depth limit exceeded ({MAX_RECURSION_DEPTH}). "
    "Use 'max_recursion_depth' session property to modify the limit."
)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def is_recursive(cte: exp.CTE) -> bool:
    name = cte.alias.lower()
    return any(t.name.lower() == name and not t.db for t in cte.this.find_all(exp.Table))


def recursive_cte(
    tr: "Translator", cte: exp.CTE, outer: Scope | None, ctes: "Mapping[str, Columns]"
) -> tuple[list[str], Columns]:
    """The CTE definitions (DuckDB text) that compute the recursive CTE `cte`, and its columns."""
    name = cte.alias
    alias = cte.args["alias"]
    if not alias.columns:
        raise QueryError(f"missing column aliases in recursive WITH query: {name}")
    body = cte.this
    if not isinstance(body, exp.Union):
        raise QueryError(f"recursive WITH query {name} must be the form 'base UNION ALL step'")
    if body.args.get("distinct") is not False:
        raise UnsupportedQuery("WITH RECURSIVE over UNION DISTINCT")
    if any(body.args.get(k) for k in ("order", "limit", "offset")):
        raise UnsupportedQuery("ORDER BY / LIMIT around a recursive WITH query")
    base, step = body.left, body.right
    if any(t.name.lower() == name.lower() and not t.db for t in base.find_all(exp.Table)):
        raise QueryError(f"the base of recursive WITH query {name} refers to {name}")
    base_sql, base_columns = tr.query(base, outer, ctes)
    names = [c.name for c in alias.columns]
    if len(names) != len(base_columns):
        raise QueryError(
            f"recursive WITH query {name} names {len(names)} columns, its base has {len(base_columns)}"
        )
    columns = [(n, t) for n, (_, t) in zip(names, base_columns, strict=True)]
    step_sql, step_columns = tr.query(step, outer, {**ctes, name: columns})
    if len(step_columns) != len(columns):
        raise QueryError(
            f"the step of recursive WITH query {name} has {len(step_columns)} columns, not {len(columns)}"
        )
    for (_, base_type), (_, step_type) in zip(columns, step_columns, strict=True):
        if tt.common_super_type(base_type, step_type) != base_type:
            raise QueryError(
                f"recursion step relation output type ({step_type.trino()}) is not coercible to "
                f"recursion base relation output type ({base_type.trino()})"
            )
    listed = "(" + ", ".join(quote(n) for n in names) + ")"
    step_casts = ", ".join(
        cast(Typed(quote(f"__dw_s{i}"), st), bt).sql if st != bt else quote(f"__dw_s{i}")
        for i, ((_, bt), (_, st)) in enumerate(zip(columns, step_columns, strict=True))
    )
    step_list = "(" + ", ".join(quote(f"__dw_s{i}") for i in range(len(columns))) + ")"
    level = [f"__dw_{name}_{k}" for k in range(MAX_RECURSION_DEPTH + 2)]
    parts = [f"{quote(level[0])}{listed} AS MATERIALIZED ({base_sql})"]
    for previous, current in itertools.pairwise(level):
        reads = f"WITH {quote(name)}{listed} AS (SELECT * FROM {quote(previous)})"
        parts.append(
            f"{quote(current)}{listed} AS MATERIALIZED "
            f"({reads} SELECT {step_casts} FROM ({step_sql}) AS __dw_step{step_list})"
        )
    first = quote(names[0])
    message = DEPTH_EXCEEDED.replace("'", "''")
    # One step past the limit must be empty; the check reads a column so that it is not folded.
    check = (
        f"SELECT * FROM {quote(level[-1])} WHERE (CASE WHEN {first} IS NULL THEN error('{message}') "
        f"ELSE error('{message}') END) IS NULL"
    )
    union = " UNION ALL ".join([*(f"SELECT * FROM {quote(n)}" for n in level[:-1]), check])
    parts.append(f"{quote(name)}{listed} AS ({union})")
    return parts, columns
