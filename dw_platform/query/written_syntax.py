"""Trino syntax that sqlglot does not read, handled on the query's text or tokens before parsing:
either normalised to an equivalent spelling sqlglot reads, or refused by name (never a generic
parse error for a statement Trino accepts)."""

from __future__ import annotations

import re
from typing import Any

from dw_platform.query.sql import UnsupportedQuery

_JSON_CONSTRUCTORS = ("JSON_ARRAY", "JSON_OBJECT")


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
    would misread: the JSON constructors' FORMAT JSON / RETURNING / NULL ON NULL clauses, a lambda
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
        if inside not in _JSON_CONSTRUCTORS:
            continue
        name = inside.lower()
        if kind == "FORMAT":
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
