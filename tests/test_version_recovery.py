"""A compacted version is self-describing: losing or garbling its manifest loses no rows, and one bad
hour does not stop the late-objects sensor for the others (issue 17, finding 1)."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import floor_hour, inserted_at
from dw_platform.lake.layout import MANIFEST_NAME, hour_folder, hour_root
from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour
from dw_platform.operations.compaction.rewrite import RewriteOptions
from dw_platform.operations.registration import register_hours
from dw_platform.orchestration.build import build_definitions
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

T = datetime(2026, 3, 2, 9, 40, tzinfo=UTC)  # the clock of the compactions and the sensor
LATER = T + timedelta(hours=2)  # past the grace period
EVEN_LATER = T + timedelta(hours=4)
SMALL = CompactionOptions(rewrite=RewriteOptions(target_file_bytes=40_000, row_group_rows=500))


def hour_at(hours_ago: int) -> datetime:
    return floor_hour(T) - timedelta(hours=hours_ago)  # within the late-data window


def send(runtime: Runtime, hour: datetime, count: int, seed: int, batches: int = 1) -> list[str]:
    records, _ = sample_events(count, hour, seed=seed)
    deliver(runtime, "clicks", records, arrival=hour + timedelta(minutes=10), batches=batches)
    return [r.decode() for r in records]


def ids(runtime: Runtime, hour: str) -> list[str]:
    table = runtime.engine.query(f"SELECT id FROM clicks WHERE inserted_at = '{hour}'").table
    return sorted(table.column("id").to_pylist())


def compacted_and_cleaned(runtime: Runtime, hour: datetime, count: int, seed: int) -> str:
    """`count` rows in a compacted version whose raw objects are gone after the grace period."""
    send(runtime, hour, count, seed, batches=3)
    value = inserted_at(hour)
    register_hours(runtime, "clicks", [value], with_stats=False)
    compact_hour(runtime, "clicks", value, SMALL, now=T)
    compact_hour(runtime, "clicks", value, SMALL, now=LATER)
    assert runtime.lake.list_objects(hour_folder("clicks", value)) == []
    return runtime.catalog.get_partitions("analytics_dw", "clicks", [(value,)])[0].location


def expected_ids(count: int, seed: int, hour: datetime) -> list[str]:

    records, _ = sample_events(count, hour, seed=seed)
    return [json.loads(r)["id"] for r in records]


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_a_lost_or_garbage_manifest_plus_a_late_object_loses_no_compacted_rows(
    runtime: Runtime, damage: str
) -> None:
    hour = hour_at(3)
    value = inserted_at(hour)
    location = compacted_and_cleaned(runtime, hour, 300, seed=1)
    manifest = runtime.lake.path(f"{location}{MANIFEST_NAME}")
    if damage == "missing":
        runtime.lake.delete(f"{location}{MANIFEST_NAME}")
    else:
        with open(manifest, "w") as handle:
            handle.write('{"table": "clicks", "raw_obj')
    send(runtime, hour, 100, seed=2)  # a late object
    compact_hour(runtime, "clicks", value, SMALL, now=LATER)
    compact_hour(runtime, "clicks", value, SMALL, now=EVEN_LATER)  # cleanup of the superseded version
    expected = sorted(expected_ids(300, 1, hour) + expected_ids(100, 2, hour))
    assert ids(runtime, value) == expected


def strip_description(runtime: Runtime, location: str) -> None:
    """A version no longer able to describe itself: no manifest, files without the platform's
    footer metadata (as versions written before footers carried it)."""
    runtime.lake.delete(f"{location}{MANIFEST_NAME}")
    for obj in runtime.lake.list_objects(location):
        table = pq.read_table(runtime.lake.path(obj.key)).replace_schema_metadata(None)
        pq.write_table(table, runtime.lake.path(obj.key))


def test_an_undescribable_version_is_refused_and_kept_and_other_hours_still_recompact(
    runtime: Runtime, settings: Settings, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    bad_hour, good_hour, garbage_hour = hour_at(3), hour_at(4), hour_at(5)
    bad = compacted_and_cleaned(runtime, bad_hour, 300, seed=1)
    compacted_and_cleaned(runtime, good_hour, 200, seed=3)
    garbage = compacted_and_cleaned(runtime, garbage_hour, 50, seed=5)
    strip_description(runtime, bad)
    with open(runtime.lake.path(f"{garbage}{MANIFEST_NAME}"), "wb") as handle:
        handle.write(b"\x00not json")
    for hour, seed in ((bad_hour, 2), (good_hour, 4), (garbage_hour, 6)):
        send(runtime, hour, 10, seed=seed)

    defs = build_definitions(analytics_dw, settings, clock=lambda: T)
    sensor = defs.get_sensor_def("analytics_dw_late_objects_sensor")
    resources = {"warehouse_resource": WarehouseResource(home=str(settings.home))}
    (tmp_path / "dagster").mkdir()
    with (
        dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance,
        dg.build_sensor_context(instance=instance, resources=resources) as context,
    ):
        requests = sensor(context).run_requests or []
    keys = {r.partition_key for r in requests}
    assert keys == {f"{good_hour:%Y-%m-%d-%H}:00", f"{garbage_hour:%Y-%m-%d-%H}:00"}
    logged = capfd.readouterr().err  # the sensor's warning names the hour and why
    assert f"hour {inserted_at(bad_hour)} is not checked" in logged and "cannot describe" in logged

    with pytest.raises(ValueError, match="cannot describe"):
        compact_hour(runtime, "clicks", inserted_at(bad_hour), SMALL, now=EVEN_LATER)
    before = sorted(o.key for o in runtime.lake.list_objects(hour_root("clicks", inserted_at(bad_hour))))
    assert len(ids(runtime, inserted_at(bad_hour))) == 300  # still what readers see, nothing deleted
    assert len(before) >= 1
    for hour, count in ((good_hour, 210), (garbage_hour, 60)):
        compact_hour(runtime, "clicks", inserted_at(hour), SMALL, now=LATER)
        compact_hour(runtime, "clicks", inserted_at(hour), SMALL, now=EVEN_LATER)
        assert len(ids(runtime, inserted_at(hour))) == count


def test_a_manifest_claiming_a_raw_object_its_files_lack_does_not_get_it_deleted(runtime: Runtime) -> None:
    hour = hour_at(3)
    value = inserted_at(hour)
    location = compacted_and_cleaned(runtime, hour, 300, seed=1)
    send(runtime, hour, 40, seed=2)  # a late object ...
    [late] = runtime.lake.list_objects(hour_folder("clicks", value))
    key = f"{location}{MANIFEST_NAME}"
    manifest = json.loads(runtime.lake.read_bytes(key))
    manifest["raw_objects"].append(late.key)  # ... that a wrong manifest says the version holds
    runtime.lake.put_bytes(key, json.dumps(manifest).encode())
    compact_hour(runtime, "clicks", value, SMALL, now=LATER)
    compact_hour(runtime, "clicks", value, SMALL, now=EVEN_LATER)
    assert ids(runtime, value) == sorted(expected_ids(300, 1, hour) + expected_ids(40, 2, hour))
