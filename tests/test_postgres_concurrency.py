"""Concurrent runs on the PostgreSQL instance of deploy/dagster.yaml, each in its own process as run
workers are: both tables compacting, registration of later hours and the aggregates, at once. All
succeed, nothing in any run's log speaks of a lock, and every count is exact."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import dagster as dg

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import inserted_at, partition_key
from dw_platform.orchestration.backfill import run_backfill
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.postgres_server import URL_ENV, deploy_instance
from tests.test_dagster_e2e import HOURS, STREAMING, deliver_hours

LATER = [hour + timedelta(hours=len(HOURS)) for hour in HOURS]


def test_compaction_registration_and_aggregates_at_once(
    runtime: Runtime, settings: Settings, tmp_path: Path, postgres_url: str
) -> None:
    expected = deliver_hours(runtime)
    later = {}
    for h, hour in enumerate(LATER):  # the hours registered while the others are compacted and counted
        for t, table in enumerate(STREAMING):
            records, _ = sample_events(100 + 10 * h + t, hour + timedelta(minutes=5), seed=100 + h * 10 + t)
            later[(table, inserted_at(hour))] = deliver(runtime, table, records, arrival=hour).delivered
    home = tmp_path / "dagster"
    instance = deploy_instance(home, postgres_url)
    defs = build_definitions(analytics_dw, settings)
    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[-1], only=["register"]).success

    env = {
        **os.environ,
        URL_ENV: postgres_url,
        "DAGSTER_HOME": str(home),
        "DW_HOME": str(settings.home),
        "DW_PARTITIONS_START": f"{settings.partitions_start:%Y-%m-%d}",
    }
    env.pop("DW_PROFILE", None)
    first, last = partition_key(HOURS[0]), partition_key(HOURS[-1])
    runs = {
        "compact impressions": (first, last, "analytics_dw/impressions_compacted"),
        "compact clicks": (first, last, "analytics_dw/clicks_compacted"),
        "register later hours": (
            partition_key(LATER[0]),
            partition_key(LATER[-1]),
            "analytics_dw/impressions",
            "analytics_dw/clicks",
        ),
        "aggregates": (first, last, "analytics_dw/aggregates"),
    }
    workers = {
        name: subprocess.Popen(
            [sys.executable, "-m", "tests.dagster_run_worker", *arguments],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, arguments in runs.items()
    }
    outcomes = {}
    for name, worker in workers.items():
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, f"{name}: {err[-2000:]}"
        assert "lock" not in err.lower(), f"{name}: {err[-2000:]}"
        outcomes[name] = json.loads(out.strip().splitlines()[-1])
    assert all(o["success"] for o in outcomes.values()), outcomes

    for outcome in outcomes.values():
        messages = [e.message or "" for e in instance.all_logs(outcome["run_id"])]
        assert not [m for m in messages if "lock" in m.lower()]
    counts = {
        name: len(instance.fetch_materializations(dg.AssetKey(["analytics_dw", name]), limit=100).records)
        for name in ("impressions", "clicks", "impressions_compacted", "clicks_compacted", "aggregates")
    }
    assert counts == {
        "impressions": 6,
        "clicks": 6,
        "impressions_compacted": 3,
        "clicks_compacted": 3,
        "aggregates": 3,
    }
    aggregates = runtime.engine.query(
        "SELECT event_type, time, count FROM analytics_dw.aggregates "
        f"WHERE inserted_at BETWEEN '{inserted_at(HOURS[0])}' AND '{inserted_at(HOURS[-1])}'"
    ).table.to_pylist()
    assert {(r["event_type"], r["time"]): r["count"] for r in aggregates} == {
        key: delivered for key, (delivered, _) in expected.items()
    }
    for (table, hour), delivered in later.items():
        counted = runtime.engine.query(f"SELECT count(*) AS n FROM {table} WHERE inserted_at = '{hour}'")
        assert counted.table.to_pylist() == [{"n": delivered}]
    instance.dispose()
