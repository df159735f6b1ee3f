"""Trino syntax that sqlglot does not read, handled on the query's text or tokens before parsing:
either normalised to an equivalent spelling sqlglot reads, or refused by name (never a generic
parse error for a statement Trino accepts)."""

from __future__ import annotations

import json
import re
from typing import Any

from dw_platform.query.sql import QueryExecutionError, UnsupportedQuery

_JSON_CONSTRUCTORS = ("JSON_ARRAY", "JSON_OBJECT")
_JSON_QUERIES = ("JSON_EXISTS", "JSON_QUERY", "JSON_VALUE")


def binary_literals_without_spaces(sql: str) -> str:
    """Trino's BINARY_LITERAL is X'...' with any whitespace between the hex digits (BinaryLiteral
    removes it: X'00 00 7b' is X'00007b'); sqlglot's tokenizer stops at the space. String
    literals, quoted identifiers and comments are skipped."""
    if "'" not in sql:
        return sql
    out, at, size = [], 0, len(sql)
    while at < size:
        char = sql[at]
        if char in "'\"":
            end = _closing_quote(sql, at, char)
            out.append(sql[at:end])
            at = end
        elif sql.startswith("--", at):
            end = sql.find("\n", at)
            end = size if end < 0 else end
            out.append(sql[at:end])
            at = end
        elif sql.startswith("/*", at):
            end = sql.find("*/", at + 2)
            end = size if end < 0 else end + 2
            out.append(sql[at:end])
            at = end
        elif (
            char in "xX"
            and sql.startswith("'", at + 1)
            and (at == 0 or not (sql[at - 1].isalnum() or sql[at - 1] in "_$"))
        ):
            end = _closing_quote(sql, at + 1, "'")
            body = sql[at + 2 : end - 1]
            closed = end - 1 > at + 1 and sql[end - 1] == "'"
            out.append(char + "'" + re.sub(r"\s+", "", body) + "'" if closed else sql[at:end])
            at = end
        else:
            out.append(char)
            at += 1
    return "".join(out)


def _is_json(text: str) -> bool:
    def no_constants(name: str) -> None:
        raise ValueError(name)  # NaN / Infinity are no JSON

    try:
        json.loads(text, parse_constant=no_constants)
    except ValueError:
        return False
    return True


def _closing_quote(sql: str, start: int, quote: str) -> int:
    """The index just past the quote closing the one at `start` (a doubled quote escapes)."""
    at = start + 1
    while at < len(sql):
        if sql[at] == quote:
            if sql.startswith(quote, at + 1):
                at += 2
                continue
            return at + 1
        at += 1
    return len(sql)


def refuse_unread_syntax(tokens: list[Any]) -> None:
    """Refuse, by Trino's name for it, syntax Trino accepts and sqlglot cannot read or the engine
    would misread: the JSON constructors' FORMAT JSON / RETURNING / NULL ON NULL clauses, the ON
    ERROR / ON EMPTY clauses of json_exists, json_query and json_value, a lambda
    without parameters, and Trino's internal "$internal$bind" function."""
    opened: list[str | None] = []  # per open parenthesis, the function it calls (upper case)
    for position, token in enumerate(tokens):
        kind = token.token_type.name
        previous = tokens[position - 1] if position else None
        if kind == "L_PAREN":
            is_call = previous is not None and previous.token_type.name == "VAR"
            opened.append(previous.text.upper() if is_call else None)
            continue
        if kind == "R_PAREN":
            if opened:
                opened.pop()
            following = tokens[position + 1] if position + 1 < len(tokens) else None
            empty = previous is not None and previous.token_type.name == "L_PAREN"
            if empty and following is not None and following.token_type.name == "ARROW":
                raise UnsupportedQuery("a lambda expression with no parameters (() -> ...)")
            continue
        if kind == "IDENTIFIER" and token.text.lower().startswith("$internal$"):
            raise UnsupportedQuery(f'Trino\'s internal function "{token.text}"')
        inside = opened[-1] if opened else None
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if inside in _JSON_QUERIES and kind == "ON" and following is not None:
            clause = following.text.upper()
            if clause in ("ERROR", "EMPTY"):  # `UNKNOWN ON ERROR`, `EMPTY ARRAY ON EMPTY`, ...
                raise UnsupportedQuery(f"{inside.lower()}(... ON {clause})")
        if inside not in _JSON_CONSTRUCTORS:
            continue
        name = inside.lower()
        if kind == "FORMAT":
            if previous is not None and previous.token_type.name == "STRING" and not _is_json(previous.text):
                # Trino parses the text as JSON first: JSON_INPUT_CONVERSION_ERROR (TestJsonArrayFunction).
                raise QueryExecutionError(f"conversion to JSON failed: {previous.text!r} is not a JSON text")
            raise UnsupportedQuery(f"{name}(... FORMAT JSON)")
        if kind == "RETURNING":
            raise UnsupportedQuery(f"{name}(... RETURNING type)")
        if (
            inside == "JSON_ARRAY"
            and token.text.upper() in ("NULL", "ABSENT")
            and position + 2 < len(tokens)
            and tokens[position + 1].token_type.name == "ON"
            and tokens[position + 2].token_type.name == "NULL"
            and (previous is None or previous.token_type.name != "ON")
        ):
            raise UnsupportedQuery(f"json_array(... {token.text.upper()} ON NULL)")


_SET_OPERATORS = ("UNION", "EXCEPT", "INTERSECT")
_ENDS_A_QUERY_TERM = (*_SET_OPERATORS, "ORDER_BY", "ORDER", "LIMIT", "OFFSET", "FETCH", "SEMICOLON")


def values_in_set_operations(sql: str, tokens: list[Any]) -> str:
    """In Trino a bare `VALUES ...` is a query term anywhere, so `(VALUES 1, 2 EXCEPT VALUES 2)`
    is a subquery; sqlglot reads VALUES as an operand of a set operation only at the top level.
    Inside parentheses, such a term is spelled `SELECT * FROM (VALUES ...)`, the same rows."""
    depth_of: list[int] = []
    depth = 0
    for token in tokens:
        kind = token.token_type.name
        if kind == "L_PAREN":
            depth += 1
        depth_of.append(depth)
        if kind == "R_PAREN":
            depth -= 1
    spans: list[tuple[int, int]] = []
    for position, token in enumerate(tokens):
        if token.token_type.name != "VALUES" or depth_of[position] == 0 or position == 0:
            continue
        depth = depth_of[position]
        before = tokens[position - 1].token_type.name
        after_set_operator = before in _SET_OPERATORS or (
            before in ("ALL", "DISTINCT")
            and position > 1
            and tokens[position - 2].token_type.name in _SET_OPERATORS
        )
        if before != "L_PAREN" and not after_set_operator:
            continue
        last, ended_by = position, None
        for following in range(position + 1, len(tokens)):
            kind = tokens[following].token_type.name
            if kind == "R_PAREN" and depth_of[following] == depth:
                ended_by = kind
                break
            if depth_of[following] == depth and kind in _ENDS_A_QUERY_TERM:
                ended_by = kind
                break
            last = following
        if after_set_operator or ended_by in _SET_OPERATORS:
            spans.append((token.start, tokens[last].end + 1))
    pieces, at = [], 0
    for start, end in spans:
        pieces += [sql[at:start], f"SELECT * FROM ({sql[start:end]})"]
        at = end
    return "".join(pieces) + sql[at:]
