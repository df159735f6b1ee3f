"""The conformance suite: Athena/Trino statements with their documented results, run on the local
engine and classified as pass, refused (a clear "not supported" refusal), failed (another error where
Athena answers) or wrong (a different answer, which must never happen).

`python -m tests.conformance` prints the figures per category; tests/conformance/test_conformance.py
fails on any wrong answer. With DW_CONFORMANCE_ATHENA=1 and AWS credentials the same cases run on
Athena instead, so that the expectations themselves can be checked.
"""

import dataclasses
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from dw_platform.query.rendering import rows
from dw_platform.query.sql import QueryError, UnsupportedQuery

CASES_DIR = Path(__file__).parent / "cases"
OUTCOMES = ("pass", "refused", "failed", "wrong")


@dataclasses.dataclass(frozen=True)
class Case:
    category: str
    id: str
    sql: str
    expect: list[list[Any]] | None
    error: str | None
    types: list[str] | None
    ordered: bool
    source: str


@dataclasses.dataclass(frozen=True)
class Outcome:
    case: Case
    outcome: str
    detail: str = ""


def load_cases(directory: Path = CASES_DIR) -> list[Case]:
    cases = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for raw in data["cases"]:
            cases.append(
                Case(
                    category=data["category"],
                    id=raw["id"],
                    sql=raw["sql"],
                    expect=raw.get("expect"),
                    error=raw.get("error"),
                    types=raw.get("types"),
                    ordered=bool(raw.get("ordered")),
                    source=raw.get("source", data.get("source", "")),
                )
            )
    return cases


def same_value(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        if math.isnan(expected):
            return isinstance(actual, float) and math.isnan(actual)
        if math.isinf(expected):
            return actual == expected
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, int) and not isinstance(expected, bool) and isinstance(actual, float):
        return False  # an integer where Trino prints one; a double prints differently
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(
            same_value(a, e) for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(expected, dict) and isinstance(actual, dict):
        expected_keys = {str(k): v for k, v in expected.items()}
        actual_keys = {str(k): v for k, v in actual.items()}
        return expected_keys.keys() == actual_keys.keys() and all(
            same_value(actual_keys[k], expected_keys[k]) for k in expected_keys
        )
    if isinstance(expected, str) and not isinstance(actual, str):
        return False
    return (type(actual) is type(expected) and actual == expected) or (actual is None and expected is None)


def _sort_key(row: list[Any]) -> str:
    return repr([(type(v).__name__, v) for v in row])


def same_rows(actual: list[list[Any]], expected: list[list[Any]], ordered: bool) -> bool:
    if len(actual) != len(expected):
        return False
    if not ordered:
        actual, expected = sorted(actual, key=_sort_key), sorted(expected, key=_sort_key)
        if not all(same_value(a, e) for a, e in zip(actual, expected, strict=True)):
            # Floats within tolerance may sort differently: fall back to matching each row.
            remaining = list(actual)
            for row in expected:
                match = next((r for r in remaining if same_value(r, row)), None)
                if match is None:
                    return False
                remaining.remove(match)
            return True
        return True
    return all(same_value(a, e) for a, e in zip(actual, expected, strict=True))


# A query runner: rows as Trino prints them, and the result types (None where the engine has none).
Query = Callable[[str], tuple[list[list[Any]], list[str] | None]]


def judge(case: Case, query: Query) -> Outcome:
    try:
        actual, types = query(case.sql)
    except UnsupportedQuery as refusal:
        return Outcome(case, "refused", str(refusal))
    except QueryError as error:
        if case.error is not None:
            return Outcome(case, "pass", str(error))
        return Outcome(case, "failed", str(error))
    if case.error is not None:
        return Outcome(case, "wrong", f"expected an error ({case.error}), got {actual}")
    if case.types is not None and [t.replace(" ", "") for t in types] != [
        t.replace(" ", "") for t in case.types
    ]:
        return Outcome(case, "wrong", f"types {types}, expected {case.types}")
    if not same_rows(actual, case.expect or [], case.ordered):
        return Outcome(case, "wrong", f"got {actual}, expected {case.expect}")
    return Outcome(case, "pass")


def local_query(engine: Any) -> Query:
    def run(sql: str) -> tuple[list[list[Any]], list[str] | None]:
        result = engine.query(sql, allow_full_scan=True)
        return rows(result.table, result.types), [t.trino() for t in result.types]

    return run


def athena_query(engine: Any) -> Query:
    """The same cases on Athena itself (DW_CONFORMANCE_ATHENA=1), to check the expectations."""

    def run(sql: str) -> tuple[list[list[Any]], list[str] | None]:
        result = engine.query(sql, allow_full_scan=True)
        if result.types is None:
            return [list(r.values()) for r in result.table.to_pylist()], None
        return rows(result.table, result.types), [t.trino() for t in result.types]

    return run


def summarize(outcomes: Iterable[Outcome]) -> dict[str, Counter[str]]:
    figures: dict[str, Counter[str]] = {}
    for outcome in outcomes:
        figures.setdefault(outcome.case.category, Counter())[outcome.outcome] += 1
    return figures


def report(outcomes: list[Outcome], *, verbose: bool = False) -> str:
    figures = summarize(outcomes)
    lines = [f"{'category':<12} {'cases':>6} " + " ".join(f"{o:>8}" for o in OUTCOMES)]
    total: Counter[str] = Counter()
    for category in sorted(figures):
        counts = figures[category]
        total.update(counts)
        lines.append(
            f"{category:<12} {sum(counts.values()):>6} " + " ".join(f"{counts[o]:>8}" for o in OUTCOMES)
        )
    lines.append(f"{'all':<12} {sum(total.values()):>6} " + " ".join(f"{total[o]:>8}" for o in OUTCOMES))
    if verbose:
        for outcome in outcomes:
            if outcome.outcome in ("wrong", "failed"):
                lines.append(
                    f"{outcome.outcome.upper()} {outcome.case.category}/{outcome.case.id}: "
                    f"{outcome.case.sql}\n    {outcome.detail[:300]}"
                )
    return "\n".join(lines)


def athena_requested() -> bool:
    return os.environ.get("DW_CONFORMANCE_ATHENA") == "1"
