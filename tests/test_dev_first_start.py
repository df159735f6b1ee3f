"""A dev instance's first start: partitions start where its data starts, a few closed hours of history
are seeded and run through every hourly asset in one run, whose numbers (and checks) the UI shows."""

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.hours import floor_hour, inserted_at, partition_key
from dw_platform.orchestration.build import build_definitions
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.legacy_home import seed_marker
from dw_platform.runtime.settings import Settings

STREAMING = ("impressions", "clicks")
SETTLE = timedelta(minutes=2)  # the dev tables' 60 s flush interval + 1 min margin


def test_loading_the_definitions_writes_nothing_and_the_partitions_start_where_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, a dev instance's first load wrote `partitions_start` into DW_HOME (and only under
    DAGSTER_IS_DEV_CLI), so the partitions depended on a file and on how the process was started."""
    home = tmp_path / "dw"
    monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")  # as `dagster dev` starts its code servers
    monkeypatch.setenv("DW_HOME", str(home))
    monkeypatch.delenv("DW_PARTITIONS_START", raising=False)
    project = Path(__file__).parents[1]
    defs = dg.load_from_defs_folder(path_within_project=project)  # as the code location loads it
    assert not home.exists()  # nothing written
    for spec in defs.resolve_all_asset_specs():
        if spec.partitions_def is not None:
            assert spec.partitions_def.start == datetime(2026, 1, 1, tzinfo=UTC), spec.key  # type: ignore[attr-defined]
    monkeypatch.setenv("DW_PARTITIONS_START", "2026-12-01")
    defs = dg.load_from_defs_folder(path_within_project=project)
    starts = {s.partitions_def.start for s in defs.resolve_all_asset_specs() if s.partitions_def}  # type: ignore[attr-defined]
    assert starts == {datetime(2026, 12, 1, tzinfo=UTC)} and not home.exists()


NOW = datetime(2026, 12, 2, 1, 1, 30, tzinfo=UTC)  # the sensors' and runs' clock: 00:00 not settled yet


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Settings, dg.Definitions, dg.DagsterInstance, list[datetime]]]:
    last = floor_hour(NOW - SETTLE) - timedelta(hours=1)
    hours = [last - timedelta(hours=1), last]
    settings = dataclasses.replace(
        Settings.from_env({}),
        home=tmp_path / "dw",
        partitions_start=floor_hour(hours[0]) - timedelta(hours=5),
        seed_hours=2,
    )
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield settings, build_definitions(analytics_dw, settings, clock=lambda: NOW), instance, hours


@pytest.mark.slow
def test_first_start_seeds_closed_hours_and_runs_every_hourly_asset_over_them(
    seeded: tuple[Settings, dg.Definitions, dg.DagsterInstance, list[datetime]],
) -> None:
    settings, defs, instance, hours = seeded
    assert hours == [datetime(2026, 12, 1, 22, tzinfo=UTC), datetime(2026, 12, 1, 23, tzinfo=UTC)]
    resources = {"warehouse_resource": WarehouseResource(home=str(settings.home))}
    # The seed sensor decides (nothing delivered by the tick); the seed job's run delivers.
    seed_sensor = defs.get_sensor_def("analytics_dw_seed_history_sensor")
    with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def()) as context:
        [seed_request] = seed_sensor.evaluate_tick(context).run_requests or []
    runtime = Runtime.from_settings(analytics_dw, settings)
    assert not runtime.lake.list_objects("") and not seed_marker(settings.home, "analytics_dw").exists()
    seed_job = defs.get_job_def(seed_request.job_name or "analytics_dw_seed_history")
    assert seed_job.execute_in_process(instance=instance, run_config=seed_request.run_config).success
    with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def()) as context:
        assert seed_sensor.evaluate_tick(context).skip_message  # once per home
    sensor = defs.get_sensor_def("analytics_dw_registration_sensor")
    with dg.build_sensor_context(
        instance=instance, resources=resources, repository_def=defs.get_repository_def()
    ) as context:
        result = sensor.evaluate_tick(context)
        cursor = result.cursor
    seed, current = result.run_requests or []
    hourly = {
        dg.AssetKey(["analytics_dw", name])
        for name in (*STREAMING, "impressions_compacted", "clicks_compacted", "aggregates")
    } | {dg.AssetKey(["analytics_dw", "aggregates_by_event_time"])}
    assert set(seed.asset_selection or []) == hourly
    assert (
        seed.tags["dagster/asset_partition_range_start"],
        seed.tags["dagster/asset_partition_range_end"],
    ) == (
        partition_key(hours[0]),
        partition_key(hours[-1]),
    )
    assert set(current.asset_selection or []) == {dg.AssetKey(["analytics_dw", t]) for t in STREAMING}
    assert seed_marker(settings.home, "analytics_dw").is_file()

    job = defs.resolve_implicit_global_asset_job_def()
    outcome = job.execute_in_process(instance=instance, tags=seed.tags, asset_selection=seed.asset_selection)
    assert outcome.success

    # Every seeded hour: 2,000 events per table in 6 objects, 1 of them malformed (0.05 % < 0.1 %).
    counts = runtime.engine.query(
        "SELECT event_type, time, count FROM aggregates "
        f"WHERE inserted_at BETWEEN '{inserted_at(hours[0])}' AND '{inserted_at(hours[-1])}'"
    ).table.to_pylist()
    assert {(r["event_type"], r["time"]): r["count"] for r in counts} == {
        (t, inserted_at(h)): 1999 for t in STREAMING for h in hours
    }

    def partitions(name: str) -> dict[str, dict[str, object]]:
        records = instance.fetch_materializations(dg.AssetKey(["analytics_dw", name]), limit=10).records
        return {
            r.partition_key: {k: v.value for k, v in r.asset_materialization.metadata.items()}  # type: ignore[union-attr]
            for r in records
        }

    for table in STREAMING:
        registered = partitions(table)
        assert set(registered) == {partition_key(h) for h in hours}
        for numbers in registered.values():
            assert (numbers["rows"], numbers["dagster/partition_row_count"], numbers["objects"]) == (
                1999,
                1999,
                6,
            )
            assert (numbers["error_records"], numbers["error_rate"]) == (1, 1 / 2000)
        compacted = partitions(f"{table}_compacted")
        for numbers in compacted.values():
            assert (numbers["files_before"], numbers["files_after"], numbers["rows"]) == (6, 1, 1999)
            assert numbers["bytes_before"] > numbers["bytes_after"] > 0  # type: ignore[operator]
    for name in ("aggregates", "aggregates_by_event_time"):
        for numbers in partitions(name).values():
            assert (numbers["impressions"], numbers["clicks"], numbers["ctr"]) == (1999, 1999, 1.0)
            assert numbers["dagster/partition_row_count"] == 2
    for table in STREAMING:  # green from the first minutes
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(["analytics_dw", table]), "error_rate")]
        )
        [execution] = check.values()
        assert execution.status.value == "SUCCEEDED"
        assert execution.event.dagster_event.event_specific_data.passed  # type: ignore[union-attr]

    with dg.build_sensor_context(
        instance=instance, resources=resources, cursor=cursor, repository_def=defs.get_repository_def()
    ) as context:
        again = sensor.evaluate_tick(context)  # seeded once per home; its hours are not asked again
    assert [set(r.asset_selection or []) for r in again.run_requests or []] in (
        [],
        [{dg.AssetKey(["analytics_dw", t]) for t in STREAMING}],  # the hour in progress, still unregistered
    )


def test_the_warehouse_assets_carry_schema_owners_tags_and_freshness() -> None:
    settings = dataclasses.replace(Settings.from_env({}), seed_hours=0)
    specs = {
        s.key.to_user_string(): s for s in build_definitions(analytics_dw, settings).resolve_all_asset_specs()
    }
    clicks = specs["analytics_dw/clicks"]
    schema = clicks.metadata["dagster/column_schema"]
    assert [(c.name, c.type) for c in schema.columns] == [
        ("id", "string"),
        ("session_id", "string"),
        ("event_time", "string"),
        ("inserted_at", "string"),
    ]
    for name, spec in specs.items():
        assert spec.owners == ["team:analytics"], name
        assert spec.tags["warehouse"] == "analytics_dw", name
    fresh = {name for name, spec in specs.items() if spec.freshness_policy is not None}
    assert fresh == {
        "analytics_dw/impressions",
        "analytics_dw/clicks",
        "analytics_dw/aggregates",
        "analytics_dw/aggregates_by_event_time",
    }
    assert "impressions" in (specs["analytics_dw/aggregates"].description or "")
    assert "`error_rate`" in (clicks.description or "")


def test_one_dagster_yaml_with_tick_retention_upgrades_only_an_unedited_default(tmp_path: Path) -> None:
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import TickStatus

    from dw_platform.runtime.settings import _EARLIER_DAGSTER_YAMLS, DAGSTER_YAML, ensure_dagster_home

    old, edited = tmp_path / "old", tmp_path / "edited"
    for home, text in ((old, _EARLIER_DAGSTER_YAMLS[0]), (edited, "telemetry:\n  enabled: false\n")):
        home.mkdir()
        (home / "dagster.yaml").write_text(text)
        ensure_dagster_home(home)
    assert (old / "dagster.yaml").read_text() == DAGSTER_YAML
    assert (edited / "dagster.yaml").read_text() == "telemetry:\n  enabled: false\n"
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    assert "-m dw_platform.runtime.settings $(DAGSTER_HOME)" in makefile  # the same source
    with dg.DagsterInstance.from_config(str(old)) as instance:
        sensors = instance.get_tick_retention_settings(InstigatorType.SENSOR)
    assert (sensors[TickStatus.SKIPPED], sensors[TickStatus.SUCCESS]) == (1, 7)
