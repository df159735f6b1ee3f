"""Athena (Trino) SQL parsing and transpilation with sqlglot."""

import sqlglot
from sqlglot import exp

ATHENA = "athena"


class QueryError(ValueError):
    """A query the platform refuses or cannot parse; the message says why."""


def parse_query(sql: str) -> exp.Expression:
    """Parse one read-only Athena statement."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=ATHENA) if s is not None]
    except sqlglot.errors.ParseError as error:
        raise QueryError(f"cannot parse query: {error}") from None
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise QueryError(f"only queries (SELECT, WITH, UNION, ...) are accepted, got {statement.key.upper()}")
    return statement


def to_duckdb(tree: exp.Expression) -> str:
    return tree.sql(dialect="duckdb")


def transpile(sql: str) -> str:
    """Athena SQL -> DuckDB SQL (for one read-only statement)."""
    return to_duckdb(parse_query(sql))
