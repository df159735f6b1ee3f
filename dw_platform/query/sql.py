"""Athena (Trino) SQL parsing with sqlglot, and the errors a query can end in."""

import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import DialectType

from dw_platform.errors import UserInputError

ATHENA = "athena"
# Deeper nesting than this is refused before sqlglot's recursive parser could overflow the stack.
MAX_NESTING = 200


class _CommandFallback(logging.Filter):
    """Drops sqlglot's warning that it parsed a statement as an opaque Command (EXPLAIN, CALL, ...):
    such a statement is refused in the platform's one line, and the warning would be a second line
    before it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_CommandFallback())


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
        raise QueryError(describe_parse_error(error)) from None
    except sqlglot.errors.TokenError as error:
        raise QueryError(describe_parse_error(error)) from None
    except RecursionError:
        raise QueryError("the query is nested too deeply to parse") from None
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def statement_kind(statement: exp.Expression) -> str:
    """What a statement is, as its author wrote it: EXPLAIN, CALL, ... rather than sqlglot's COMMAND."""
    if isinstance(statement, exp.Command):
        return str(statement.this).upper()
    return statement.key.upper()


def parse_query(sql: str) -> exp.Query:
    """Parse one read-only Athena query (SELECT, WITH, VALUES, set operations)."""
    statement = parse_statement(sql)
    if not isinstance(statement, exp.Query):
        raise QueryError(
            f"only queries (SELECT, WITH, UNION, ...) are accepted, got {statement_kind(statement)}"
        )
    return statement


# sqlglot's node classes, as a reader of the query calls them.
_CONSTRUCTS = {"Paren": "parenthesis", "Where": "WHERE clause", "Having": "HAVING clause", "Cast": "CAST"}
_CONSTRUCTS |= dict.fromkeys(("Add", "Sub", "Mul", "Div", "Mod", "DPipe", "And", "Or", "Not"), "expression")
_CONSTRUCTS |= dict.fromkeys(("EQ", "NEQ", "GT", "GTE", "LT", "LTE", "Like", "In", "Between"), "comparison")


def describe_parse_error(error: sqlglot.errors.ParseError | sqlglot.errors.TokenError) -> str:
    """A syntax error in the platform's words, on one line: what is wrong and where (no parser
    internals, no terminal escapes)."""
    if isinstance(error, sqlglot.errors.TokenError):
        # "Error tokenizing '<the query up to the fault>'": an unclosed quote, most often.
        found = re.search(r"Error tokenizing '(.*)'", str(error), re.S)
        near = found.group(1)[-30:] if found else ""
        return f"cannot parse query: unclosed quote or unreadable text near {' '.join(near.split())!r}"
    details = (error.errors or [{}])[0]
    description = str(details.get("description") or "syntax error")
    missing = re.search(r"Required keyword: '\w+' missing for <class '[\w.]*\.(\w+)'>", description)
    if missing:
        construct = _CONSTRUCTS.get(missing.group(1), missing.group(1).upper())
        description = f"incomplete {construct}"
    elif description.startswith("Expecting "):
        description = "expected " + description.removeprefix("Expecting ")
    elif description.startswith("Invalid expression / Unexpected token"):
        description = "unexpected"
    description = re.sub(r"\x1b\[[0-9;]*m", "", description)
    # A token in sqlglot's repr (`<Token token_type: TokenType.VAR, text: DATA, ...>`): its text.
    description = re.sub(
        r"<Token token_type: TokenType\.(\w+), text: (.*?), line: .*?>",
        lambda m: "the end of the query" if m.group(1) == "SENTINEL" else repr(m.group(2)),
        description,
    )
    highlight = " ".join(str(details.get("highlight") or "").split())
    where = f"line {details.get('line', '?')}, column {details.get('col', '?')}"
    near = f" {highlight!r}" if highlight else ""
    if description == "unexpected":
        return f"cannot parse query: unexpected{near or ' text'} at {where}"
    return f"cannot parse query: {description} at {where}" + (f", near{near}" if near else "")
