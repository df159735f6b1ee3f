import multiprocessing
import re
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.errors import PreconditionError
from dw_platform.lake.layout import hour_folder, hour_root, version_of
from dw_platform.operations.compaction.compact import (
    STEPS,
    CompactionOptions,
    HourRegisteredElsewhere,
    compact_hour,
    compact_hours,
    hours_with_late_objects,
    late_objects,
)
from dw_platform.operations.compaction.manifest import read_manifest
from dw_platform.operations.compaction.rewrite import RewriteOptions
from dw_platform.operations.compaction.unload import unload_plan
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

HOUR = "2026/03/01/10"
ARRIVAL = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
# "now" for compaction runs: the real clock, since leftovers of crashed runs are aged by their mtime.
T = datetime.now(UTC)
LATER = T + timedelta(hours=2)  # past the grace period
SMALL = CompactionOptions(rewrite=RewriteOptions(target_file_bytes=40_000, row_group_rows=500))


class Crash(RuntimeError):
    pass


def fill_hour(runtime: Runtime, events: int = 3000, objects: int = 12, duplicates: int = 0) -> list[bytes]:
    records, _ = sample_events(events, ARRIVAL, seed=7)
    deliver(runtime, "clicks", records, arrival=ARRIVAL, batches=objects)
    if duplicates:  # at-least-once: Firehose delivered part of the stream twice
        deliver(runtime, "clicks", records[:duplicates], arrival=ARRIVAL)
    register_hours(runtime, "clicks", [HOUR], with_stats=False)
    return records


def rows(runtime: Runtime) -> Counter:
    table = runtime.engine.query(
        f"SELECT id, session_id, event_time FROM clicks WHERE inserted_at = '{HOUR}'"
    ).table
    return Counter(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def final_state(runtime: Runtime) -> dict[str, object]:
    location = runtime.catalog.get_partitions("analytics_dw", "clicks", [(HOUR,)])[0].location
    manifest = read_manifest(runtime.lake, location)
    assert manifest is not None
    versions = {
        o.key.split("/")[-2]
        for o in runtime.lake.list_objects(hour_root("clicks", HOUR), include_hidden=True)
    }
    return {
        "rows": rows(runtime),
        "version": manifest.version,
        "raw_objects_in_manifest": manifest.raw_objects,
        "raw_objects_left": [o.key for o in runtime.lake.list_objects(hour_folder("clicks", HOUR))],
        "version_folders": len(versions),
        "files": len(manifest.files),
    }


@pytest.fixture
def twin(runtime: Runtime, settings: Settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A copy of the warehouse after the data landed, to run the same compaction uninterrupted."""

    def make() -> Runtime:
        home = tmp_path / "twin"
        shutil.copytree(settings.home, home)
        return Runtime.from_settings(analytics_dw, Settings.from_env({"DW_HOME": str(home)}))

    return make


def test_compaction_rewrites_small_objects_into_target_sized_files(runtime: Runtime) -> None:
    fill_hour(runtime)
    before = rows(runtime)
    report = compact_hour(runtime, "clicks", HOUR, SMALL, now=T)
    assert report.status == "compacted" and report.version == 1
    assert (report.files_before, report.late_objects, report.rows) == (12, 12, 3000)
    assert 1 < report.files_after < report.files_before
    manifest = read_manifest(
        runtime.lake, runtime.catalog.get_partitions("analytics_dw", "clicks")[0].location
    )
    assert manifest is not None
    sizes = {o.key: o.size for o in runtime.lake.list_objects(manifest.location)}
    assert sorted(sizes) == sorted(manifest.files)
    # Each writer's files reached the target but its last (writer i numbers its files from i * 10,000).
    by_writer: dict[int, list[str]] = {}
    for key in sorted(manifest.files):
        by_writer.setdefault(int(key.rsplit("part-", 1)[1][:5]) // 10_000, []).append(key)
    assert all(sizes[key] >= 40_000 for files in by_writer.values() for key in files[:-1])
    for key in manifest.files:
        metadata = pq.ParquetFile(runtime.lake.path(key)).metadata
        assert all(metadata.row_group(i).num_rows <= 500 + 64 * 1024 for i in range(metadata.num_row_groups))
    assert rows(runtime) == before
    # Re-running changes nothing.
    again = compact_hour(runtime, "clicks", HOUR, SMALL, now=T)
    assert again.status == "unchanged" and rows(runtime) == before


def test_superseded_objects_are_deleted_only_after_the_grace_period(runtime: Runtime) -> None:
    fill_hour(runtime)
    compact_hour(runtime, "clicks", HOUR, SMALL, now=T)
    assert len(runtime.lake.list_objects(hour_folder("clicks", HOUR))) == 12
    assert compact_hour(runtime, "clicks", HOUR, SMALL, now=T + timedelta(minutes=59)).deleted_objects == 0
    assert compact_hour(runtime, "clicks", HOUR, SMALL, now=LATER).deleted_objects == 12
    assert runtime.lake.list_objects(hour_folder("clicks", HOUR)) == []
    assert sum(rows(runtime).values()) == 3000


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_then_a_rerun_loses_and_doubles_nothing(
    step: str, runtime: Runtime, twin
) -> None:  # type: ignore[no-untyped-def]
    fill_hour(runtime)
    expected = rows(runtime)
    uninterrupted = twin()
    compact_hour(uninterrupted, "clicks", HOUR, SMALL, now=T)
    compact_hour(uninterrupted, "clicks", HOUR, SMALL, now=LATER)

    def crash(at: str) -> None:
        if at == step:
            raise Crash(at)

    if step == "during_cleanup":
        compact_hour(runtime, "clicks", HOUR, SMALL, now=T)
        with pytest.raises(Crash):
            compact_hour(runtime, "clicks", HOUR, SMALL, now=LATER, fault=crash)
    else:
        with pytest.raises(Crash):
            compact_hour(runtime, "clicks", HOUR, SMALL, now=T, fault=crash)
    assert rows(runtime) == expected  # readers right after the crash
    compact_hour(runtime, "clicks", HOUR, SMALL, now=T)
    compact_hour(runtime, "clicks", HOUR, SMALL, now=LATER)
    assert rows(runtime) == expected
    assert final_state(runtime) == final_state(uninterrupted)


def test_queries_during_compaction_see_every_row_exactly_once(runtime: Runtime) -> None:
    fill_hour(runtime)
    expected = rows(runtime)
    seen: dict[str, Counter] = {}
    compact_hour(
        runtime, "clicks", HOUR, SMALL, now=T, fault=lambda step: seen.setdefault(step, rows(runtime))
    )
    compact_hour(
        runtime, "clicks", HOUR, SMALL, now=LATER, fault=lambda step: seen.setdefault(step, rows(runtime))
    )
    assert set(seen) == set(STEPS)
    assert all(counts == expected for counts in seen.values())


def test_late_object_after_compaction_is_detected_and_recompacted(runtime: Runtime) -> None:
    fill_hour(runtime)
    compact_hour(runtime, "clicks", HOUR, SMALL, now=T)
    compact_hour(runtime, "clicks", HOUR, SMALL, now=LATER)  # raw objects cleaned up
    assert hours_with_late_objects(runtime, "clicks", [HOUR]) == []
    late, _ = sample_events(250, ARRIVAL, seed=99)
    deliver(runtime, "clicks", late, arrival=ARRIVAL)  # Firehose's retry lands in the old folder
    assert sum(rows(runtime).values()) == 3000  # not visible until re-compacted
    assert hours_with_late_objects(runtime, "clicks", [HOUR]) == [HOUR]
    report = compact_hour(runtime, "clicks", HOUR, SMALL, now=LATER)
    assert (report.status, report.version, report.late_objects, report.rows) == ("compacted", 2, 1, 3250)
    assert sum(rows(runtime).values()) == 3250
    assert hours_with_late_objects(runtime, "clicks", [HOUR]) == []


def test_duplicates_removed_when_enabled_and_kept_when_not(runtime: Runtime, twin) -> None:  # type: ignore[no-untyped-def]
    fill_hour(runtime, duplicates=400)
    keeping = twin()
    deduped = compact_hour(runtime, "clicks", HOUR, CompactionOptions(dedupe_key="id"), now=T)
    assert (deduped.rows, deduped.duplicates_removed) == (3000, 400)
    assert set(rows(runtime).values()) == {1} and len(rows(runtime)) == 3000
    kept = compact_hour(keeping, "clicks", HOUR, CompactionOptions(), now=T)
    assert (kept.rows, kept.duplicates_removed) == (3400, 0)
    assert sum(rows(keeping).values()) == 3400


def test_an_interleaved_second_compaction_makes_the_first_lose_cleanly(runtime: Runtime) -> None:
    fill_hour(runtime)
    expected = rows(runtime)
    inner: list[str] = []

    def race(step: str) -> None:
        if step == "before_switch" and not inner:
            inner.append(compact_hour(runtime, "clicks", HOUR, SMALL, now=T).status)

    outer = compact_hour(runtime, "clicks", HOUR, SMALL, now=T, fault=race)
    assert (inner, outer.status) == (["compacted"], "lost_race")
    assert rows(runtime) == expected
    versions = {
        o.key.split("/")[-2]
        for o in runtime.lake.list_objects(hour_root("clicks", HOUR), include_hidden=True)
    }
    assert len(versions) == 1  # the loser removed its never-visible output


def _compact_in_process(home: str) -> str:
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env({"DW_HOME": home}))
    return compact_hour(runtime, "clicks", HOUR, SMALL, now=T).status


@pytest.mark.slow
def test_concurrent_processes_compacting_one_hour_cannot_corrupt_it(
    runtime: Runtime, settings: Settings
) -> None:
    fill_hour(runtime)
    expected = rows(runtime)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        statuses = pool.map(_compact_in_process, [str(settings.home)] * 4)
    assert statuses.count("compacted") >= 1
    assert set(statuses) <= {"compacted", "lost_race", "unchanged"}
    assert rows(runtime) == expected
    location = runtime.catalog.get_partitions("analytics_dw", "clicks")[0].location
    assert version_of(location) is not None


def test_unload_plan_issues_explicitly_compressed_athena_sql(runtime: Runtime) -> None:
    spec = analytics_dw.table("clicks")
    first = unload_plan(
        "analytics_dw",
        spec,
        HOUR,
        "s3://lake/compacted/clicks/2026/03/01/10/v00001-abc/",
        raw_folder_uri="s3://lake/clicks/2026/03/01/10/",
        compression="ZSTD",
        dedupe_key="id",
    )
    [statement] = first.statements
    match = re.fullmatch(
        r"UNLOAD \((.*)\) TO '([^']+)' WITH \(format = 'PARQUET', compression = 'ZSTD'\)", statement
    )
    assert match is not None
    assert match.group(2) == "s3://lake/compacted/clicks/2026/03/01/10/v00001-abc/"
    select = sqlglot.parse_one(match.group(1), read="athena")
    assert "row_number()" in select.sql(dialect="athena").lower()
    # The SELECT it unloads is real SQL: the local engine runs it and de-duplicates.
    fill_hour(runtime, duplicates=100)
    assert runtime.engine.query(match.group(1)).table.num_rows == 3000

    later = unload_plan(
        "analytics_dw",
        spec,
        HOUR,
        "s3://lake/compacted/clicks/2026/03/01/10/v00002-def/",
        raw_folder_uri="s3://lake/clicks/2026/03/01/10/",
        late_object_uris=["s3://lake/clicks/2026/03/01/10/late-1.parquet"],
    )
    create, unload, drop = later.statements
    assert create.startswith('CREATE EXTERNAL TABLE IF NOT EXISTS "analytics_dw"."clicks__late_2026030110"')
    assert "LOCATION 's3://lake/clicks/2026/03/01/10/'" in create
    assert (
        "compression = 'SNAPPY'" in unload
        and "\"$path\" IN ('s3://lake/clicks/2026/03/01/10/late-1.parquet')" in unload
    )
    assert drop == 'DROP TABLE IF EXISTS "analytics_dw"."clicks__late_2026030110"'
    with pytest.raises(ValueError, match="compression"):
        unload_plan("analytics_dw", spec, HOUR, "s3://x/", raw_folder_uri="s3://y/", compression="GZIP")


def test_unload_engine_needs_athena(runtime: Runtime) -> None:
    fill_hour(runtime)
    with pytest.raises(PreconditionError, match="needs Athena"):
        compact_hour(runtime, "clicks", HOUR, CompactionOptions(engine="athena_unload"), now=T)


def test_objects_written_before_a_column_was_added_read_as_nulls(runtime: Runtime) -> None:
    fill_hour(runtime, events=100, objects=2)
    old = pa.table({"id": ["old-1", "old-2"], "session_id": ["s", "s"]})  # no event_time yet
    runtime.lake.write_parquet(f"clicks/{HOUR}/analytics_dw-clicks-1-2026-03-01-10-00-00-old.parquet", old)
    report = compact_hour(runtime, "clicks", HOUR, SMALL, now=T)
    assert report.rows == 102
    found = runtime.engine.query(
        f"SELECT id, event_time FROM clicks WHERE inserted_at = '{HOUR}' AND id LIKE 'old-%'"
    )
    assert sorted(found.table.to_pylist(), key=lambda r: r["id"]) == [
        {"id": "old-1", "event_time": None},
        {"id": "old-2", "event_time": None},
    ]


def test_hours_compacted_in_parallel_each_keep_exactly_their_rows(runtime: Runtime) -> None:
    hours = [f"2026/03/01/{hour:02d}" for hour in range(8)]
    expected = {}
    for index, hour in enumerate(hours):
        arrival = datetime(2026, 3, 1, index, 5, tzinfo=UTC)
        records, _ = sample_events(200 + index, arrival, seed=index)
        deliver(runtime, "clicks", records, arrival=arrival, batches=3)
        expected[hour] = 200 + index
    register_hours(runtime, "clicks", hours, with_stats=False)
    reports = list(compact_hours(runtime, "clicks", hours, SMALL, parallel=3))
    assert [(r.inserted_at, r.status, r.rows) for r in reports] == [
        (hour, "compacted", count) for hour, count in expected.items()
    ]
    counted = runtime.engine.query(
        f"SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at BETWEEN '{hours[0]}' AND "
        f"'{hours[-1]}' GROUP BY inserted_at ORDER BY inserted_at"
    ).table.to_pylist()
    assert {r["inserted_at"]: r["n"] for r in counted} == expected
    # Again: every hour unchanged, nothing rewritten.
    assert {r.status for r in compact_hours(runtime, "clicks", hours, SMALL, parallel=3)} == {"unchanged"}


def test_two_writers_share_an_hour_and_files_keep_the_objects_row_order(runtime: Runtime) -> None:
    fill_hour(runtime, events=6000, objects=12)
    raw = runtime.lake.list_objects(hour_folder("clicks", HOUR))
    ids_in_objects = [
        i for o in raw for i in pq.read_table(runtime.lake.path(o.key)).column("id").to_pylist()
    ]
    options = CompactionOptions(
        rewrite=RewriteOptions(target_file_bytes=60_000, row_group_rows=500, writers=2)
    )
    report = compact_hour(runtime, "clicks", HOUR, options, now=T)
    manifest = read_manifest(
        runtime.lake, runtime.catalog.get_partitions("analytics_dw", "clicks")[0].location
    )
    assert manifest is not None and report.rows == 6000
    assert {f.rsplit("/", 1)[1][:6] for f in manifest.files} == {"part-0", "part-1"}  # both writers wrote
    ids_in_files = [
        i
        for f in sorted(manifest.files)
        for i in pq.read_table(runtime.lake.path(f)).column("id").to_pylist()
    ]
    assert ids_in_files == ids_in_objects


def test_an_hour_registered_at_another_hours_version_is_not_compacted_onto_it(runtime: Runtime) -> None:
    """Issue 23, finding 5 (the same class): a partition pointing at another hour's version must not
    make a compaction copy that hour's rows into this one (each row then counted in two hours)."""
    other = "2026/03/01/09"
    for hour, count in ((other, 300), (HOUR, 200)):
        arrival = datetime.strptime(hour, "%Y/%m/%d/%H").replace(tzinfo=UTC) + timedelta(minutes=5)
        records, _ = sample_events(count, arrival, seed=count)
        deliver(runtime, "clicks", records, arrival=arrival, batches=2)
        register_hours(runtime, "clicks", [hour], with_stats=False)
        assert compact_hour(runtime, "clicks", hour, now=T).status == "compacted"
    [elsewhere] = runtime.catalog.get_partitions(runtime.database, "clicks", [(other,)])
    [own] = runtime.catalog.get_partitions(runtime.database, "clicks", [(HOUR,)])
    assert runtime.catalog.switch_partition_location(
        runtime.database, "clicks", (HOUR,), elsewhere.location, expected_location=own.location
    )
    late, _ = sample_events(10, ARRIVAL, seed=5)
    deliver(runtime, "clicks", late, arrival=ARRIVAL + timedelta(minutes=40))
    with pytest.raises(HourRegisteredElsewhere, match="a version of another hour"):
        compact_hour(runtime, "clicks", HOUR, now=T)
    [report] = compact_hours(runtime, "clicks", [HOUR])
    assert report.status == "refused" and "dw catalog rebuild" in report.reason
    problems: dict[str, str] = {}
    assert late_objects(runtime, "clicks", [HOUR], problems) == {} and HOUR in problems
    [kept] = runtime.catalog.get_partitions(runtime.database, "clicks", [(HOUR,)])
    assert kept.location == elsewhere.location  # nothing switched
