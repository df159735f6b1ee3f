"""The function registry (dw_platform/query/functions/) is consistent: every spec says what it takes
and returns, every translation is reachable, every function the documented cases cite is in it,
and a refused one is refused by name, before its arguments are looked at."""

import re
from pathlib import Path

import pytest
from sqlglot import exp

from dw_platform.query import expressions
from dw_platform.query.functions import REGISTRY, FunctionSpec, calls, registry
from dw_platform.query.sql import UnsupportedQuery
from dw_platform.query.translator import Translator, parse_written

CASES = Path(__file__).parent / "conformance" / "cases"
# Anchors of the docs that name a section, not a function, or (array_first) no Trino function: the
# case citing it is a subscript.
NOT_FUNCTIONS = {"limitations", "array_first"}


def _documented_functions() -> set[str]:
    """The functions the documented cases cite: `source: functions/PAGE.md#NAME`."""
    names = set()
    for path in CASES.glob("*.yaml"):
        for found in re.finditer(r"source: functions/[a-z_]+\.md#([a-z0-9_]+)$", path.read_text(), re.M):
            names.add(found.group(1))
    return names - NOT_FUNCTIONS


def _translate(sql: str) -> str:
    return Translator({}, "analytics").translate(parse_written(sql)).sql


# The families: the pages of Trino's function docs the specs are split by.
FAMILIES = {
    "aggregates",
    "arrays",
    "binary",
    "bitwise",
    "color",
    "conditional",
    "conversion",
    "datetime",
    "json",
    "lambda",
    "maps",
    "math",
    "regex",
    "strings",
    "url",
    "windows",
}


def test_every_spec_has_its_types_and_a_translation_or_a_reason() -> None:
    for name, spec in REGISTRY.items():
        assert spec.name == name
        assert spec.args.strip() and spec.returns.strip(), name
        assert spec.family in FAMILIES, name
        if spec.kind == "refused":
            assert spec.translate is None and spec.refusal, name
        elif spec.kind == "node":
            # Written as syntax: the node sqlglot reads it into is translated by its class.
            node = getattr(exp, spec.node or "")
            assert node in calls.NODE_CALLS or node in expressions._NODES, name
        else:
            assert callable(spec.translate), name


def test_every_documented_function_is_registered_or_refused_by_name() -> None:
    documented = _documented_functions()
    assert len(documented) > 200  # the anchors were read
    assert sorted(documented - set(REGISTRY)) == []


@pytest.mark.parametrize("name", sorted(n for n, s in REGISTRY.items() if s.kind == "refused"))
def test_a_refused_function_is_refused_by_name(name: str) -> None:
    # The argument is of no type any of them takes: the refusal comes before it is checked.
    with pytest.raises(UnsupportedQuery, match=rf"the function {name}\b"):
        _translate(f"SELECT {name}(ARRAY[true])")


@pytest.mark.parametrize(
    "name", sorted(n for n, s in REGISTRY.items() if s.kind == "scalar" and s.args == "()")
)
def test_a_function_of_no_arguments_returns_its_declared_type(name: str) -> None:
    translation = Translator({}, "analytics").translate(parse_written(f"SELECT {name}()"))
    [(_, returned)] = translation.columns
    assert returned.trino() == REGISTRY[name].returns


def test_only_the_functions_that_can_refuse_at_run_time_are_refused_under_try() -> None:
    # regexp_like's local translation raises where Java and RE2 differ: TRY must not hide that.
    assert REGISTRY["regexp_like"].fails_at_run_time
    with pytest.raises(UnsupportedQuery, match=r"try\(\) around regexp_like\(\)"):
        _translate("SELECT try(regexp_like('a', 'a'))")
    assert not REGISTRY["length"].fails_at_run_time
    assert "TRY(" in _translate("SELECT try(length('a'))")


def test_an_aggregate_is_one_by_its_kind_only() -> None:
    from dw_platform.query.functions import is_aggregate

    assert is_aggregate("SUM") and is_aggregate("approx_set")
    # Refused aggregates are refused by name, not decorrelated as aggregates.
    assert REGISTRY["map_union"].kind == "refused" and not is_aggregate("map_union")
    assert not is_aggregate("row_number") and not is_aggregate("no_such_function")


def test_a_name_is_registered_once() -> None:
    length = REGISTRY["length"]
    again = FunctionSpec(name="length", family="binary", kind="scalar", args="varbinary", returns="bigint")
    with pytest.raises(RuntimeError, match=r"length\(\) is registered twice"):
        registry.register(again)
    assert REGISTRY["length"] is length
    # Names are looked up lower-case (function_name lowers what was written).
    assert all(name == name.lower() for name in REGISTRY)
