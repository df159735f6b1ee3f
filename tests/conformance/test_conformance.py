"""The local engine never gives a different answer from Athena's: every documented case either
passes or is refused (see tests/conformance/runner.py for the categories)."""

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.conformance import analyst
from tests.conformance.runner import Case, judge, load_cases, local_query, report, same_rows

CASES = load_cases()


def test_the_suite_is_large_and_cites_its_sources() -> None:
    assert len(CASES) >= 400
    assert all(case.source for case in CASES), "every case names the Trino documentation page it follows"
    assert len({(c.category, c.id) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("category", sorted({c.category for c in CASES}))
def test_no_wrong_answer(empty_warehouse: Runtime, category: str) -> None:
    query = local_query(empty_warehouse.engine)
    outcomes = [judge(case, query) for case in CASES if case.category == category]
    wrong = [o for o in outcomes if o.outcome == "wrong"]
    assert not wrong, report(outcomes, verbose=True)
    assert any(o.outcome == "pass" for o in outcomes)


@pytest.fixture(scope="module")
def analyst_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, analyst.Events]]:
    home = tmp_path_factory.mktemp("analyst")
    settings = dataclasses.replace(
        Settings.from_env({}), home=Path(home) / "dw", partitions_start=datetime(2026, 1, 1, tzinfo=UTC)
    )
    runtime = Runtime.from_settings(analytics_dw, settings)
    events = analyst.build_events()
    analyst.load_warehouse(runtime, events)
    yield runtime, events


@pytest.mark.slow
def test_analyst_queries_give_athenas_answer_or_a_refusal(
    analyst_warehouse: tuple[Runtime, analyst.Events],
) -> None:
    runtime, events = analyst_warehouse
    assert len(analyst.CASES) >= 40
    query = local_query(runtime.engine)
    outcomes = []
    for case in analyst.CASES:
        expected = case.expected(events)
        as_case = Case(
            "analyst",
            case.id,
            case.sql,
            expected,
            None,
            list(case.types) if case.types else None,
            case.ordered,
            "tests/conformance/analyst.py",
        )
        outcomes.append(judge(as_case, query))
    print(report(outcomes, verbose=True))
    assert not [o for o in outcomes if o.outcome == "wrong"], report(outcomes, verbose=True)
    assert sum(o.outcome == "pass" for o in outcomes) >= len(outcomes) * 3 // 4


def test_rows_are_compared_by_value_and_type() -> None:
    assert same_rows([[1, "a"]], [[1, "a"]], ordered=True)
    assert not same_rows([[1.0]], [[1]], ordered=True), "a double where Trino prints an integer is wrong"
    assert not same_rows([["2.50"]], [["2.5"]], ordered=True), "decimals compare by their printed digits"
    assert same_rows([[2], [1]], [[1], [2]], ordered=False)
    assert not same_rows([[2], [1]], [[1], [2]], ordered=True)
