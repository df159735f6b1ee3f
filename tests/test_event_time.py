"""`aggregates_by_event_time`: counts by when events happened, gathered from the arrival hours
within the lateness window, recomputed by the schedule while late events can still arrive."""

from datetime import UTC, datetime, timedelta

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


def test_the_schedule_recomputes_the_lateness_window(settings: Settings) -> None:
    defs = build_definitions(analytics_dw, settings)
    schedule = defs.get_repository_def().get_schedule_def("analytics_dw_aggregates_by_event_time_schedule")
    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 2, 12, 3, tzinfo=UTC)
    ) as context:
        (request,) = schedule.evaluate_tick(context).run_requests or []
    assert request.tags["dagster/asset_partition_range_start"] == "2026-03-01-11:00"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-02-11:00"  # 25 hours, one run
