"""`aggregates_by_event_time`: counts by when events happened, gathered from the arrival hours
within the lateness window, recomputed while late events can still arrive."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import inserted_at, iter_hours
from dw_platform.operations.batch_tables import run_batch_hours
from dw_platform.operations.registration import register_hours
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

T = datetime(2026, 3, 1, tzinfo=UTC)
# (events, event time, arrival): on time, late into the next hour, 3 hours late, beyond the window.
ARRIVALS = [
    (100, T.replace(hour=10, minute=30), T.replace(hour=10, minute=35)),
    (40, T.replace(hour=10, minute=50), T.replace(hour=11, minute=5)),
    (7, T.replace(hour=10, minute=59), T.replace(hour=13, minute=10)),
    (60, T.replace(hour=11, minute=20), T.replace(hour=11, minute=25)),
    (5, T.replace(hour=10, minute=10), T.replace(day=2, hour=12)),
]


def counts(runtime: Runtime) -> dict[tuple[str, str], int]:
    rows = runtime.engine.query(
        "SELECT event_type, time, count FROM aggregates_by_event_time "
        "WHERE event_hour IN ('2026/03/01/10', '2026/03/01/11')"
    ).table.to_pylist()
    return {(r["event_type"], r["time"]): r["count"] for r in rows}


def test_events_are_counted_in_the_hour_they_happened(runtime: Runtime) -> None:
    for index, (count, event_time, arrival) in enumerate(ARRIVALS):
        records, _ = sample_events(count, event_time, seed=index)
        deliver(runtime, "clicks", records, arrival=arrival)
    arrival_hours = [inserted_at(h) for h in iter_hours(T.replace(hour=10), T.replace(day=2, hour=12))]
    register_hours(runtime, "clicks", arrival_hours, with_stats=False)
    register_hours(runtime, "impressions", arrival_hours, with_stats=False)

    later = T + timedelta(days=3)
    run_batch_hours(runtime, "aggregates_by_event_time", ["2026/03/01/10", "2026/03/01/11"], now=later)
    expected = {
        ("clicks", "2026/03/01/10"): 147,  # 100 on time + 40 an hour late + 7 three hours late
        ("clicks", "2026/03/01/11"): 60,
        ("impressions", "2026/03/01/10"): 0,
        ("impressions", "2026/03/01/11"): 0,
    }
    assert counts(runtime) == expected, "the 5 events a day late are past the 24-hour window"
    run_batch_hours(runtime, "aggregates_by_event_time", ["2026/03/01/10", "2026/03/01/11"], now=later)
    assert counts(runtime) == expected, "recomputing an hour gives the same rows"


def test_the_lateness_window_is_recomputed_after_its_last_arrival_hour_is_registered(
    settings: Settings, tmp_path: Path
) -> None:
    """When the registration sensor refreshes a settled arrival hour (12:02 for 11:00 in development,
    with the next hour registered ahead), every event hour whose events that arrival hour can hold is
    requested: the 24 hours of the lateness window and the hour itself (before: an hourly schedule)."""
    now = datetime(2026, 3, 2, 12, 3, tzinfo=UTC)
    defs = build_definitions(analytics_dw, settings, clock=lambda: now)
    key = dg.AssetKey(["analytics_dw", "aggregates_by_event_time"])
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = dg.evaluate_automation_conditions(defs, instance, evaluation_time=now)
        assert not result.get_requested_partitions(key)  # nothing arrived yet
        for table in ("impressions", "clicks"):
            for hour in ("2026-03-02-11:00", "2026-03-02-12:00"):
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(dg.AssetKey(["analytics_dw", table]), partition=hour)
                )
        result = dg.evaluate_automation_conditions(defs, instance, evaluation_time=now, cursor=result.cursor)
    window = sorted(k for k in result.get_requested_partitions(key) if k)
    assert window[0] == "2026-03-01-11:00"
    assert window[-1] == "2026-03-02-11:00" and len(window) == 25
    # one run per range of up to the backfill policy's hours (the automation sensor's runs)
    policy = defs.resolve_assets_def(key).backfill_policy
    assert policy is not None and (policy.max_partitions_per_run or 0) >= 25
