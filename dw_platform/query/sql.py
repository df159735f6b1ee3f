"""Athena (Trino) SQL parsing with sqlglot, and the errors a query can end in."""

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import DialectType

from dw_platform.errors import UserInputError

ATHENA = "athena"
# Deeper nesting than this is refused before sqlglot's recursive parser could overflow the stack.
MAX_NESTING = 200


class QueryError(UserInputError):
    """A query the platform refuses or cannot parse; the message says why."""


class UnsupportedQuery(QueryError):
    """Valid Athena SQL the local engine cannot answer exactly: refused rather than approximated."""

    def __init__(self, feature: str) -> None:
        self.feature = feature
        super().__init__(f"not supported by the local engine: {feature}; run it on the AWS profile")


class QueryExecutionError(QueryError):
    """The query ran and failed, as it would on Athena (division by zero, a bad cast, ...)."""


def _nesting_depth(sql: str) -> int:
    depth = deepest = 0
    for char in sql:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def parse_statement(sql: str, dialect: DialectType = ATHENA) -> exp.Expression:
    """Parse exactly one Athena statement."""
    if _nesting_depth(sql) > MAX_NESTING:
        raise QueryError(f"the query nests parentheses deeper than {MAX_NESTING} levels")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as error:
        raise QueryError(f"cannot parse query: {_first_line(error)}") from None
    except RecursionError:
        raise QueryError("the query is nested too deeply to parse") from None
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def parse_query(sql: str) -> exp.Query:
    """Parse one read-only Athena query (SELECT, WITH, VALUES, set operations)."""
    statement = parse_statement(sql)
    if not isinstance(statement, exp.Query):
        raise QueryError(f"only queries (SELECT, WITH, UNION, ...) are accepted, got {statement.key.upper()}")
    return statement


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
