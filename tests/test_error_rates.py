"""Malformed records: the per-hour error rate checked against the table's thresholds in Dagster,
the reconciliation ledger, and `dw status`."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.stats import hour_stats
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
    assert failed.metadata["worst_error_rate"].value == pytest.approx(0.1)
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
