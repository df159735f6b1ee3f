"""What the platform asks of a query engine, whichever answers: DuckDB over the lake (the local
engine, `query.engine`) or Athena (`query.athena`). Chosen once, when the runtime is built."""

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from dw_platform.query.engine import QueryResult
    from dw_platform.query.scan_plan import ScanPlan


class QueryEngine(Protocol):
    def plan(self, sql: str, *, allow_full_scan: bool = False, budgeted: bool = True) -> "ScanPlan":
        """What the query would read; refuses an unbounded scan of a partitioned table, and (if
        `budgeted`) a plan over the per-query budget."""
        ...

    def query(
        self,
        sql: str,
        *,
        allow_full_scan: bool = False,
        budgeted: bool = True,
        on_plan: "Callable[[ScanPlan], None] | None" = None,
        plain: bool = False,
    ) -> "QueryResult":
        """Run one read-only statement and return its rows with the Trino type of each column;
        `on_plan` is given the statement's plan before it runs; `plain`: the rows may come as
        PlainRows (query/plain_rows.py) instead of an Arrow table."""
        ...
