"""What `dw` refuses at the door, in one line and without sending or writing anything: unreadable
sources, counts that send nothing, arrivals no partition holds, records Firehose would not take,
ranges Dagster's SQLite storage cannot record, and an AWS stack that is not provisioned."""

import json
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.dw_process import DW, dw, dw_env, one_line_error, start_dw, warehouse_lake

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

HOUR = "2026-03-01T10"
FIREHOSE_RECORD_LIMIT = 1000 * 1024  # bytes, before base64 (Firehose's documented per-record limit)


def _lake_files(env: dict[str, str]) -> list[Path]:
    lake = warehouse_lake(env).parent  # every warehouse's
    return sorted(p for p in lake.rglob("*") if p.is_file()) if lake.exists() else []


def _event(i: int, pad: int = 0) -> bytes:
    return json.dumps({"id": f"e{i}", "session_id": "s" + "x" * pad, "event_time": f"{HOUR}:00:00Z"}).encode()


def test_send_refuses_unreadable_sources_and_counts_that_send_nothing(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    send = ("send", "clicks", "--arrival", f"{HOUR}:05:00Z")
    cases = {
        "no such file": (*send, "--from-file", str(tmp_path / "missing.ndjson")),
        "is a directory": (*send, "--from-file", str(tmp_path)),
        "--count must be at least 1": (*send, "--count", "-5"),
        "--batches must be at least 1": (*send, "--batches", "0"),
    }
    for expected, args in cases.items():
        assert expected in one_line_error(dw(env, *args, check=False), "send")
    closed_stdin = subprocess.run(
        ["sh", "-c", 'exec "$@" 0<&-', "sh", *DW, *send, "--from-file", "-"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert "standard input is closed" in one_line_error(closed_stdin, "send")
    assert _lake_files(env) == []


def test_send_refuses_an_arrival_before_the_partitions_start(tmp_path: Path) -> None:
    env = dw_env(tmp_path, DW_PARTITIONS_START="2026-03-01")
    refused = dw(env, "send", "clicks", "--count", "10", "--arrival", "2026-02-28T23:59:00Z", check=False)
    assert "DW_PARTITIONS_START=2026-03-01T00:00Z" in one_line_error(refused, "send")
    future = dw_env(tmp_path, DW_PARTITIONS_START="2099-01-01")
    assert "now (" in one_line_error(dw(future, "send", "clicks", "--count", "1", check=False), "send")
    assert _lake_files(env) == []
    dw(env, "send", "clicks", "--count", "10", "--arrival", "2026-03-01T00:00:00Z")  # the first hour is fine


@pytest.mark.slow
def test_send_refuses_a_record_over_firehose_limit_and_takes_one_at_it(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    base = len(_event(1))
    at_limit = _event(1, pad=FIREHOSE_RECORD_LIMIT - base)
    assert len(at_limit) == FIREHOSE_RECORD_LIMIT
    huge = tmp_path / "huge.ndjson"
    huge.write_bytes(b"\n".join([_event(0), _event(2, pad=32 * 1024 * 1024)]) + b"\n")
    refused = dw(env, "send", "clicks", "--arrival", f"{HOUR}:05:00Z", "--from-file", str(huge), check=False)
    assert "line 2 of" in one_line_error(refused, "send") and "nothing was sent" in refused.stderr.decode()
    assert _lake_files(env) == []

    fits = tmp_path / "fits.ndjson"
    fits.write_bytes(b"\n".join([_event(0), at_limit]) + b"\n")
    dw(env, "send", "clicks", "--arrival", f"{HOUR}:05:00Z", "--from-file", str(fits))
    dw(env, "backfill", "--from", HOUR, "--to", HOUR, "--only", "register")
    sql = (
        "SELECT count(*) AS n, max(length(session_id)) AS longest FROM clicks "
        "WHERE inserted_at = '2026/03/01/10'"
    )
    rows = json.loads(dw(env, "query", sql, "--format", "json").stdout)
    assert rows == [{"n": 2, "longest": len(json.loads(at_limit)["session_id"])}]


def _variable_limit() -> int:
    with sqlite3.connect(":memory:") as connection:
        return connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


# Ends the run as its first step starts: the run was created (its planned events recorded).
EXIT_AT_FIRST_STEP = """
import os
import dw_platform.orchestration.registration_assets as streaming
def _exit(*args, **kwargs):
    print("run-created", flush=True)
    os._exit(0)
streaming.register_hours = _exit
"""


@pytest.mark.slow
def test_a_chunk_past_sqlite_storage_is_refused_in_one_line(tmp_path: Path) -> None:
    """Long ranges run in chunks; a chunk larger than one run can cover on SQLite storage is refused."""
    env = dw_env(tmp_path, DW_PARTITIONS_START="2016-01-01")
    # The bound: a run records 8 variables per hour of a checked asset in one INSERT.
    bound = _variable_limit() // 8
    start = datetime(2016, 1, 1)
    last_ok = f"{start + timedelta(hours=bound - 1):%Y-%m-%dT%H}"
    args = ("backfill", "--from", "2016-01-01T00", "--only", "register", "--to", last_ok, "--chunk-hours")
    refused = dw(env, *args, str(bound + 1), check=False)
    assert f"at most {bound:,} hours" in one_line_error(refused, "backfill")
    out, err = start_dw(env, *args, str(bound), prelude=EXIT_AT_FIRST_STEP).communicate(timeout=600)
    assert out == b"run-created\n", err.decode()[-2000:]


@pytest.mark.slow
def test_first_backfills_on_a_fresh_dagster_home_do_not_race(tmp_path: Path) -> None:
    def backfill(env: dict[str, str]) -> subprocess.CompletedProcess:
        return dw(env, "backfill", "--from", HOUR, "--to", HOUR, "--only", "register", check=False)

    env = dw_env(tmp_path)
    dw(env, "send", "clicks", "--count", "10", "--arrival", f"{HOUR}:05:00Z")
    for trial in range(4):
        fresh = {**env, "DAGSTER_HOME": str(tmp_path / f"dagster-{trial}")}
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(backfill, [fresh] * 3))
        for result in results:
            assert result.returncode == 0, result.stderr.decode()[-2000:]


@pytest.mark.slow
def test_aws_commands_before_provision_apply_say_the_stack_is_not_provisioned(
    aws_endpoint: str, tmp_path: Path
) -> None:
    env = dw_env(tmp_path, DW_PROFILE="aws", DW_IS_DEV="true", DW_QUERY_ENGINE="duckdb")
    commands = [
        ("send", "impressions", "--count", "5"),
        ("drain",),
        ("status",),
        ("status", "--from", HOUR, "--to", HOUR),
        ("query", "SELECT count(*) AS n FROM impressions WHERE inserted_at = '2026/03/01/10'"),
    ]
    for args in commands:
        error = one_line_error(dw(env, *args, check=False), args[0])
        assert "the AWS stack is not provisioned or lacks this resource" in error, error


def test_provision_policy_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    for target in (tmp_path, tmp_path / "missing" / "policy.json"):
        refused = dw(
            env, "provision", "policy", "--account", "123456789012", "--output", str(target), check=False
        )
        assert f"cannot write {target}" in one_line_error(refused, "provision")
