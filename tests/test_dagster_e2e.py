import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dw_platform.defs.analytics_dw.warehouse import EVENT_COLUMNS, analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import floor_hour, inserted_at, partition_key
from dw_platform.lake.stats import hour_stats
from dw_platform.operations.batch_tables import BatchHourResult, run_batch_hours
from dw_platform.operations.settling import HourNotClosedError, settle_delay
from dw_platform.orchestration.backfill import run_backfill
from dw_platform.orchestration.build import build_definitions
from dw_platform.orchestration.generator import batch_minutes, malformed_in_minute
from dw_platform.orchestration.outside_runs import record_recomputed
from dw_platform.orchestration.registration_assets import HourState, due_hours, hours_ahead
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings, ensure_dagster_home
from tests.postgres_server import deploy_instance

FIRST = datetime(2026, 3, 1, 10, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 9, 40, 15, tzinfo=UTC)  # the clock of the sensors and runs a test builds
HOURS = [FIRST + timedelta(hours=i) for i in range(3)]
STREAMING = ("impressions", "clicks")


@pytest.fixture
def defs(settings: Settings) -> dg.Definitions:
    return build_definitions(analytics_dw, settings)


@pytest.fixture
def instance(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """SQLite storage as `dagster dev` has it; with the parameter "postgres", the instance
    deploy/dagster.yaml describes, on a fresh database of the session's PostgreSQL server."""
    if getattr(request, "param", "sqlite") == "postgres":
        instance = deploy_instance(tmp_path / "dagster", request.getfixturevalue("postgres_url"))
        try:
            yield instance
        finally:
            instance.dispose()
        return
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


# The end-to-end tests that run on both storages (the others are storage-independent).
# The PostgreSQL case starts a server: e2e (the fixture asks for it by name, at run time).
BOTH_STORAGES = pytest.mark.parametrize(
    "instance", ["sqlite", pytest.param("postgres", marks=pytest.mark.e2e)], indirect=True
)


def deliver_hours(runtime: Runtime) -> dict[tuple[str, str], tuple[int, int]]:
    """Known counts, some malformed, into three hours in several objects each."""
    expected = {}
    for h, hour in enumerate(HOURS):
        for t, table in enumerate(STREAMING):
            records, malformed = sample_events(
                200 + 50 * h + 7 * t, hour + timedelta(minutes=20), malformed_ratio=0.05, seed=h * 10 + t
            )
            summary = deliver(runtime, table, records, arrival=hour + timedelta(minutes=20), batches=3)
            assert summary.errors == malformed and summary.delivered + summary.errors == summary.sent
            expected[(table, inserted_at(hour))] = (summary.delivered, summary.errors)
    return expected


def lake_and_catalog_snapshot(runtime: Runtime) -> dict[str, object]:
    objects = {
        o.key: hashlib.sha256(runtime.lake.read_bytes(o.key)).hexdigest()
        for o in runtime.lake.list_objects("")
    }
    partitions = {t: runtime.catalog.get_partitions("analytics_dw", t) for t in analytics_dw.table_names}
    return {"objects": objects, "partitions": partitions}


@pytest.mark.slow
@BOTH_STORAGES
def test_backfill_range_in_one_run_gives_exact_counts_and_rerun_changes_nothing(
    runtime: Runtime, defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    expected = deliver_hours(runtime)
    storage = instance.event_log_storage
    batches: list[int] = []
    store_event_batch = storage.store_event_batch

    def counted(events: list) -> None:  # the real write, counted
        batches.append(len(events))
        store_event_batch(events)

    storage.store_event_batch = counted  # type: ignore[method-assign]
    outcome = run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[-1])
    assert outcome.success
    assert len(instance.get_run_records()) == 1  # the whole range in one run
    # Each hourly asset's materializations went to the storage as one batch (DAGSTER_EVENT_BATCH_SIZE),
    # and each hour is materialized in the partition status the UI shows.
    graph = defs.resolve_asset_graph()
    partitioned = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None]
    assert batches.count(len(HOURS)) == len(partitioned)
    for key in partitioned:
        assert instance.get_materialized_partitions(key) == {partition_key(h) for h in HOURS}, key

    aggregates = runtime.engine.query(
        "SELECT event_type, time, count FROM analytics_dw.aggregates "
        "WHERE inserted_at BETWEEN '2026/03/01/10' AND '2026/03/01/12'"
    ).table.to_pylist()
    assert {(r["event_type"], r["time"]): r["count"] for r in aggregates} == {
        key: delivered for key, (delivered, _) in expected.items()
    }
    for table in STREAMING:
        raw = runtime.engine.query(
            f"SELECT inserted_at, count(*) AS n FROM {table} "
            "WHERE inserted_at >= '2026/03/01/10' AND inserted_at <= '2026/03/01/12' GROUP BY 1"
        ).table.to_pylist()
        assert {r["inserted_at"]: r["n"] for r in raw} == {
            hour: delivered for (t, hour), (delivered, _) in expected.items() if t == table
        }
        for hour in HOURS:
            stats = hour_stats(runtime.lake, table, inserted_at(hour))
            assert stats.error_records == expected[(table, inserted_at(hour))][1]

    # Each partition's materialization carries its own numbers, for the UI to plot.
    records = instance.fetch_materializations(dg.AssetKey(["analytics_dw", "clicks"]), limit=10).records
    metadata = {r.partition_key: r.asset_materialization.metadata for r in records}  # type: ignore[union-attr]
    assert set(metadata) == {partition_key(h) for h in HOURS}
    for hour in HOURS:
        values = metadata[partition_key(hour)]
        delivered, errors = expected[("clicks", inserted_at(hour))]
        assert values["rows"].value == delivered
        assert values["error_records"].value == errors
        assert values["objects"].value == 3
        assert values["bytes"].value > 0

    before = lake_and_catalog_snapshot(runtime)
    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[-1]).success
    assert lake_and_catalog_snapshot(runtime) == before


def test_hours_outside_the_backfilled_range_stay_invisible(
    runtime: Runtime, defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    deliver_hours(runtime)
    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[0], only=["register"]).success
    counts = runtime.engine.query(
        "SELECT inserted_at, count(*) AS n FROM clicks GROUP BY 1", allow_full_scan=True
    ).table.to_pylist()
    assert [r["inserted_at"] for r in counts] == ["2026/03/01/10"]
    everything = runtime.engine.query("SELECT * FROM aggregates", allow_full_scan=True)
    assert everything.table.num_rows == 0  # `only` was honoured


def test_aggregates_never_compute_a_still_filling_hour(runtime: Runtime) -> None:
    hour = inserted_at(FIRST)
    with pytest.raises(HourNotClosedError, match="still filling"):
        run_batch_hours(
            runtime, "aggregates", [hour], now=FIRST + timedelta(minutes=61)
        )  # 60 s flush + margin
    assert run_batch_hours(runtime, "aggregates", [hour], now=FIRST + timedelta(minutes=62))[0].rows == 2


def follow_automation(
    defs: dg.Definitions, instance: dg.DagsterInstance, at: datetime, cursor: object = None
) -> tuple[dict[str, list[str]], object]:
    """One tick of the automation sensor at `at`: the batch tables' partitions it requests."""
    batch = [dg.AssetKey(["analytics_dw", n]) for n in ("aggregates", "aggregates_by_event_time")]
    result = dg.evaluate_automation_conditions(
        defs,
        instance,
        asset_selection=dg.AssetSelection.assets(*batch),
        evaluation_time=at,
        cursor=cursor,  # type: ignore[arg-type]
    )
    requested = {k.path[-1]: sorted(p for p in result.get_requested_partitions(k) if p) for k in batch}
    return {name: keys for name, keys in requested.items() if keys}, result.cursor


def materialize_requested(
    defs: dg.Definitions, instance: dg.DagsterInstance, requested: dict[str, list[str]]
) -> None:
    """What the automation sensor's runs (or backfill) do: each table's requested range, one run."""
    job = defs.resolve_implicit_global_asset_job_def()
    for name, keys in requested.items():
        tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
        selection = [dg.AssetKey(["analytics_dw", name])]
        assert job.execute_in_process(instance=instance, tags=tags, asset_selection=selection).success


def test_aggregates_follow_the_registration_of_a_closed_and_settled_hour(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    """The registration sensor refreshes a closed hour once it has settled (minute 2 in development);
    the batch tables follow that refresh, declared once on them (no schedule of their own)."""
    now = FIRST + timedelta(minutes=3)
    defs = build_definitions(analytics_dw, settings, clock=lambda: now)
    assert not [s.name for s in defs.schedules or [] if "aggregates" in s.name]
    requested, cursor = follow_automation(defs, instance, now)
    assert requested == {}  # nothing changed
    closed = partition_key(FIRST - timedelta(hours=1))
    for table in STREAMING:  # the refresh run of the hour that closed, with the next hour's
        for key in (closed, partition_key(FIRST)):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(dg.AssetKey(["analytics_dw", table]), partition=key)
            )
    requested, cursor = follow_automation(defs, instance, now, cursor)
    assert requested["aggregates"] == [closed]  # the hour in progress is not a partition yet
    # by event time: every hour whose events that arrival hour can hold, one range
    window = requested["aggregates_by_event_time"]
    assert (window[0], window[-1], len(window)) == ("2026-02-28-09:00", closed, 25)
    assert follow_automation(defs, instance, now, cursor)[0] == {}  # asked for once


@BOTH_STORAGES
def test_registration_sensor_registers_hours_ahead_so_objects_are_queryable_as_they_land(
    runtime: Runtime, instance: dg.DagsterInstance, settings: Settings
) -> None:
    now = NOW
    defs = build_definitions(analytics_dw, settings, clock=lambda: now)
    resources = {"warehouse_resource": WarehouseResource(home=str(settings.home))}
    sensor = defs.get_sensor_def("analytics_dw_registration_sensor")
    current = floor_hour(now)
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = sensor(context)
        cursor = result.cursor
    [request] = result.run_requests or []  # one run for every streaming table
    assert set(request.asset_selection or []) == {dg.AssetKey(["analytics_dw", t]) for t in STREAMING}
    assert request.tags["dagster/asset_partition_range_end"] == partition_key(current)
    # the last settled closed hour's (empty) numbers may come with it: in an hour's first minutes, before
    # the hour just closed has settled, that is the one before it
    settled = floor_hour(now - settle_delay(runtime.warehouse, STREAMING))
    assert request.tags["dagster/asset_partition_range_start"] >= partition_key(settled - timedelta(hours=1))

    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(
        instance=instance, tags=request.tags, asset_selection=request.asset_selection
    ).success
    hour, following = inserted_at(now), inserted_at(now + timedelta(hours=1))
    for table in STREAMING:  # the hour in progress and the next, before any data
        partitions = runtime.catalog.get_partitions("analytics_dw", table, [(hour,), (following,)])
        assert sorted(p.values[0] for p in partitions) == [hour, following]

    records, _ = sample_events(30, now, seed=5)
    deliver(runtime, "clicks", records, arrival=now)  # lands in the hour in progress: no run needed
    assert runtime.engine.query(
        f"SELECT count(*) AS n FROM clicks WHERE inserted_at = '{hour}'"
    ).table.to_pylist() == [{"n": 30}]
    deliver(runtime, "clicks", records[:5], arrival=now)
    with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        assert sensor(context).skip_reason is not None  # no run per object


def test_registration_sensor_refreshes_closed_hours_once_and_again_for_late_objects() -> None:
    hours = ["2026/03/01/08", "2026/03/01/09", "2026/03/01/10"]
    current, ahead = "2026/03/01/11", "2026/03/01/12"
    everything = {*hours, current, ahead}
    state = HourState({"2026/03/01/08": 3, "2026/03/01/09": 0, "2026/03/01/10": 5}, everything, hours)
    # closed with data and never asked for: refreshed; an empty hour only when it is the latest
    assert due_hours(state, {"2026/03/01/08": 3}, current, ahead, close_due=True) == (
        {"2026/03/01/10": 5},
        False,
    )
    assert due_hours(state, {"2026/03/01/08": 3, "2026/03/01/10": 5}, current, ahead, True) == ({}, False)
    late = HourState({**state.counts, "2026/03/01/08": 4}, everything, hours)
    assert due_hours(late, {"2026/03/01/08": 3, "2026/03/01/10": 5}, current, ahead, True) == (
        {"2026/03/01/08": 4},
        False,
    )
    empty_last = HourState({"2026/03/01/10": 0}, everything, ["2026/03/01/10"])
    assert due_hours(empty_last, {}, current, ahead, True) == ({"2026/03/01/10": 0}, False)
    # the next hour is registered with the closing hour's refresh, not before it settles
    no_ahead = HourState(state.counts, everything - {ahead}, hours)
    asked = {"2026/03/01/08": 3, "2026/03/01/10": 5}
    assert due_hours(no_ahead, asked, current, ahead, close_due=False) == ({}, False)
    assert due_hours(no_ahead, asked, current, ahead, close_due=True) == ({current: -1}, False)
    # the hour in progress missing (first start, a failed run): at once, retried
    fresh = HourState(state.counts, set(hours), hours)
    assert due_hours(fresh, asked, current, ahead, close_due=False) == ({current: -1}, True)
    unregistered = HourState(state.counts, everything - {"2026/03/01/10"}, hours)
    assert due_hours(unregistered, asked, current, ahead, False) == ({"2026/03/01/10": 5}, True)


def test_hours_ahead_only_from_a_run_that_reaches_the_hour_in_progress() -> None:
    now = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
    assert hours_ahead(["2026/03/01/10", "2026/03/01/11"], now) == ["2026/03/01/12"]
    assert hours_ahead(["2026/03/01/10"], now) == ["2026/03/01/11", "2026/03/01/12"]  # started at 10:59
    assert hours_ahead(["2026/03/01/08", "2026/03/01/09"], now) == []  # a backfill of the past
    assert hours_ahead([], now) == []


def test_event_generator_sends_to_every_streaming_table(
    runtime: Runtime, settings: Settings, instance: dg.DagsterInstance
) -> None:
    defs = build_definitions(analytics_dw, settings, clock=lambda: NOW)
    job = defs.get_job_def("analytics_dw_event_generator")
    sample = {"events_per_table": 40, "malformed_ratio": 0.1}  # one batch, now (the launchpad's default)
    config = {"ops": {"analytics_dw_send_sample_events": {"config": sample}}}
    assert job.execute_in_process(instance=instance, run_config=config).success
    for table in STREAMING:
        stats = hour_stats(runtime.lake, table, inserted_at(NOW))
        assert (stats.rows, stats.error_records) == (36, 4)


def test_event_generator_sensor_decides_and_its_run_sends_under_the_error_warning(
    runtime: Runtime, settings: Settings, instance: dg.DagsterInstance
) -> None:
    """The sensor sends nothing: it asks for one run per 30-minute block, which sends a batch a minute
    (before, the sensor itself sent, in the daemon, and no run showed it)."""
    defs = build_definitions(analytics_dw, settings, clock=lambda: NOW)
    sensor = defs.get_sensor_def("analytics_dw_event_generator_sensor")
    with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def()) as context:
        [request] = sensor.evaluate_tick(context).run_requests or []
    assert not runtime.lake.list_objects("")  # the tick sent nothing
    block = NOW.replace(minute=30, second=0)
    config = request.run_config["ops"]["analytics_dw_send_sample_events"]["config"]
    assert (request.run_key, config["start"], config["minutes"]) == (
        "2026-03-02T09:30",
        block.isoformat(),
        30,
    )
    assert (config["events_per_table"], config["malformed_ratio"]) == (
        100,
        settings.generator_malformed_ratio,
    )
    later = build_definitions(analytics_dw, settings, clock=lambda: block + timedelta(minutes=29, seconds=5))
    with dg.build_sensor_context(instance=instance, repository_def=later.get_repository_def()) as context:
        [again] = (
            later.get_sensor_def("analytics_dw_event_generator_sensor").evaluate_tick(context).run_requests
            or []
        )
    assert again.run_key == request.run_key  # the same block: de-duplicated, one run
    # The run, started late in its block: the minutes that have passed are not sent twice or late.
    job = later.get_job_def("analytics_dw_event_generator")
    assert job.execute_in_process(instance=instance, run_config=request.run_config).success
    for table in STREAMING:
        stats = hour_stats(runtime.lake, table, inserted_at(NOW))
        assert stats.rows + stats.error_records == 100
    assert batch_minutes(block, 30, block + timedelta(minutes=29, seconds=5)) == [
        block + timedelta(minutes=29)
    ]
    assert len(batch_minutes(block, 30, block)) == 30
    # the default share, kept over time: 3 malformed an hour of 6,000 events, half the 0.1 % warning
    malformed = [malformed_in_minute(m, 100, settings.generator_malformed_ratio) for m in range(60)]
    assert sum(malformed) == 3 and set(malformed) == {0, 1}
    assert sum(malformed) / 6000 < analytics_dw.table("clicks").streaming.error_rate_warn  # type: ignore[union-attr]
    assert sum(malformed_in_minute(m, 100, 0.1) for m in range(60)) == 600


def test_static_and_infrastructure_assets(
    runtime: Runtime, defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    job = defs.resolve_implicit_global_asset_job_def()
    keys = [dg.AssetKey(["infrastructure", "analytics_dw"]), dg.AssetKey(["analytics_dw", "facts"])]
    assert job.execute_in_process(instance=instance, asset_selection=keys).success
    assert [t.name for t in runtime.catalog.list_tables("analytics_dw")] == sorted(analytics_dw.table_names)
    assert runtime.engine.query("SELECT count(*) AS n FROM facts").table.to_pylist() == [{"n": 4}]


def test_lineage_and_one_line_per_streaming_table(settings: Settings) -> None:
    warehouse = analytics_dw.with_streaming_input_table("purchases", EVENT_COLUMNS)
    defs = build_definitions(warehouse, settings)
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    purchases = specs[dg.AssetKey(["analytics_dw", "purchases"])]
    assert purchases.partitions_def is not None
    registration = defs.get_sensor_def("analytics_dw_registration_sensor")
    assert dg.AssetKey(["analytics_dw", "purchases"]) in registration.asset_selection.resolve(  # type: ignore[union-attr]
        defs.resolve_asset_graph()
    )
    aggregate_deps = {d.asset_key for d in specs[dg.AssetKey(["analytics_dw", "aggregates"])].deps}
    assert {
        dg.AssetKey(["analytics_dw", "impressions"]),
        dg.AssetKey(["analytics_dw", "clicks"]),
    } <= aggregate_deps


def test_local_profile_turns_automation_on_by_default(defs: dg.Definitions, tmp_path: Path) -> None:
    ensure_dagster_home(tmp_path / "dagster")  # the dev instance's configuration, as `make dev` writes it
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as dev:
        assert dev.auto_materialize_enabled and dev.auto_materialize_use_sensors
    generator = defs.get_sensor_def("analytics_dw_event_generator_sensor")
    assert generator.default_status == dg.DefaultSensorStatus.RUNNING
    automation = defs.get_sensor_def("analytics_dw_automation")
    assert automation.default_status == dg.DefaultSensorStatus.RUNNING
    targets = automation.asset_selection.resolve(defs.resolve_asset_graph())  # type: ignore[union-attr]
    assert {dg.AssetKey(["analytics_dw", n]) for n in ("aggregates", "aggregates_by_event_time")} <= targets
    registration = defs.get_sensor_def("analytics_dw_registration_sensor")
    assert registration.default_status == dg.DefaultSensorStatus.RUNNING


@pytest.mark.slow
def test_materialization_metadata_is_numeric_for_plotting(
    runtime: Runtime, defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    deliver_hours(runtime)
    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[0]).success
    for table in (*STREAMING, "aggregates"):
        [record] = instance.fetch_materializations(dg.AssetKey(["analytics_dw", table]), limit=1).records
        metadata = record.asset_materialization.metadata  # type: ignore[union-attr]
        assert isinstance(metadata["rows"], dg.IntMetadataValue), json.dumps(list(metadata))


@pytest.mark.slow
@BOTH_STORAGES
def test_late_object_sensor_recompacts_and_refreshes_aggregates(
    runtime: Runtime, instance: dg.DagsterInstance, settings: Settings
) -> None:
    defs = build_definitions(analytics_dw, settings, clock=lambda: NOW)
    hour = floor_hour(NOW) - timedelta(hours=3)  # closed, within the late-data window
    for table in STREAMING:
        records, _ = sample_events(500, hour, seed=len(table))
        deliver(runtime, table, records, arrival=hour + timedelta(minutes=10), batches=3)
    assert run_backfill(defs, analytics_dw, instance, hour, hour).success
    [record] = instance.fetch_materializations(
        dg.AssetKey(["analytics_dw", "clicks_compacted"]), limit=1
    ).records
    metadata = record.asset_materialization.metadata  # type: ignore[union-attr]
    assert (metadata["files_before"].value, metadata["files_after"].value, metadata["rows"].value) == (
        3,
        1,
        500,
    )
    _, cursor = follow_automation(defs, instance, NOW)  # the backfill computed the aggregates too

    resources = {"warehouse_resource": WarehouseResource(home=str(settings.home))}
    sensor = defs.get_sensor_def("analytics_dw_late_objects_sensor")
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        assert sensor(context).skip_reason is not None
    late, _ = sample_events(42, hour, seed=1234)
    deliver(runtime, "clicks", late, arrival=hour + timedelta(minutes=50))
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        [request] = sensor(context).run_requests or []
    assert set(request.asset_selection or []) == {dg.AssetKey(["analytics_dw", "clicks_compacted"])}
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(
        instance=instance, partition_key=request.partition_key, asset_selection=request.asset_selection
    ).success
    value = inserted_at(hour)
    fresh = runtime.engine.query(f"SELECT count(*) AS n FROM clicks WHERE inserted_at = '{value}'").table
    assert fresh.to_pylist() == [{"n": 542}]
    # The aggregates follow the re-compacted hour through their automation condition.
    requested, cursor = follow_automation(defs, instance, NOW, cursor)
    assert requested["aggregates"] == [partition_key(hour)]
    assert requested["aggregates_by_event_time"][-1] == partition_key(hour + timedelta(hours=1))
    assert requested["aggregates_by_event_time"][0] == partition_key(hour - timedelta(hours=24))
    materialize_requested(defs, instance, requested)
    aggregate = runtime.engine.query(
        f"SELECT count FROM aggregates WHERE inserted_at = '{value}' AND event_type = 'clicks'"
    ).table
    by_event_time = runtime.engine.query(
        f"SELECT count FROM aggregates_by_event_time WHERE event_hour = '{value}' AND event_type = 'clicks'"
    ).table
    assert aggregate.to_pylist() == [{"count": 542}] and by_event_time.to_pylist() == [{"count": 542}]
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        assert sensor(context).skip_reason is not None
    assert follow_automation(defs, instance, NOW, cursor)[0] == {}


@pytest.mark.slow
@BOTH_STORAGES
def test_a_failing_run_records_what_it_did_and_skips_what_depends_on_the_failure(
    runtime: Runtime, defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    expected = deliver_hours(runtime)
    hour = inserted_at(HOURS[0])
    runtime.lake.put_bytes(f"clicks/{hour}/analytics_dw-clicks-1-broken.parquet", b"not parquet")
    outcome = run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[0])
    assert not outcome.success
    [run] = instance.get_runs()
    assert run.status == dg.DagsterRunStatus.FAILURE
    [failure] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_key and "clicks" in failure.step_key
    materialized = {
        name: len(instance.fetch_materializations(dg.AssetKey(["analytics_dw", name]), limit=10).records)
        for name in ("impressions", "impressions_compacted", "clicks", "clicks_compacted", "aggregates")
    }
    # What does not depend on clicks ran; what does was skipped.
    assert materialized == {
        "impressions": 1,
        "impressions_compacted": 1,
        "clicks": 0,
        "clicks_compacted": 0,
        "aggregates": 0,
    }
    counted = runtime.engine.query(f"SELECT count(*) AS n FROM impressions WHERE inserted_at = '{hour}'")
    assert counted.table.to_pylist() == [{"n": expected[("impressions", hour)][0]}]


def test_compaction_schedule_leaves_the_latest_hours_in_small_files(defs: dg.Definitions) -> None:
    schedule = defs.get_schedule_def("analytics_dw_compaction_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 1, 12, 25, tzinfo=UTC),
        repository_def=defs.get_repository_def(),
    )
    [request] = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2026-03-01-10:00"  # 1 hour of lag after the hour ends


def test_compaction_schedule_and_lag_are_configurable(settings: Settings) -> None:
    custom = dataclasses.replace(settings, compaction_cron="50 */2 * * *", compaction_lag_hours=3)
    defs = build_definitions(analytics_dw, custom)
    schedule = defs.get_schedule_def("analytics_dw_compaction_schedule")
    assert schedule.cron_schedule == "50 */2 * * *"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 1, 12, 50, tzinfo=UTC),
        repository_def=defs.get_repository_def(),
    )
    [request] = schedule.evaluate_tick(context).run_requests or []
    assert request.partition_key == "2026-03-01-08:00"


def catalog_in_place(instance: dg.DagsterInstance) -> None:
    """The unpartitioned assets materialized (as a dev instance's first minute leaves them), so
    that what the automation sensor requests is the batch tables' hours alone."""
    for key in (["infrastructure", "analytics_dw"], ["analytics_dw", "facts"]):
        instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey(key)))


def test_after_an_hour_is_compacted_its_aggregates_are_requested_and_nothing_else(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    """The compaction schedule's run selects only the compaction (before, it selected the aggregates
    too); the automation sensor asks for the hours computed from the compacted one, once."""
    now = datetime(2026, 3, 1, 12, 25, tzinfo=UTC)  # the compaction schedule's tick for 10:00
    defs = build_definitions(analytics_dw, settings, clock=lambda: now)
    catalog_in_place(instance)
    first = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=now.replace(minute=0, second=30)
    )
    first = dg.evaluate_automation_conditions(  # the sensor's ticks, every 30 s: 11:00 settles at 12:02
        defs, instance, evaluation_time=now.replace(minute=3), cursor=first.cursor
    )
    assert first.total_requested == 0
    schedule = defs.get_schedule_def("analytics_dw_compaction_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=now, repository_def=defs.get_repository_def()
    )
    [request] = schedule.evaluate_tick(context).run_requests or []
    job = defs.resolve_job_def(request.job_name or "analytics_dw_compaction_hourly")
    assert set(job.asset_layer.executable_asset_keys) == {  # type: ignore[attr-defined]
        dg.AssetKey(["analytics_dw", f"{t}_compacted"]) for t in STREAMING
    }
    hour = request.partition_key
    assert hour == "2026-03-01-10:00"
    instance.report_runless_asset_event(
        dg.AssetMaterialization(dg.AssetKey(["analytics_dw", "clicks_compacted"]), partition=hour)
    )
    result = dg.evaluate_automation_conditions(defs, instance, evaluation_time=now, cursor=first.cursor)
    aggregates = dg.AssetKey(["analytics_dw", "aggregates"])
    by_event_time = dg.AssetKey(["analytics_dw", "aggregates_by_event_time"])
    assert result.get_requested_partitions(aggregates) == {hour}
    # by event time: the hours whose events the compacted arrival hour holds (24 late, 1 early;
    # 11:00 is the latest closed hour)
    window = sorted(k or "" for k in result.get_requested_partitions(by_event_time))
    assert (window[0], window[-1], len(window)) == ("2026-02-28-10:00", "2026-03-01-11:00", 26)
    assert result.total_requested == 1 + 26  # nothing else: no other asset, no other hour
    again = dg.evaluate_automation_conditions(defs, instance, evaluation_time=now, cursor=result.cursor)
    assert again.total_requested == 0  # asked for once


def test_the_latest_closed_hour_is_requested_only_once_its_inputs_have_settled(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    """A late object re-compacted at 12:01 changes event hours up to 11:00, whose own inputs are
    still landing until 12:02 (60 s flushes + 1 min): 11:00 waits for the minute the hourly schedule
    used to run at (12:03), so no run fails on a still-filling hour; the older hours go at once."""
    at = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
    defs = build_definitions(analytics_dw, settings, clock=lambda: at)
    by_event_time = dg.AssetKey(["analytics_dw", "aggregates_by_event_time"])
    catalog_in_place(instance)
    cursor = None
    for moment in (at - timedelta(minutes=1), at):  # the sensor's ticks, across the hour's end
        cursor = dg.evaluate_automation_conditions(
            defs, instance, evaluation_time=moment, cursor=cursor
        ).cursor
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            dg.AssetKey(["analytics_dw", "clicks_compacted"]), partition="2026-03-01-10:00"
        )
    )
    early = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=at + timedelta(seconds=30), cursor=cursor
    )
    window = sorted(k or "" for k in early.get_requested_partitions(by_event_time))
    assert (window[0], window[-1], len(window)) == ("2026-02-28-10:00", "2026-03-01-10:00", 25)
    assert early.get_requested_partitions(dg.AssetKey(["analytics_dw", "aggregates"])) == {"2026-03-01-10:00"}
    cursor = early.cursor
    for minute in (1, 2):  # still settling
        tick = dg.evaluate_automation_conditions(
            defs, instance, evaluation_time=at.replace(minute=minute, second=50), cursor=cursor
        )
        assert tick.total_requested == 0
        cursor = tick.cursor
    settled = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=at.replace(minute=3, second=20), cursor=cursor
    )
    assert settled.get_requested_partitions(by_event_time) == {"2026-03-01-11:00"}
    assert settled.total_requested == 1


def test_a_catalog_rebuild_or_a_new_catalog_requests_no_batch_hour(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    """The batch tables follow their inputs' hours, not the catalog asset every hour depends on: a
    re-created catalog (infrastructure materialized again) would otherwise recompute every recent
    hour; hours `dw catalog rebuild` recomputed itself (recorded as runless materializations) are
    not asked for again, and an hour it left (still filling) follows its registration refresh."""
    at = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    defs = build_definitions(analytics_dw, settings, clock=lambda: at)
    catalog_in_place(instance)
    cursor = dg.evaluate_automation_conditions(defs, instance, evaluation_time=at).cursor
    catalog_in_place(instance)  # the catalog asset materialized again
    hour = "2026-03-01-10:00"
    for table in STREAMING:  # the hour's registration refresh, then the rebuild recomputes it itself
        instance.report_runless_asset_event(
            dg.AssetMaterialization(dg.AssetKey(["analytics_dw", table]), partition=hour)
        )
    results = {"aggregates": [BatchHourResult("2026/03/01/10", "k", 2, 10)]}
    assert record_recomputed(instance, analytics_dw, results, "dw catalog rebuild") == 1
    tick = dg.evaluate_automation_conditions(
        defs, instance, evaluation_time=at.replace(minute=6), cursor=cursor
    )
    assert tick.get_requested_partitions(dg.AssetKey(["analytics_dw", "aggregates"])) == set()
    # by event time the rebuild recomputed nothing here: the window of the refreshed hour follows
    window = tick.get_requested_partitions(dg.AssetKey(["analytics_dw", "aggregates_by_event_time"]))
    assert len(window) == 26 and tick.total_requested == 26


def test_a_declared_schedule_holds_the_recomputations_until_its_tick(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    """`schedule=` on a batch table: the hours whose inputs changed are recomputed at its next tick."""
    from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse
    from dw_platform.defs.analytics_dw.jobs import count_events_per_hour

    warehouse = (
        ServerlessDataWarehouse("scheduled_dw")
        .with_streaming_input_table("clicks", (Column("id"), Column("event_time")))
        .with_batch_input_table(
            "hourly",
            [("event_type", "string"), ("count", "int"), ("time", "string")],
            job=count_events_per_hour,
            inputs=("clicks",),
            schedule="45 * * * *",
        )
    )
    at = datetime(2026, 3, 1, 12, 10, tzinfo=UTC)
    defs = build_definitions(warehouse, settings, clock=lambda: at)
    hourly = dg.AssetKey(["scheduled_dw", "hourly"])
    cursor = None
    for minute in (9, 10):
        result = dg.evaluate_automation_conditions(
            defs,
            instance,
            asset_selection=dg.AssetSelection.assets(hourly),
            evaluation_time=at.replace(minute=minute),
            cursor=cursor,
        )
        cursor = result.cursor
    instance.report_runless_asset_event(
        dg.AssetMaterialization(dg.AssetKey(["scheduled_dw", "clicks"]), partition="2026-03-01-11:00")
    )
    requested = []
    for minute in (20, 44, 46, 50):
        result = dg.evaluate_automation_conditions(
            defs,
            instance,
            asset_selection=dg.AssetSelection.assets(hourly),
            evaluation_time=at.replace(minute=minute),
            cursor=cursor,
        )
        requested.append(sorted(k or "" for k in result.get_requested_partitions(hourly)))
        cursor = result.cursor
    assert requested == [[], [], ["2026-03-01-11:00"], []]
