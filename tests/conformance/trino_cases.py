"""Trino's own unit-test assertions (tests/conformance/trino/cases.jsonl, from Trino 401's test
sources; each case cites its source line) run on the local engine.

A case's expected value is written as an engine would print it typed (see the file's README in the
shared trino-tests folder): `{"double": x}`, `{"real": x}`, `{"decimal": "1.20"}`,
`{"varbinary": "0a1b"}`, `{"map": [[k, v], ...]}`, lists for arrays and rows, Trino's text for
dates, times and timestamps. The engine's answer is encoded the same way from the types it gives its
columns, then compared: doubles within 1e-9 relative, reals as float32, maps as sets of entries.

Outcomes: pass, refused (a clear "not supported" refusal), wrong (another value or type, or an
answer where Trino raises an error) and error (an error where Trino answers, or a failure that is
not the platform's own error).
"""

import dataclasses
import json
import math
import struct
from collections import Counter
from pathlib import Path
from typing import Any

from dw_platform.query.rendering import rows
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType
from tests.conformance.runner import summarize  # counts by category and outcome, for both suites

CASES_FILE = Path(__file__).parent / "trino" / "cases.jsonl"
OUTCOMES = ("pass", "refused", "wrong", "error")


@dataclasses.dataclass(frozen=True)
class TrinoCase:
    id: str
    source: str
    category: str
    sql: str
    kind: str
    expected: Any = None
    expected_type: str | None = None
    expects_error: str | None = None
    error_message: str | None = None
    expected_rows: list[list[Any]] | None = None
    ordered: bool = False


@dataclasses.dataclass(frozen=True)
class TrinoOutcome:
    case: TrinoCase
    outcome: str
    detail: str = ""


def load_trino_cases(path: Path = CASES_FILE) -> list[TrinoCase]:
    with path.open(encoding="utf-8") as lines:
        return [TrinoCase(**json.loads(line)) for line in lines if line.strip()]


# ---- the engine's answer in the cases' notation ------------------------------------------------
def encode(value: Any, t: TrinoType) -> Any:
    """One value (as `rendering.rows` prints it) in the cases' notation for its type."""
    if value is None:
        return None
    if t.name in ("double", "real"):
        return {t.name: _float_text(value) if math.isnan(value) or math.isinf(value) else value}
    if t.name == "decimal":
        return {"decimal": value}
    if t.name == "varbinary":
        return {"varbinary": value.replace(" ", "")}
    if t.name == "array":
        return [encode(v, t.element) for v in value]
    if t.name == "row":
        return [encode(v, ft) for v, ft in zip(value, t.elements, strict=True)]
    if t.name == "map":
        items = value.items() if isinstance(value, dict) else value
        return {"map": [[encode(k, t.elements[0]), encode(v, t.elements[1])] for k, v in items]}
    return value


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def same(actual: Any, expected: Any) -> bool:
    """`actual` (encoded) is the value `expected` names."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or actual.keys() != expected.keys():
            return False
        (kind,) = expected
        if kind == "map":
            return _same_entries(actual["map"], expected["map"])
        a, e = actual[kind], expected[kind]
        if kind in ("double", "real"):
            # The cases write some values as text ("NaN", "-Infinity", "123.0"): float() reads all.
            a, e = float(a), float(e)
            if math.isnan(e) or math.isnan(a):
                return math.isnan(e) and math.isnan(a)
            if kind == "real":
                return _float32(a) == _float32(e)
            return a == e or math.isclose(a, e, rel_tol=1e-9, abs_tol=0.0)
        return a == e
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    # bool is an int in Python: true must not pass for 1.
    return type(actual) is type(expected) and actual == expected


def _same_entries(actual: list[Any], expected: list[Any]) -> bool:
    remaining = list(actual)
    if len(remaining) != len(expected):
        return False
    for entry in expected:
        match = next((i for i, a in enumerate(remaining) if same(a, entry)), None)
        if match is None:
            return False
        remaining.pop(match)
    return True


def _same_rows(actual: list[list[Any]], expected: list[list[Any]], ordered: bool) -> bool:
    if ordered:
        return same(actual, expected)
    return _same_entries(actual, expected)


def _normal_type(name: str) -> str:
    return name.replace(" ", "").lower()


# ---- judging -------------------------------------------------------------------------------------
def judge(case: TrinoCase, engine: Any) -> TrinoOutcome:
    try:
        result = engine.query(case.sql, allow_full_scan=True)
        types = result.types
        answer = [
            [encode(v, t) for v, t in zip(row, types, strict=True)] for row in rows(result.table, types)
        ]
    except UnsupportedQuery as refusal:
        return TrinoOutcome(case, "refused", str(refusal))
    except QueryError as error:
        if case.expects_error is not None:
            return TrinoOutcome(case, "pass", str(error))
        return TrinoOutcome(case, "error", str(error))
    except Exception as bug:
        return TrinoOutcome(case, "error", f"{type(bug).__name__}: {bug}")
    if case.expects_error is not None:
        return TrinoOutcome(case, "wrong", f"expected {case.expects_error}, got {answer}")
    if case.kind == "scalar":
        if len(answer) != 1 or len(answer[0]) != 1:
            return TrinoOutcome(case, "wrong", f"expected one value, got {answer}")
        if case.expected_type is not None and _normal_type(types[0].trino()) != _normal_type(
            case.expected_type
        ):
            return TrinoOutcome(case, "wrong", f"type {types[0].trino()}, expected {case.expected_type}")
        if not same(answer[0][0], case.expected):
            return TrinoOutcome(case, "wrong", f"got {answer[0][0]!r}, expected {case.expected!r}")
        return TrinoOutcome(case, "pass")
    if not _same_rows(answer, case.expected_rows or [], case.ordered):
        return TrinoOutcome(case, "wrong", f"got {answer!r}, expected {case.expected_rows!r}")
    return TrinoOutcome(case, "pass")


def report(outcomes: list[TrinoOutcome], *, verbose: bool = False) -> str:
    figures = summarize(outcomes)
    width = max([len(c) for c in figures] + [8])
    header = f"{'category':<{width}} {'cases':>6} " + " ".join(f"{o:>8}" for o in OUTCOMES) + "  refused%"
    lines = [header]
    total: Counter[str] = Counter()
    for category in sorted(figures):
        counts = figures[category]
        total.update(counts)
        lines.append(_line(category, counts, width))
    lines.append(_line("all", total, width))
    if verbose:
        for outcome in outcomes:
            if outcome.outcome in ("wrong", "error"):
                lines.append(
                    f"{outcome.outcome.upper()} {outcome.case.id}: {outcome.case.sql}\n"
                    f"    {outcome.detail[:300]}"
                )
    return "\n".join(lines)


def _line(name: str, counts: Counter[str], width: int) -> str:
    cases = sum(counts.values())
    share = 100 * counts["refused"] / cases if cases else 0.0
    return f"{name:<{width}} {cases:>6} " + " ".join(f"{counts[o]:>8}" for o in OUTCOMES) + f"  {share:7.1f}"
