import pytest

from dw_platform.catalog.model import table_definition
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.query.partition_filter import KeyBound, find_scans
from dw_platform.query.scan_plan import qualify_for_scans
from dw_platform.query.sql import QueryError, parse_query

DEFINITIONS = {t.name: table_definition(t) for t in analytics_dw.tables}
KEYS = {name: (d.partition_keys[0][0] if d.partition_keys else None) for name, d in DEFINITIONS.items()}


def bounds(sql: str) -> list[tuple[str, KeyBound | None]]:
    tree = qualify_for_scans(parse_query(sql), "analytics_dw", DEFINITIONS)
    return [(r.table, r.bound) for r in find_scans(tree, "analytics_dw", KEYS)]


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


def test_between_symmetric_bounds_either_order() -> None:
    [(_, bound)] = bounds("SELECT * FROM clicks WHERE inserted_at BETWEEN SYMMETRIC 'c' AND 'a'")
    assert bound is not None and bound.allows("a") and bound.allows("b") and bound.allows("c")


def test_unbounded_references_need_every_partition() -> None:
    assert bounds("SELECT * FROM clicks") == [("clicks", None)]
    assert bounds("SELECT * FROM clicks WHERE inserted_at = 'a' OR id = 'b'") == [("clicks", None)]
    # A predicate in the outer query does not bound the table read inside the subquery.
    assert bounds("SELECT * FROM (SELECT * FROM clicks) s WHERE s.inserted_at = 'a'") == [("clicks", None)]
    assert bounds("SELECT * FROM facts") == [("facts", None)]


def test_each_scan_of_one_table_has_its_own_bound() -> None:
    sql = (
        "SELECT (SELECT count(*) FROM impressions WHERE inserted_at = 'h10') AS a, "
        "(SELECT count(*) FROM IMPRESSIONS) AS b"
    )
    assert sorted(bounds(sql), key=str) == sorted(
        [("impressions", KeyBound(values=frozenset({"h10"}))), ("impressions", None)], key=str
    )


def test_bounded_scans_inside_subqueries_and_joins() -> None:
    sql = (
        "SELECT i.id FROM impressions i WHERE i.inserted_at = 'h' AND session_id IN "
        "(SELECT session_id FROM clicks WHERE inserted_at = 'h')"
    )
    assert all(b == KeyBound(values=frozenset({"h"})) for _, b in bounds(sql))
    joined = dict(
        bounds(
            "SELECT * FROM impressions i JOIN clicks c "
            "ON i.session_id = c.session_id AND c.inserted_at = 'b' WHERE i.inserted_at = 'a'"
        )
    )
    assert joined == {
        "impressions": KeyBound(values=frozenset({"a"})),
        "clicks": KeyBound(values=frozenset({"b"})),
    }


def test_ctes_shadow_tables_and_other_databases_are_ignored() -> None:
    sql = "WITH clicks AS (SELECT * FROM impressions WHERE inserted_at = 'a') SELECT * FROM clicks"
    assert bounds(sql) == [("impressions", KeyBound(values=frozenset({"a"})))]
    assert bounds("SELECT * FROM other_db.clicks") == []


def test_outer_join_on_bounds_only_the_side_whose_unmatched_rows_it_drops() -> None:
    on = "ON c.session_id = i.session_id AND c.inserted_at = 'c' AND i.inserted_at = 'i'"
    h = {"clicks": KeyBound(values=frozenset({"c"})), "impressions": KeyBound(values=frozenset({"i"}))}
    assert dict(bounds(f"SELECT * FROM clicks c LEFT JOIN impressions i {on}")) == {
        "clicks": None,
        "impressions": h["impressions"],
    }
    assert dict(bounds(f"SELECT * FROM clicks c RIGHT OUTER JOIN impressions i {on}")) == {
        "clicks": h["clicks"],
        "impressions": None,
    }
    assert dict(bounds(f"SELECT * FROM clicks c FULL JOIN impressions i {on}")) == {
        "clicks": None,
        "impressions": None,
    }
    assert dict(bounds(f"SELECT * FROM clicks c JOIN impressions i {on}")) == h
    # A parenthesized join on the right: its tables are the right side; the left is still preserved.
    nested = bounds(
        "SELECT * FROM clicks c LEFT JOIN (impressions i JOIN impressions j ON i.id = j.id) "
        "ON c.session_id = i.session_id AND c.inserted_at = 'c' AND i.inserted_at = 'i' "
        "AND j.inserted_at = 'j'"
    )
    assert sorted(nested, key=str) == sorted(
        [
            ("clicks", None),
            ("impressions", h["impressions"]),
            ("impressions", KeyBound(values=frozenset({"j"}))),
        ],
        key=str,
    )
