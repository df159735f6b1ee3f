"""Malformed records: the per-hour error rate checked against the table's thresholds in Dagster,
the reconciliation ledger, and `dw status`."""

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.stats import HourStats, hour_stats
from dw_platform.operations.error_rates import ERROR, OK, WARN, judge_error_rates, wilson_lower_bound
from dw_platform.orchestration.backfill import run_backfill
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

HOURS = [datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(hours=i) for i in range(3)]
CHECK = dg.AssetCheckKey(dg.AssetKey(["analytics_dw", "clicks"]), "error_rate")


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def check_result(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    records = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=1)
    assert records, "the check ran"
    evaluation = records[0].event.dagster_event.event_specific_data  # type: ignore[union-attr]
    assert isinstance(evaluation, dg.AssetCheckEvaluation)
    return evaluation


@pytest.mark.slow
def test_error_rate_check_grades_the_worst_hour(
    runtime: Runtime, settings: Settings, instance: dg.DagsterInstance
) -> None:
    defs = build_definitions(analytics_dw, settings)
    for hour, ratio in zip(HOURS, (0.0, 0.01, 0.1), strict=True):  # ok, warn, error
        records, malformed = sample_events(1000, hour, malformed_ratio=ratio, seed=int(ratio * 100))
        summary = deliver(runtime, "clicks", records, arrival=hour + timedelta(minutes=4), batches=2)
        assert summary.errors == malformed

    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[0], only=["register"]).success
    assert check_result(instance).passed

    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[1], only=["register"]).success
    warned = check_result(instance)
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["worst_hour"].value == "2026/03/01/11"

    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[2], only=["register"]).success, (
        "an error rate does not fail the registration: the records are isolated, not lost"
    )
    failed = check_result(instance)
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["worst_error_rate_pct"].value == pytest.approx(10.0)
    assert failed.metadata["hours_over_error"].value == 1
    assert "| records |" in failed.metadata["top_errors"].value

    event = instance.get_latest_materialization_event(dg.AssetKey(["analytics_dw", "clicks"]))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    assert metadata["sent"].value == 1000 and metadata["reconciled"].value is True
    assert metadata["error_rate"].value == pytest.approx(0.1)


def test_reconciliation_notices_a_lost_object(runtime: Runtime) -> None:
    records, _ = sample_events(500, HOURS[0], malformed_ratio=0.02, seed=3)
    summary = deliver(runtime, "clicks", records, arrival=HOURS[0], batches=5)
    stats = hour_stats(runtime.lake, "clicks", "2026/03/01/10")
    assert stats.sent == 500 and stats.rows + stats.error_records == 500 and stats.reconciled
    runtime.lake.delete(summary.objects[0])
    assert hour_stats(runtime.lake, "clicks", "2026/03/01/10").reconciled is False


def wilson_low(errors: int, records: int, z: float = 1.959964) -> float:
    """The Wilson score interval's lower end, written out from Wilson (1927) as Newcombe (1998) gives
    it: (2np + z^2 - z sqrt(z^2 + 4np(1 - p))) / (2(n + z^2))."""
    n, p = records, errors / records
    return (2 * n * p + z * z - z * math.sqrt(z * z + 4 * n * p * (1 - p))) / (2 * (n + z * z))


def test_wilson_lower_bound_matches_published_values() -> None:
    # Newcombe, "Two-sided confidence intervals for the single proportion" (Stat. Med. 1998), Table I,
    # method 3 (score interval without continuity correction), lower limits.
    published = {(81, 263): 0.2553, (15, 148): 0.0624, (1, 29): 0.0061, (0, 20): 0.0}
    for (errors, records), low in published.items():
        assert wilson_lower_bound(errors, records) == pytest.approx(low, abs=5e-5)
        assert wilson_low(errors, records) == pytest.approx(low, abs=5e-5)
    for errors, records in [(1, 300), (10, 1000), (3, 30000), (100, 1000)]:
        assert wilson_lower_bound(errors, records) == pytest.approx(wilson_low(errors, records), rel=1e-6)
    assert wilson_lower_bound(0, 0) == 0.0


def hour(name: str, records: int, errors: int) -> HourStats:
    return HourStats(name, objects=1, bytes=1, rows=records - errors, error_objects=1, error_records=errors)


def test_an_hour_is_judged_only_as_far_as_its_records_tell(runtime: Runtime) -> None:
    spec = analytics_dw.table("clicks")  # WARN above 0.1 %, ERROR above 5 %
    small = hour("2026/03/01/10", 300, 1)  # 0.33 %, bound 0.06 %: says nothing about 0.1 %
    assert judge_error_rates(runtime.lake, spec, [small]).level == OK
    many = hour("2026/03/01/11", 30_000, 100)  # 0.33 % again, bound 0.27 %: it does
    assert judge_error_rates(runtime.lake, spec, [small, many]).level == WARN
    bad = hour("2026/03/01/12", 40, 4)  # 10 %, bound 4.0 %: warn, not yet error
    assert judge_error_rates(runtime.lake, spec, [bad]).level == WARN
    worse = hour("2026/03/01/13", 400, 40)  # 10 %, bound 7.4 %
    verdict = judge_error_rates(runtime.lake, spec, [small, bad, worse])
    assert verdict.level == ERROR and verdict.hours_over_error == ("2026/03/01/13",)
    assert verdict.worst_hour == "2026/03/01/13"


def test_a_new_instances_small_first_hour_passes_and_says_why(
    runtime: Runtime, settings: Settings, instance: dg.DagsterInstance
) -> None:
    """A dev instance's first, partial hour: 300 records, one malformed (0.33 %, above the 0.1 %
    threshold): too few records to say the rate is above it, so the check passes and says so."""
    defs = build_definitions(analytics_dw, settings)
    records, malformed = sample_events(300, HOURS[0], malformed_ratio=1 / 300, seed=5)
    assert malformed == 1
    deliver(runtime, "clicks", records, arrival=HOURS[0] + timedelta(minutes=40))
    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[0], only=["register"]).success
    result = check_result(instance)
    assert result.passed
    metadata = {k: v.value for k, v in result.metadata.items()}
    assert metadata["worst_hour"] == "2026/03/01/10"
    assert (metadata["worst_hour_records"], metadata["worst_hour_errors"]) == (300, 1)
    assert metadata["worst_error_rate_pct"] == pytest.approx(100 / 300, abs=1e-4)
    assert metadata["worst_error_rate_lower_bound_pct"] == pytest.approx(100 * wilson_low(1, 300), abs=1e-4)
    assert metadata["warn_above_pct"] == pytest.approx(0.1)
    assert metadata["hours_with_too_few_records"] == 1
    assert "too few records" in metadata["judgement"]
    [small] = metadata["too_few_records"]
    assert small["hour"] == "2026/03/01/10" and small["records"] == 300 and small["errors"] == 1
