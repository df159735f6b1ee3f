"""The lake is enough to rebuild the catalog exactly, compacted hours included (issue 17, finding 2):
real `dw` processes over real files; the catalog deleted or truncated."""

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.layout import hour_folder
from dw_platform.operations.compaction.compact import compact_hour
from dw_platform.operations.compaction.versions import hour_versions
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.dw_process import warehouse_catalog

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

DAY = "2026-03-01"
SENT = {"10": [120, 100, 80], "11": [150, 50], "12": [60, 40]}  # clicks per hour, one object each
LATE_11 = 20  # lands in hour 11 after it was compacted
LATER = datetime.now(UTC) + timedelta(hours=2)  # past the grace period: raw objects cleaned up


def dw(env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,)) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *args], env=env, capture_output=True, timeout=300
    )
    assert result.returncode in ok, f"dw {' '.join(args)}: {result.stdout.decode()} {result.stderr.decode()}"
    return result.stdout.decode()


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "DW_HOME": str(home / "dw"), "DAGSTER_HOME": str(home / "dagster")}


def counts(env: dict[str, str]) -> dict[str, int]:
    rows = json.loads(
        dw(
            env,
            "query",
            "SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at BETWEEN '2026/03/01/10' AND "
            "'2026/03/01/12' GROUP BY inserted_at ORDER BY inserted_at",
            "--format",
            "json",
        )
    )
    return {r["inserted_at"][-2:]: r["n"] for r in rows}


def aggregated_clicks(env: dict[str, str]) -> dict[str, int]:
    rows = json.loads(
        dw(
            env,
            "query",
            "SELECT inserted_at, count FROM aggregates WHERE inserted_at BETWEEN '2026/03/01/10' AND "
            "'2026/03/01/12' AND event_type = 'clicks' ORDER BY inserted_at",
            "--format",
            "json",
        )
    )
    return {r["inserted_at"][-2:]: r["count"] for r in rows}


def runtime_of(env: dict[str, str]) -> Runtime:
    return Runtime.from_settings(analytics_dw, Settings.from_env({"DW_HOME": env["DW_HOME"]}))


def clean_up(env: dict[str, str], hours: tuple[str, ...]) -> None:
    runtime = runtime_of(env)
    for hour in hours:
        compact_hour(runtime, "clicks", f"2026/03/01/{hour}", now=LATER)


def send(env: dict[str, str], hour: str, count: int, minute: int, seed: int) -> None:
    arrival = f"{DAY}T{hour}:{minute:02d}:00Z"
    dw(env, "send", "clicks", "--count", str(count), "--arrival", arrival, "--seed", str(seed))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hours 10 and 11 compacted with their raw objects cleaned up, a late object in hour 11 after
    that, hour 12 never compacted; aggregates computed."""
    home = tmp_path_factory.mktemp("lake")
    env = environment(home)
    for hour, sizes in SENT.items():
        for number, count in enumerate(sizes):
            send(env, hour, count, 5 + number, seed=int(hour) * 10 + number)
    dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T11")
    dw(
        env,
        "backfill",
        "--from",
        f"{DAY}T12",
        "--to",
        f"{DAY}T12",
        "--only",
        "register",
        "--only",
        "aggregate",
    )
    clean_up(env, ("10", "11"))
    runtime = runtime_of(env)
    assert runtime.lake.list_objects(hour_folder("clicks", "2026/03/01/10")) == []
    send(env, "11", LATE_11, 50, seed=99)
    return home


def expected(late: int = LATE_11) -> dict[str, int]:
    sums = {hour: sum(sizes) for hour, sizes in SENT.items()}
    return {**sums, "11": sums["11"] + late}


def copy_of(lake: Path, tmp_path: Path) -> dict[str, str]:
    shutil.copytree(lake, tmp_path / "copy")
    return environment(tmp_path / "copy")


def lose_catalog(env: dict[str, str], how: str) -> None:
    path = warehouse_catalog(env)
    for companion in path.parent.glob(f"{path.name}-*"):
        companion.unlink()
    if how == "deleted":
        path.unlink()
    else:
        data = path.read_bytes()
        path.write_bytes(b"\x00" * 100 + data[100 : len(data) // 3])


def test_registering_a_lost_catalog_again_points_compacted_hours_at_their_versions(
    lake: Path, tmp_path: Path
) -> None:
    env = copy_of(lake, tmp_path)
    assert counts(env) == {"10": 300, "11": 200, "12": 100}  # the late object waits for re-compaction
    lose_catalog(env, "deleted")
    dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T12", "--only", "register")
    assert counts(env) == {"10": 300, "11": 200, "12": 100}
    dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T12", "--only", "compact")
    assert counts(env) == expected()
    clean_up(env, ("10", "11", "12"))
    assert counts(env) == expected()


@pytest.mark.parametrize("how", ["deleted", "truncated"])
def test_catalog_rebuild_gives_exact_counts_per_hour_after_losing_the_catalog(
    lake: Path, tmp_path: Path, how: str
) -> None:
    env = copy_of(lake, tmp_path)
    lose_catalog(env, how)
    report = json.loads(dw(env, "catalog", "rebuild", "--json"))
    assert bool(report["note"]) == (how == "truncated")
    clicks = {h["hour"][-2:]: h for h in report["hours"] if h["table"] == "clicks"}
    assert {h: (c["source"], c["late_objects_folded"]) for h, c in clicks.items()} == {
        "10": ("version", 0),
        "11": ("version", 1),
        "12": ("raw", 0),
    }
    assert counts(env) == expected()
    # The hour the late object was folded into has its aggregates recomputed (issue 23, finding 4).
    assert report["recomputed"]["aggregates"] == ["2026/03/01/11"]
    assert aggregated_clicks(env) == {"10": 300, "11": expected()["11"], "12": 100}
    errors = dw(env, "query", "SELECT count(*) AS n FROM clicks_errors WHERE inserted_at = '2026/03/01/12'")
    assert "0" in errors  # the errors table's hours are registered too

    again = json.loads(dw(env, "catalog", "rebuild", "--json"))  # idempotent
    assert {h["action"] for h in again["hours"]} == {"unchanged"}
    send(env, "10", 10, 55, seed=7)  # one more late object, then cleanups
    dw(env, "backfill", "--from", f"{DAY}T10", "--to", f"{DAY}T12", "--only", "compact")
    clean_up(env, ("10", "11", "12"))
    clean_up(env, ("10", "11", "12"))
    assert counts(env) == {**expected(), "10": 310}


def test_catalog_rebuild_reports_an_undescribable_version_and_keeps_it(lake: Path, tmp_path: Path) -> None:
    env = copy_of(lake, tmp_path)
    runtime = runtime_of(env)
    [version] = hour_versions(runtime.lake, "clicks", "2026/03/01/10")
    runtime.lake.delete(f"{version.location}_manifest.json")
    for obj in runtime.lake.list_objects(version.location):  # files as UNLOAD writes them: no record
        pq.write_table(
            pq.read_table(runtime.lake.path(obj.key)).replace_schema_metadata(None),
            runtime.lake.path(obj.key),
        )
    before = sorted(
        o.key for o in runtime.lake.list_objects("compacted/clicks/2026/03/01/10/", include_hidden=True)
    )
    result = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", "catalog", "rebuild"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert (
        "PROBLEM clicks 2026/03/01/10: 1 version folders under compacted/clicks/2026/03/01/10/"
        in result.stdout.decode()
    )
    assert counts(env)["10"] == 300  # the partition kept its location
    after = sorted(
        o.key for o in runtime.lake.list_objects("compacted/clicks/2026/03/01/10/", include_hidden=True)
    )
    assert after == before
