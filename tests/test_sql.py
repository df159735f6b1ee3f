import pytest

from dw_platform.query.partition_filter import KeyBound, table_references
from dw_platform.query.sql import QueryError, parse_query, transpile

KEYS = {"impressions": "inserted_at", "clicks": "inserted_at", "facts": None}


def bounds(sql: str) -> list[tuple[str, KeyBound | None]]:
    return [(r.table, r.bound) for r in table_references(parse_query(sql), "analytics_dw", KEYS)]


@pytest.mark.parametrize(
    ("athena", "duckdb_fragment"),
    [
        ("SELECT date_parse(x, '%Y-%m-%d') FROM t", "STRPTIME(x, '%Y-%m-%d')"),
        ("SELECT approx_distinct(id) FROM t", "APPROX_COUNT_DISTINCT(id)"),
        ("SELECT from_iso8601_timestamp(event_time) FROM t", "CAST(event_time AS TIMESTAMPTZ)"),
        ("SELECT CAST(n AS varchar) FROM t", "CAST(n AS TEXT)"),
        ('SELECT "count" FROM t', '"count"'),
    ],
)
def test_athena_functions_are_transpiled_to_duckdb(athena: str, duckdb_fragment: str) -> None:
    assert duckdb_fragment in transpile(athena)


@pytest.mark.parametrize(
    "sql", ["DROP TABLE impressions", "INSERT INTO t VALUES (1)", "SELECT 1; SELECT 2", "SELEC"]
)
def test_only_single_read_only_queries_are_accepted(sql: str) -> None:
    with pytest.raises(QueryError):
        parse_query(sql)


def test_equality_in_and_ranges_bound_the_partition_key() -> None:
    [(table, bound)] = bounds("SELECT * FROM analytics_dw.impressions WHERE inserted_at = '2026/01/01/00'")
    assert table == "impressions" and bound == KeyBound(values=frozenset({"2026/01/01/00"}))
    [(_, bound)] = bounds("SELECT * FROM clicks WHERE inserted_at IN ('a', 'b') AND id = 'x'")
    assert bound is not None and bound.values == frozenset({"a", "b"})
    [(_, bound)] = bounds(
        "SELECT * FROM clicks WHERE inserted_at BETWEEN '2026/01/01/00' AND '2026/01/01/05'"
    )
    assert bound is not None and bound.allows("2026/01/01/05") and not bound.allows("2026/01/01/06")
    [(_, bound)] = bounds(
        "SELECT * FROM clicks c WHERE '2026/01/01/00' <= c.inserted_at AND c.inserted_at < '2026/01/02/00'"
    )
    assert bound is not None and bound.is_bounded
    assert bound.allows("2026/01/01/23") and not bound.allows("2026/01/02/00")


def test_unbounded_references_need_every_partition() -> None:
    assert bounds("SELECT * FROM clicks") == [("clicks", None)]
    assert bounds("SELECT * FROM clicks WHERE inserted_at = 'a' OR id = 'b'") == [("clicks", None)]
    # A predicate in the outer query does not bound the table read inside the subquery.
    assert bounds("SELECT * FROM (SELECT * FROM clicks) s WHERE s.inserted_at = 'a'") == [("clicks", None)]
    assert bounds("SELECT * FROM facts") == [("facts", None)]


def test_joins_attribute_predicates_by_alias_only() -> None:
    refs = dict(
        bounds(
            "SELECT * FROM impressions i JOIN clicks c ON i.session_id = c.session_id "
            "WHERE i.inserted_at = 'a' AND inserted_at = 'b'"
        )
    )
    assert refs["impressions"] == KeyBound(values=frozenset({"a"}))
    assert refs["clicks"] is None  # unqualified key is ambiguous between two partitioned tables


def test_ctes_shadow_tables_and_other_databases_are_ignored() -> None:
    sql = "WITH clicks AS (SELECT * FROM impressions WHERE inserted_at = 'a') SELECT * FROM clicks"
    assert bounds(sql) == [("impressions", KeyBound(values=frozenset({"a"})))]
    assert bounds("SELECT * FROM other_db.clicks") == []
