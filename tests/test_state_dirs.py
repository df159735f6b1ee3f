"""Every command over a state directory it must not or cannot use: refused in one line, nothing lost,
and back to normal once the cause is gone."""

import hashlib
import json
from pathlib import Path

import pytest

from tests.dw_process import dw, dw_env, one_line_error, warehouse_catalog, warehouse_lake

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process


def _snapshot(directory: Path) -> dict[str, str]:
    """Every file under `directory` with a digest of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    home = Path(env["DW_HOME"])
    dw(env, "send", "clicks", "--count", "30", "--arrival", "2026-03-01T10:05:00Z")
    (home / "notes.txt").write_text("not the demo's")
    before = _snapshot(home)
    for target in (home, warehouse_lake(env).parent):  # the home, its lake directory
        refused = dw(
            env, "demo", "--hours", "1", "--events-per-hour", "20", "--home", str(target), check=False
        )
        assert "refusing to delete it" in one_line_error(refused, "demo")
    assert _snapshot(home) == before

    # A missing directory, then the same one again (it is the demo's now), then an empty one.
    demo_home = tmp_path / "demo"
    for _ in range(2):
        out = dw(env, "demo", "--hours", "1", "--events-per-hour", "20", "--home", str(demo_home)).stdout
        assert b"backfilled 1 hour of" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (
        b"backfilled 1 hour of"
        in dw(env, "demo", "--hours", "1", "--events-per-hour", "20", "--home", str(empty)).stdout
    )
    assert _snapshot(home) == before


HOUR = "2026-03-01T10"
COUNT_SQL = "SELECT count(*) AS n FROM clicks WHERE inserted_at = '2026/03/01/10'"
# Every command that touches DW_HOME, as a user would run it.
COMMANDS = {
    "send": ("send", "clicks", "--count", "5", "--arrival", f"{HOUR}:30:00Z"),
    "status": ("status",),
    "status-hours": ("status", "--from", HOUR, "--to", HOUR),
    "backfill": ("backfill", "--from", HOUR, "--to", HOUR, "--only", "register"),
    "query": ("query", COUNT_SQL, "--format", "json"),
}


def _warehouse(tmp_path: Path) -> dict[str, str]:
    env = dw_env(tmp_path)
    dw(env, "send", "clicks", "--count", "40", "--arrival", f"{HOUR}:05:00Z")
    dw(env, "backfill", "--from", HOUR, "--to", HOUR, "--only", "register")
    return env


def _every_command_works(env: dict[str, str], *, unprivileged: bool = False) -> None:
    for args in COMMANDS.values():
        dw(env, *args, unprivileged=unprivileged)


@pytest.mark.slow
def test_a_damaged_catalog_is_one_line_naming_it_and_restoring_it_recovers(tmp_path: Path) -> None:
    env = _warehouse(tmp_path)
    catalog = warehouse_catalog(env)
    good = catalog.read_bytes()
    for damaged in (good[:3000], b"garbage" * 1000):
        catalog.write_bytes(damaged)
        for args in COMMANDS.values():
            refused = dw(env, *args, check=False)
            error = one_line_error(refused, args[0])
            assert f"the catalog {catalog} is damaged" in error, error
    catalog.write_bytes(good)
    _every_command_works(env)
    # 40 sent, and 5 by the one send that ran on the restored catalog (the refused ones wrote nothing).
    assert json.loads(dw(env, "query", COUNT_SQL, "--format", "json").stdout) == [{"n": 45}]


@pytest.mark.slow
def test_a_read_only_dw_home_is_one_line_naming_it_and_recovers(tmp_path: Path) -> None:
    env = _warehouse(tmp_path)
    home = Path(env["DW_HOME"])
    paths = [home, *home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for path in paths:
        path.chmod(modes[path] & ~0o222)
    try:
        for name, args in COMMANDS.items():
            refused = dw(env, *args, check=False, unprivileged=True)
            assert (
                "cannot be written" in one_line_error(refused, args[0])
                and str(home) in refused.stderr.decode()
            ), name
    finally:
        for path in paths:
            path.chmod(modes[path])
    _every_command_works(env, unprivileged=True)


@pytest.mark.slow
def test_a_damaged_or_read_only_dagster_home_is_one_line(tmp_path: Path) -> None:
    env = _warehouse(tmp_path)
    dagster_home = Path(env["DAGSTER_HOME"])
    runs = dagster_home / "history" / "runs.db"
    good = runs.read_bytes()
    runs.write_bytes(good[:2048])
    refused = dw(env, *COMMANDS["backfill"], check=False)
    assert f"{runs} is damaged" in one_line_error(refused, "backfill")
    runs.write_bytes(good)
    dw(env, *COMMANDS["backfill"])

    paths = [dagster_home, *dagster_home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for path in paths:
        path.chmod(modes[path] & ~0o222)
    try:
        refused = dw(env, *COMMANDS["backfill"], check=False, unprivileged=True)
        assert f"DAGSTER_HOME {dagster_home} cannot be written" in one_line_error(refused, "backfill")
        dw(env, *COMMANDS["query"], unprivileged=True)  # needs no Dagster instance
    finally:
        for path in paths:
            path.chmod(modes[path])
    dw(env, *COMMANDS["backfill"], unprivileged=True)

    # A DAGSTER_HOME that is a file, and a demo home under a read-only directory.
    refused = dw({**env, "DAGSTER_HOME": str(runs)}, *COMMANDS["backfill"], check=False)
    assert "is a file, not a directory" in one_line_error(refused, "backfill")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    refused = dw(env, "demo", "--hours", "1", "--home", str(locked / "demo"), check=False, unprivileged=True)
    assert "cannot be written" in one_line_error(refused, "demo")
