"""How large the SQL DuckDB binds for a macro call grows: a macro's body is expanded in place of
each call, every parameter replaced by the argument's own expansion, and DuckDB binds (and plans)
every copy. A body naming its parameter n times multiplies the argument by n, so nested calls (the
analyst's `date_trunc('hour', from_iso8601_timestamp(event_time))`) multiply: planning that took
ten times DuckDB's own SQL's (issue 24). The expansion is counted here as DuckDB performs it,
textually, over the macros' own definitions."""

import re

from dw_platform.query.macros import MACROS

_CALL = re.compile(r"\b(dw_\w+)\(")


def _definitions() -> dict[str, tuple[list[str], str]]:
    found = {}
    for text in MACROS:
        head, body = text.split(" AS ", 1)
        name, params = head.split("(", 1)
        found[name] = ([p.strip() for p in params.rstrip(")").split(",")], body)
    return found


def _arguments(text: str, start: int) -> tuple[list[str], int]:
    """The arguments of the call whose '(' ends at `start`, and where the call ends."""
    depth, quoted, args, current = 0, False, [], ""
    for index in range(start, len(text)):
        char = text[index]
        quoted = not quoted if char == "'" else quoted
        if not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            if depth == 0:
                return [*args, current.strip()], index + 1
            depth -= 1
        elif not quoted and char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += char
    raise AssertionError(f"unbalanced call in {text!r}")


def expand(sql: str, definitions: dict[str, tuple[list[str], str]]) -> str:
    out, position = "", 0
    while (call := _CALL.search(sql, position)) is not None:
        out += sql[position : call.start()]
        args, position = _arguments(sql, call.end())
        args = [expand(a, definitions) for a in args]
        if call.group(1) not in definitions:
            out += f"{call.group(0)}{', '.join(args)})"
            continue
        params, body = definitions[call.group(1)]
        for param, arg in zip(params, args, strict=True):
            # A parameter as a name, not a field (`p.z`) nor inside a format ('%d')
            body = re.sub(rf"(?<!['.%])\b{param}\b", lambda _, a=arg: f"({a})", body)
        out += f"({expand(body, definitions)})"
    return out + sql[position:]


def test_the_event_hour_binds_the_event_time_at_most_54_times() -> None:
    """date_trunc('hour', from_iso8601_timestamp(event_time)) named the column 124 times once
    expanded: from_iso8601_timestamp named its general parser twice, date_trunc its value four times."""
    definitions = _definitions()
    expanded = expand("""dw_tstz_trunc('hour', dw_from_iso8601_timestamp("event_time"))""", definitions)
    assert "dw_from_iso8601" not in expanded and "dw_tstz_trunc" not in expanded
    assert expanded.count('"event_time"') <= 54
    assert expand("""dw_from_iso8601_timestamp("e")""", definitions).count('"e"') <= 18
