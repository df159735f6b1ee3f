"""An object delivered into an hour while it is being compacted (after the raw folder was listed,
before the catalog switch) never disappears from readers (issue 16, finding 5)."""

from datetime import UTC, datetime, timedelta

from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour
from dw_platform.operations.compaction.rewrite import RewriteOptions
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime

HOUR = "2026/03/01/10"
ARRIVAL = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
T = datetime.now(UTC)
SMALL = CompactionOptions(rewrite=RewriteOptions(target_file_bytes=40_000, row_group_rows=500))


def visible(runtime: Runtime) -> int:
    table = runtime.engine.query(f"SELECT count(*) AS n FROM clicks WHERE inserted_at = '{HOUR}'").table
    return table.column("n")[0].as_py()


def test_an_object_delivered_during_compaction_stays_visible_through_the_switch(runtime: Runtime) -> None:
    records, _ = sample_events(1000, ARRIVAL, seed=1)
    deliver(runtime, "clicks", records, arrival=ARRIVAL, batches=5)
    register_hours(runtime, "clicks", [HOUR], with_stats=False)
    acknowledged = [1000]
    seen: list[tuple[str, int]] = []

    def during(step: str) -> None:
        if step == "after_output" and len(acknowledged) == 1:  # once: the rewrite has listed the folder
            late, _ = sample_events(50, ARRIVAL, seed=2)
            deliver(runtime, "clicks", late, arrival=ARRIVAL + timedelta(minutes=40))
            acknowledged.append(1050)
        seen.append((step, visible(runtime)))

    report = compact_hour(runtime, "clicks", HOUR, SMALL, now=T, fault=during)
    seen.append(("end", visible(runtime)))
    assert (report.status, report.rows) == ("compacted", 1050)
    after_delivery = seen[[s for s, _ in seen].index("after_output") :]
    assert all(n == 1050 for _, n in after_delivery), seen


def test_deliveries_that_never_stop_defer_the_switch_and_hide_nothing(runtime: Runtime) -> None:
    records, _ = sample_events(1000, ARRIVAL, seed=1)
    deliver(runtime, "clicks", records, arrival=ARRIVAL, batches=5)
    register_hours(runtime, "clicks", [HOUR], with_stats=False)
    sent = [1000]

    def during(step: str) -> None:
        if step == "after_output":
            late, _ = sample_events(50, ARRIVAL, seed=len(sent))
            deliver(runtime, "clicks", late, arrival=ARRIVAL + timedelta(minutes=40))
            sent.append(50)
        assert visible(runtime) == sum(sent)

    report = compact_hour(runtime, "clicks", HOUR, SMALL, now=T, fault=during)
    assert report.status == "deferred" and "kept landing" in report.reason
    assert visible(runtime) == sum(sent) == 1150
    assert (
        runtime.catalog.get_partitions("analytics_dw", "clicks", [(HOUR,)])[0].location
        == "clicks/" + HOUR + "/"
    )
    again = compact_hour(runtime, "clicks", HOUR, SMALL, now=T)  # once deliveries stop
    assert (again.status, again.rows, visible(runtime)) == ("compacted", 1150, 1150)
