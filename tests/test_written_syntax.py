"""Trino syntax sqlglot cannot read: refused by Trino's name for it, never a generic parse error."""

import pytest

from dw_platform.query.sql import QueryExecutionError, UnsupportedQuery
from dw_platform.query.translator import parse_written


@pytest.mark.parametrize(
    ("sql", "feature"),
    [
        ("SELECT json_array(null NULL ON NULL)", "json_array(... NULL ON NULL)"),
        ("SELECT json_array(1, null ABSENT ON NULL)", "json_array(... ABSENT ON NULL)"),
        ("SELECT json_array('{\"a\" : 1}' FORMAT JSON)", "json_array(... FORMAT JSON)"),
        ("SELECT json_array(true RETURNING varchar)", "json_array(... RETURNING type)"),
        ("SELECT json_object('key' : 1 RETURNING varchar)", "json_object(... RETURNING type)"),
        ("SELECT invoke(() -> 42)", "a lambda expression with no parameters (() -> ...)"),
        (
            'SELECT apply(90, "$internal$bind"(9.0E0, (x, y) -> x + y))',
            'Trino\'s internal function "$internal$bind"',
        ),
    ],
)
def test_unread_trino_syntax_is_refused_by_name(sql: str, feature: str) -> None:
    with pytest.raises(UnsupportedQuery) as raised:
        parse_written(sql)
    assert raised.value.feature == feature


def test_parenthesised_arguments_and_strings_are_not_mistaken_for_that_syntax() -> None:
    parse_written("SELECT json_array((1), 'FORMAT JSON'), transform(ARRAY[1], (x) -> x), X'00 7b'")


@pytest.mark.parametrize(
    ("sql", "feature"),
    [
        ("SELECT json_exists('[1]', 'strict $[2]' UNKNOWN ON ERROR)", "json_exists(... ON ERROR)"),
        ("SELECT json_query('[1]', 'strict $[2]' EMPTY ARRAY ON EMPTY)", "json_query(... ON EMPTY)"),
    ],
)
def test_json_query_function_clauses_are_refused_by_name(sql: str, feature: str) -> None:
    with pytest.raises(UnsupportedQuery) as raised:
        parse_written(sql)
    assert raised.value.feature == feature


def test_text_that_is_not_json_fails_format_json_as_in_trino() -> None:
    # TestJsonArrayFunction.java:107: json_array('[...' FORMAT JSON) is JSON_INPUT_CONVERSION_ERROR.
    with pytest.raises(QueryExecutionError, match="conversion to JSON failed"):
        parse_written("SELECT json_array('[...' FORMAT JSON)")
