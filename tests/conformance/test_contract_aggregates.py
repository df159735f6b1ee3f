"""Aggregates whose documented contract admits several answers (approx_distinct, approx_percentile,
arbitrary/any_value, array_agg without ORDER BY): each answer is checked against the contract in
Trino's documentation (functions/aggregate.md), computed in plain Python over the input, not against a
fixed value; and `dw query` says once, on stderr, that the answer is one of several."""

import random
from collections import Counter
from pathlib import Path

import pytest

from dw_platform.query.sql import QueryError
from dw_platform.runtime.backends import Runtime
from tests.dw_process import dw, dw_env

# approx_distinct's documented standard error; the answer must be within a few of them.
STANDARD_ERROR = 0.023


def _values(seed: int, count: int, top: int) -> list[int]:
    generator = random.Random(seed)
    return [generator.randrange(top) for _ in range(count)]


def _table(values: list[int | None], name: str = "x") -> str:
    rows = ", ".join("NULL" if v is None else str(v) for v in values)
    return f"(VALUES {rows}) AS t({name})"


def _one(runtime: Runtime, sql: str) -> object:
    result = runtime.engine.query(sql, allow_full_scan=True)
    return result.table.to_pylist()[0][result.table.column_names[0]]


def test_approx_distinct_is_within_its_documented_error(empty_warehouse: Runtime) -> None:
    values = _values(1, 3000, 1500)
    exact = len(set(values))
    answer = _one(empty_warehouse, f"SELECT approx_distinct(x) FROM {_table(values)}")
    assert abs(answer - exact) <= 3 * STANDARD_ERROR * exact
    answer = _one(empty_warehouse, f"SELECT approx_distinct(x, 0.01) FROM {_table(values)}")
    assert abs(answer - exact) <= 3 * 0.01 * exact
    assert _one(empty_warehouse, "SELECT approx_distinct(x) FROM (VALUES CAST(NULL AS integer)) t(x)") == 0


@pytest.mark.parametrize("error", ["0.0", "0.004", "0.27", "-0.1"])
def test_approx_distinct_refuses_a_standard_error_trino_does_not_take(
    empty_warehouse: Runtime, error: str
) -> None:
    with pytest.raises(QueryError, match=r"Max standard error must be in \[0.0040625, 0.26000\]"):
        empty_warehouse.engine.query(f"SELECT approx_distinct(x, {error}) FROM (VALUES 1) t(x)")


def _rank_fits(values: list[int], answer: int, percentage: float, tolerance: float = 0.01) -> bool:
    """`answer` is an input value at the percentage's rank, within a rank error of `tolerance`."""
    below = sum(v < answer for v in values)
    at_most = sum(v <= answer for v in values)
    target = percentage * len(values)
    slack = tolerance * len(values) + 1
    return answer in values and below - slack <= target <= at_most + slack


def test_approx_percentile_is_an_input_value_at_its_rank(empty_warehouse: Runtime) -> None:
    values = _values(2, 2000, 10_000)
    table = _table(values)
    for percentage in (0.0, 0.1, 0.5, 0.99, 1.0):
        answer = _one(empty_warehouse, f"SELECT approx_percentile(x, {percentage}) FROM {table}")
        assert _rank_fits(values, answer, percentage), (percentage, answer)
    answers = _one(empty_warehouse, f"SELECT approx_percentile(x, ARRAY[0.25, 0.75]) FROM {table}")
    assert len(answers) == 2
    assert all(_rank_fits(values, a, p) for a, p in zip(answers, (0.25, 0.75), strict=True))


def test_weighted_approx_percentile_counts_each_weight_as_replicas(empty_warehouse: Runtime) -> None:
    generator = random.Random(3)
    pairs = [(generator.randrange(100), generator.randrange(1, 20)) for _ in range(300)]
    replicated = [v for v, w in pairs for _ in range(w)]
    rows = ", ".join(f"({v}, {w})" for v, w in pairs)
    answer = _one(empty_warehouse, f"SELECT approx_percentile(x, w, 0.3) FROM (VALUES {rows}) t(x, w)")
    assert _rank_fits(replicated, answer, 0.3)
    answers = _one(
        empty_warehouse, f"SELECT approx_percentile(x, w, ARRAY[0.5, 0.9]) FROM (VALUES {rows}) t(x, w)"
    )
    assert all(_rank_fits(replicated, a, p) for a, p in zip(answers, (0.5, 0.9), strict=True))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT approx_percentile(x, 1.5) FROM (VALUES 1, 2) t(x)",
        "SELECT approx_percentile(x, ARRAY[0.5, -0.1]) FROM (VALUES 1, 2) t(x)",
        "SELECT approx_percentile(x, w, 0.5) FROM (VALUES (1, 0), (2, 1)) t(x, w)",
    ],
)
def test_approx_percentile_fails_where_trino_does(empty_warehouse: Runtime, sql: str) -> None:
    with pytest.raises(QueryError, match=r"Percentile must be between 0 and 1|weight must be > 0"):
        empty_warehouse.engine.query(sql)


def test_arbitrary_is_one_of_the_groups_non_null_values(empty_warehouse: Runtime) -> None:
    generator = random.Random(4)
    pairs = [(generator.randrange(5), generator.choice([None, *range(50)])) for _ in range(400)]
    rows = ", ".join(f"({g}, {'NULL' if v is None else v})" for g, v in pairs)
    for name in ("arbitrary", "any_value"):
        result = empty_warehouse.engine.query(
            f"SELECT g, {name}(v) AS a FROM (VALUES {rows}) t(g, v) GROUP BY g"
        )
        answered = {r["g"]: r["a"] for r in result.table.to_pylist()}
        assert set(answered) == {g for g, _ in pairs}
        for group, answer in answered.items():
            assert answer in {v for g, v in pairs if g == group and v is not None}


def test_array_agg_without_order_by_holds_the_groups_values(empty_warehouse: Runtime) -> None:
    generator = random.Random(5)
    pairs = [(generator.randrange(4), generator.choice([None, *range(9)])) for _ in range(200)]
    rows = ", ".join(f"({g}, {'NULL' if v is None else v})" for g, v in pairs)
    result = empty_warehouse.engine.query(
        f"SELECT g, array_agg(v) AS a FROM (VALUES {rows}) t(g, v) GROUP BY g"
    )
    for row in result.table.to_pylist():
        expected = Counter(repr(v) for g, v in pairs if g == row["g"])  # NULLs are elements too
        assert Counter(repr(v) for v in row["a"]) == expected
    assert result.notes == (
        "array_agg without ORDER BY: the elements come in an unspecified order, as in Athena",
    )


@pytest.mark.e2e
def test_dw_query_says_once_that_the_answer_is_one_of_several(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    sql = (
        "SELECT approx_distinct(x), approx_distinct(x + 1), approx_percentile(x, 0.5) "
        "FROM (VALUES 1, 2, 2) t(x)"
    )
    result = dw(env, "query", sql, "--format", "json")
    notes = [line for line in result.stderr.decode().splitlines() if line.startswith("note: ")]
    assert notes == [
        "note: approx_distinct answered exactly (within Athena's documented error)",
        "note: approx_percentile answered with an exact percentile (within Athena's rank error)",
    ]
    plain = dw(env, "query", "SELECT count(DISTINCT x) FROM (VALUES 1, 2, 2) t(x)", "--format", "json")
    assert "note:" not in plain.stderr.decode()
