"""A correlated equality whose subquery side Trino coerces (bigint = double) is no join key for
Trino's decorrelation: under LIMIT, or GROUP BY in EXISTS, the statement fails as in Trino
(TestSubqueries.testUnsupportedSubqueriesWithCoercions, testCorrelatedSubqueriesWithLimit)."""

from typing import Any

import pytest

from dw_platform.query.rendering import rows
from dw_platform.query.sql import QueryError, UnsupportedQuery
from tests.test_unresolvable import engine  # noqa: F401  (the shared in-process engine fixture)

LIMITED = "FROM (VALUES 1, 2, 3) t(a) WHERE t.a = t2.b LIMIT 2"
UNSUPPORTED = "Given correlated subquery is not supported"


@pytest.mark.parametrize(
    "sql",
    [
        # TestSubqueries.java:136, :193 (Trino 401: "non-injective coercion bigint -> double")
        "SELECT EXISTS(SELECT 1 FROM (VALUES (BIGINT '1', null)) t(a, b) WHERE t.a=t2.b GROUP BY t.b) "
        "FROM (VALUES 1e0, 2e0) t2(b)",
        "SELECT (SELECT t.a FROM (VALUES BIGINT '1', BIGINT '2', BIGINT '3') t(a) WHERE t.a = t2.b LIMIT 2) "
        "FROM (VALUES 1e0, 2e0) t2(b)",
    ],
)
def test_coerced_subquery_side_fails_as_in_trino(engine: Any, sql: str) -> None:  # noqa: F811
    with pytest.raises(QueryError, match=UNSUPPORTED) as raised:
        engine.query(sql, allow_full_scan=True)
    assert not isinstance(raised.value, UnsupportedQuery)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # TestSubqueries.testCorrelatedSubqueriesWithLimit: "VALUES 1" (same types)
        (
            "SELECT (SELECT t.a FROM (VALUES 1, 2, 3) t(a) WHERE t.a = t2.b LIMIT 2) FROM (VALUES 1) t2(b)",
            [[1]],
        ),
        # TestSubqueries.java:124, :128, :183 (Trino 401): injective coercions, integer to decimal
        # and null to integer, keep the equality a join key.
        (
            "SELECT EXISTS(SELECT 1 FROM (VALUES (1, null)) t(a, b) WHERE t.a=t2.b GROUP BY t.b) "
            "FROM (VALUES 1.0, 2.0) t2(b)",
            [[True], [False]],
        ),
        (
            "SELECT EXISTS(SELECT 1 FROM (VALUES (null, null)) t(a, b) WHERE t.a=t2.b GROUP BY t.b) "
            "FROM (VALUES 1, 2) t2(b)",
            [[False], [False]],
        ),
        (
            f"SELECT (SELECT t.a {LIMITED}) FROM (VALUES 1.0, 2.0) t2(b)",
            [[1], [2]],
        ),
    ],
)
def test_equal_or_injectively_coerced_correlation_is_answered(
    engine: Any,  # noqa: F811
    sql: str,
    expected: list[list[Any]],
) -> None:
    result = engine.query(sql, allow_full_scan=True)
    assert sorted(rows(result.table, result.types)) == sorted(expected)
