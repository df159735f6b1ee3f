"""Queries Trino resolves but sqlglot's qualify step cannot: answered, refused by name, or Trino's
own error; never "cannot resolve the query" nor a raw exception (cases from Trino's tests)."""

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.query.rendering import rows
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("unresolvable") / "dw"
    settings = dataclasses.replace(
        Settings.from_env({}), home=Path(home), partitions_start=datetime(2026, 1, 1, tzinfo=UTC)
    )
    runtime = Runtime.from_settings(analytics_dw, settings)
    sync_catalog(runtime)
    yield runtime.engine


def answer(engine: Any, sql: str) -> list[list[Any]]:
    result = engine.query(sql, allow_full_scan=True)
    return rows(result.table, result.types)


BY_FIELD = "ORDER BY a field of all fields of a row column (t.r.*)"
ROW_F1 = "(VALUES ROW(CAST(ROW(1) AS ROW(f1 integer))), ROW(CAST(ROW(2) AS ROW(f1 integer)))) t(r)"


@pytest.mark.parametrize(
    ("sql", "feature"),
    [
        # TestSelectAll.java:120, :124, :65
        (
            f"SELECT t.r.* FROM {ROW_F1} ORDER BY 1 DESC",
            "ORDER BY a field of all fields of a row column (t.r.*)",
        ),
        (
            f"SELECT t.r.* FROM {ROW_F1} ORDER BY f1 DESC",
            "ORDER BY a field of all fields of a row column (t.r.*)",
        ),
        (
            f"SELECT f1 FROM (SELECT t.r.* FROM {ROW_F1})",
            "a subquery of all fields of a row column (t.r.*) read by an outer query",
        ),
        # TestJoinUsing.java:180, TestSelectAll.java:242
        (
            "WITH t(k, v) AS (VALUES (1, 'a')) SELECT * FROM t JOIN t USING (k)",
            "the relation name t used twice in one FROM clause",
        ),
        (
            "SELECT t.* FROM (VALUES 0, 1) t(a), LATERAL (SELECT t.*) t",
            "the relation name t used twice in one FROM clause",
        ),
        # TestSubqueries.java:1212
        (
            "SELECT * FROM (VALUES ARRAY[1, 2], ARRAY[3]) t(a) "
            "LEFT JOIN LATERAL (SELECT * FROM UNNEST(a)) ON TRUE",
            "UNNEST of a column of an enclosing query (in a subquery or LATERAL)",
        ),
        # TestUnnest.java:70
        (
            "SELECT x FROM UNNEST(CAST(ARRAY[ROW(1, 'a'), ROW(2, 'b')] as ARRAY(ROW(x int, y varchar))))",
            "UNNEST of an array of rows",
        ),
    ],
)
def test_unresolvable_constructs_are_refused_by_name(engine: Any, sql: str, feature: str) -> None:
    with pytest.raises(UnsupportedQuery) as raised:
        engine.query(sql, allow_full_scan=True)
    assert raised.value.feature == feature


def test_an_unnested_row_field_named_like_another_column_is_ambiguous(engine: Any) -> None:
    # TestUnnest.java:74 expects "Column 'x' is ambiguous".
    sql = (
        "SELECT x FROM (VALUES (3)) AS t(x) CROSS JOIN "
        "UNNEST(CAST(ARRAY[ROW(1, 'a'), ROW(2, 'b')] as ARRAY(ROW(x int, y varchar))))"
    )
    with pytest.raises(QueryError, match="Column 'x' is ambiguous") as raised:
        engine.query(sql, allow_full_scan=True)
    assert not isinstance(raised.value, UnsupportedQuery)


def test_row_fields_named_by_an_alias_list_are_still_answered(engine: Any) -> None:
    # TestSelectAll.java:114: with AS (x, y, z) the fields are named, so ORDER BY y is answered.
    sql = (
        "SELECT t.r.* AS (x, y, z) FROM (VALUES ROW(ROW(1, 'a', true)), ROW(ROW(2, 'b', false))) t(r) "
        "ORDER BY y DESC"
    )
    assert answer(engine, sql) == [[2, "b", False], [1, "a", True]]


def test_row_fields_under_a_column_alias_list_are_still_answered(engine: Any) -> None:
    # TestRecursiveCte.java:65: t(n, m, o) names the columns, so t.o.* in the step is answered.
    sql = (
        "WITH RECURSIVE t(n, m, o) AS (SELECT * FROM (VALUES (1, 2, ROW(3, 4)), (5, 6, ROW(7, 8))) "
        "UNION ALL SELECT t.o.*, ROW(10, 10) FROM t WHERE m < 3) SELECT n, m FROM t"
    )
    assert sorted(answer(engine, sql)) == [[1, 2], [3, 4], [5, 6]]
