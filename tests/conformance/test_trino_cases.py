"""Trino's own unit-test assertions on the local engine: no case may give a wrong answer or an error
except those still listed in trino/open_cases.txt (a list that only shrinks: a listed case that now
passes or is refused must leave the list), and at most the recorded share is refused."""

from pathlib import Path

import pytest

from dw_platform.runtime.backends import Runtime
from tests.conformance import trino_cases

CASES = trino_cases.load_trino_cases()
OPEN = Path(__file__).parent / "trino" / "open_cases.txt"
# The bar: at most a quarter of Trino's cases refused (lower it as refusals are answered).
MAX_REFUSED_SHARE = 0.25


def _open_ids() -> set[str]:
    return {line.strip() for line in OPEN.read_text().splitlines() if line.strip()}


def test_the_cases_are_trinos_and_cite_their_source() -> None:
    assert len(CASES) >= 7000
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.source.startswith("core/trino-main/src/test/java/io/trino/") for c in CASES)
    assert _open_ids() <= {c.id for c in CASES}


@pytest.fixture(scope="module")
def outcomes(empty_warehouse: Runtime) -> list[trino_cases.TrinoOutcome]:
    return [trino_cases.judge(case, empty_warehouse.engine) for case in CASES]


@pytest.mark.slow
def test_no_wrong_answer_or_error_beyond_the_open_list(outcomes: list[trino_cases.TrinoOutcome]) -> None:
    bad = {o.case.id: o for o in outcomes if o.outcome in ("wrong", "error")}
    new = [o for case_id, o in sorted(bad.items()) if case_id not in _open_ids()]
    assert not new, trino_cases.report(new, verbose=True)
    mended = sorted(_open_ids() - bad.keys())
    assert not mended, f"these cases no longer fail: remove them from {OPEN.name}: {mended}"


@pytest.mark.slow
def test_refusals_stay_within_the_recorded_share(outcomes: list[trino_cases.TrinoOutcome]) -> None:
    refused = sum(o.outcome == "refused" for o in outcomes)
    assert refused / len(outcomes) <= MAX_REFUSED_SHARE, trino_cases.report(outcomes)
