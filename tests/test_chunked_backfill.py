"""`dw backfill` of long ranges: chunks of single runs in order, resumable, progress per
materialization; the UI's backfills cut ranges into the same chunks."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.hours import inserted_at, partition_key
from dw_platform.orchestration.build import build_definitions
from dw_platform.orchestration.chunked_backfill import (
    Chunk,
    check_runs_can_run_here,
    plan_chunks,
    run_chunked_backfill,
)
from dw_platform.orchestration.partitions import CHUNK_HOURS
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.test_dagster_e2e import HOURS, STREAMING, deliver_hours

REGISTRATION = [f"analytics_dw/{table}" for table in STREAMING]


def test_chunks_cut_contiguous_hours_and_never_span_a_gap() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=i) for i in range(50) if i not in (30, 31)]
    chunks = plan_chunks(hours, 20)
    assert [(c.first, c.hours) for c in chunks] == [
        (start, 20),
        (start + timedelta(hours=20), 10),  # up to the gap
        (start + timedelta(hours=32), 18),
    ]
    assert sum(c.hours for c in chunks) == len(hours)
    year = [start + timedelta(hours=i) for i in range(8760)]
    assert [c.hours for c in plan_chunks(year, CHUNK_HOURS)] == [720] * 12 + [120]
    with pytest.raises(ValueError, match="at least 1"):
        plan_chunks(hours, 0)


def test_every_hourly_asset_is_backfilled_by_the_daemon_in_chunks_of_the_same_size(
    settings: Settings,
) -> None:
    defs = build_definitions(analytics_dw, settings)
    graph = defs.resolve_asset_graph()
    hourly = [k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None]
    assert len(hourly) == 6
    for key in hourly:
        policy = graph.get(key).backfill_policy
        assert policy is not None and policy.max_partitions_per_run == CHUNK_HOURS, key


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


@pytest.mark.slow
def test_chunks_run_in_order_report_progress_and_resume(
    runtime: Runtime, settings: Settings, instance: dg.DagsterInstance
) -> None:
    expected = deliver_hours(runtime)
    defs = build_definitions(analytics_dw, settings)
    heard: list[tuple[str, str]] = []
    report = run_chunked_backfill(
        defs,
        analytics_dw,
        instance,
        HOURS[0],
        HOURS[1],
        ["register"],
        chunk_hours=1,
        on_progress=lambda asset, partition: heard.append((asset, partition)),
    )
    assert report.success and [c.hours for c in report.chunks] == [1, 1]
    runs = instance.get_runs()  # newest first
    assert [r.tags["dagster/asset_partition_range_start"] for r in reversed(runs)] == [
        partition_key(HOURS[0]),
        partition_key(HOURS[1]),
    ]
    assert len(runs) == 2
    # Every materialization was heard once, as the runs reported it.
    assert Counter(heard) == Counter((a, partition_key(h)) for h in HOURS[:2] for a in REGISTRATION)

    resumed = run_chunked_backfill(
        defs, analytics_dw, instance, HOURS[0], HOURS[-1], ["register"], chunk_hours=1, resume=True
    )
    assert (resumed.skipped, [c.first for c in resumed.chunks]) == (2, [HOURS[2]])
    assert len(instance.get_runs()) == 3
    nothing = run_chunked_backfill(
        defs, analytics_dw, instance, HOURS[0], HOURS[-1], ["register"], resume=True
    )
    assert nothing.success and nothing.chunks == () and len(instance.get_runs()) == 3
    for table in STREAMING:
        counted = runtime.engine.query(
            f"SELECT inserted_at, count(*) AS n FROM {table} WHERE inserted_at BETWEEN "
            f"'{inserted_at(HOURS[0])}' AND '{inserted_at(HOURS[-1])}' GROUP BY 1"
        ).table.to_pylist()
        assert {r["inserted_at"]: r["n"] for r in counted} == {
            hour: delivered for (t, hour), (delivered, _) in expected.items() if t == table
        }


@pytest.mark.slow
def test_a_failed_chunk_stops_the_backfill_and_resume_finishes_it(
    runtime: Runtime, settings: Settings, instance: dg.DagsterInstance
) -> None:
    deliver_hours(runtime)
    broken = f"clicks/{inserted_at(HOURS[1])}/analytics_dw-clicks-1-broken.parquet"
    runtime.lake.put_bytes(broken, b"not parquet")
    defs = build_definitions(analytics_dw, settings)
    report = run_chunked_backfill(
        defs, analytics_dw, instance, HOURS[0], HOURS[-1], ["register"], chunk_hours=1
    )
    assert not report.success
    assert [r.success for r in report.runs] == [True, False] and len(
        report.chunks
    ) == 3  # the third never ran
    assert len(instance.get_runs()) == 2

    runtime.lake.delete(broken)
    resumed = run_chunked_backfill(
        defs, analytics_dw, instance, HOURS[0], HOURS[-1], ["register"], chunk_hours=24, resume=True
    )
    # Hour 1 is half done (impressions registered, clicks not): it is run again, with hour 2.
    assert resumed.success and resumed.chunks == (Chunk(HOURS[1], HOURS[2]),) and resumed.skipped == 1


def test_an_instance_that_monitors_run_workers_is_refused(tmp_path: Path) -> None:
    """Its daemon would fail a run that dw executes in its own process (no worker to find)."""
    config = {
        "run_launcher": {"module": "dagster_aws.ecs", "class": "EcsRunLauncher", "config": {}},
        "run_monitoring": {"enabled": True},
    }
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    refused = r"EcsRunLauncher and monitors their workers.*backfill from the UI"
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance, pytest.raises(ValueError, match=refused):
        check_runs_can_run_here(instance)
