"""A command that changes a registered hour's data leaves the derived tables right (issue 23, finding
4), and `dw catalog rebuild` makes every partition match the lake (finding 5): real `dw` processes
over real files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from dw_platform.catalog import Partition
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.hours import hour_of_inserted_at, partition_key
from dw_platform.lake.layout import hour_folder
from dw_platform.orchestration.outside_runs import RECOMPUTED_BY
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

DAY = "2026-03-01"


def run_dw(env: dict[str, str], *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *args],
        env=env,
        input=input,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, f"dw {' '.join(args)}: {result.stdout.decode()} {result.stderr.decode()}"
    return result


def dw(env: dict[str, str], *args: str, input: bytes | None = None) -> str:
    return run_dw(env, *args, input=input).stdout.decode()


def environment(home: Path) -> dict[str, str]:
    env = {**os.environ, "DW_HOME": str(home / "dw"), "DAGSTER_HOME": str(home / "dagster")}
    env.pop("DW_PROFILE", None)
    return env


def send_clicks(env: dict[str, str], first_id: int, count: int, arrival: str, event_minute: int) -> None:
    """`count` clicks whose event time is in hour 10, as an NDJSON file through `dw send`."""
    records = [
        {"id": f"c{n}", "session_id": f"s{n % 7}", "event_time": f"{DAY}T10:{event_minute:02d}:00Z"}
        for n in range(first_id, first_id + count)
    ]
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    dw(env, "send", "clicks", "--from-file", "-", "--arrival", arrival, input=data)


def query(env: dict[str, str], sql: str) -> list[dict]:
    return json.loads(dw(env, "query", sql, "--format", "json"))


def clicks_counted(env: dict[str, str], table: str, key: str, hour: str) -> int | None:
    rows = query(env, f"SELECT count FROM {table} WHERE {key} = '{hour}' AND event_type = 'clicks'")
    return rows[0]["count"] if rows else None


def clicks_rows(env: dict[str, str], hour: str) -> int:
    return query(env, f"SELECT count(*) AS n FROM clicks WHERE inserted_at = '{hour}'")[0]["n"]


def dagster_clicks(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, table: str, hour: str
) -> tuple[int, str | None]:
    """The clicks count of the partition's latest materialization on the instance at DAGSTER_HOME,
    and which command recorded it outside a run (None for a run's)."""
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey(["analytics_dw", table]),
                asset_partitions=[partition_key(hour_of_inserted_at(hour))],
            ),
            limit=1,
        ).records
    metadata = records[0].asset_materialization.metadata  # type: ignore[union-attr]
    by = metadata.get(RECOMPUTED_BY)
    return metadata["clicks"].value, by.value if by else None  # type: ignore[return-value]


def test_rebuild_folding_late_objects_in_recomputes_the_aggregates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(tmp_path)
    hour = "2026/03/01/10"
    send_clicks(env, 0, 1000, f"{DAY}T10:05:00Z", event_minute=4)
    dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T10")  # every hourly asset
    assert clicks_counted(env, "aggregates", "inserted_at", hour) == 1000
    assert clicks_counted(env, "aggregates_by_event_time", "event_hour", hour) == 1000
    assert dagster_clicks(env, monkeypatch, "aggregates", hour) == (1000, None)

    send_clicks(env, 1000, 500, f"{DAY}T10:50:00Z", event_minute=49)  # late, into the compacted hour
    assert clicks_rows(env, hour) == 1000  # not visible until the hour is compacted again
    report = json.loads(dw(env, "catalog", "rebuild", "--json"))
    [rebuilt] = [h for h in report["hours"] if h["table"] == "clicks" and h["hour"] == hour]
    assert rebuilt["late_objects_folded"] == 1
    assert clicks_rows(env, hour) == 1500
    # The derived numbers follow before the command returns: 1,000 + 500 sent, all in event hour 10.
    assert clicks_counted(env, "aggregates", "inserted_at", hour) == 1500
    assert clicks_counted(env, "aggregates_by_event_time", "event_hour", hour) == 1500
    assert hour in report["recomputed"]["aggregates"]
    assert hour in report["recomputed"]["aggregates_by_event_time"]

    # Dagster's record of the partitions follows too (no schedule would come back to a closed hour).
    assert dagster_clicks(env, monkeypatch, "aggregates", hour) == (1500, "dw catalog rebuild")
    assert dagster_clicks(env, monkeypatch, "aggregates_by_event_time", hour) == (1500, "dw catalog rebuild")

    again = json.loads(dw(env, "catalog", "rebuild", "--json"))  # nothing changed: nothing recomputed
    assert again["recomputed"] == {} and {h["action"] for h in again["hours"]} == {"unchanged"}


def test_rebuild_points_a_partition_of_an_empty_hour_at_its_own_folder(tmp_path: Path) -> None:
    """Hour 12 holds nothing, is registered ahead of its data, and its partition points at hour 10's
    folder (300 rows where the lake holds none for it); the rebuild points it at its own folder,
    keeps it registered, and the aggregates computed from the wrong rows follow."""
    env = environment(tmp_path)
    send_clicks(env, 0, 300, f"{DAY}T10:05:00Z", event_minute=4)
    send_clicks(env, 300, 200, f"{DAY}T11:05:00Z", event_minute=4)
    dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T12", "--only", "register")
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env({"DW_HOME": env["DW_HOME"]}))
    wrong, own = hour_folder("clicks", "2026/03/01/10"), hour_folder("clicks", "2026/03/01/12")
    assert runtime.catalog.switch_partition_location(
        runtime.database, "clicks", ("2026/03/01/12",), wrong, expected_location=own
    )
    dw(env, "backfill", "--from", f"{DAY}T12", "--to", f"{DAY}T12", "--only", "aggregate")
    assert clicks_rows(env, "2026/03/01/12") == 300
    assert clicks_counted(env, "aggregates", "inserted_at", "2026/03/01/12") == 300

    report = json.loads(dw(env, "catalog", "rebuild", "--json"))
    [rebuilt] = [h for h in report["hours"] if h["table"] == "clicks" and h["hour"] == "2026/03/01/12"]
    assert (rebuilt["source"], rebuilt["action"], rebuilt["location"]) == ("empty", "switched", own)
    assert runtime.catalog.get_partitions(runtime.database, "clicks", [("2026/03/01/12",)]) == [
        Partition(("2026/03/01/12",), own)
    ]
    totals = query(
        env,
        "SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at BETWEEN '2026/03/01/10' AND "
        "'2026/03/01/12' GROUP BY 1 ORDER BY 1",
    )
    assert totals == [{"inserted_at": "2026/03/01/10", "n": 300}, {"inserted_at": "2026/03/01/11", "n": 200}]
    assert clicks_counted(env, "aggregates", "inserted_at", "2026/03/01/12") == 0

    send_clicks(env, 500, 40, f"{DAY}T12:30:00Z", event_minute=29)  # still registered: seen at once
    assert clicks_rows(env, "2026/03/01/12") == 40


def test_a_backfill_of_compaction_alone_says_which_aggregates_it_left_behind(tmp_path: Path) -> None:
    """`dw backfill --only compact` folding late objects in leaves the aggregates out, as asked; it
    says so, naming the hours and the command that refreshes them, instead of leaving them silently
    stale."""
    env = environment(tmp_path)
    hour = "2026/03/01/10"
    send_clicks(env, 0, 1000, f"{DAY}T10:05:00Z", event_minute=4)
    dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T10")
    first = run_dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T10", "--only", "compact")
    assert "still count the old rows" not in first.stderr.decode()  # nothing changed
    send_clicks(env, 1000, 500, f"{DAY}T10:50:00Z", event_minute=49)
    result = run_dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T10", "--only", "compact")
    assert clicks_rows(env, hour) == 1500 and clicks_counted(env, "aggregates", "inserted_at", hour) == 1000
    advice = "run dw backfill --only aggregate --from 2026-03-01T10 --to 2026-03-01T10"
    assert f"changed the rows of clicks {hour}" in result.stderr.decode()
    assert advice in result.stderr.decode()
    dw(env, *advice.removeprefix("run dw ").split())
    assert clicks_counted(env, "aggregates", "inserted_at", hour) == 1500
