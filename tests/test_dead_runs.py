"""A `dw backfill` killed mid-step does not hold its pool slot for ever; one that waits for a slot
says what it waits for and stops on SIGTERM."""

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from dw_platform.lake.layout import hour_root
from dw_platform.orchestration.instance import reap_dead_runs
from tests.dw_process import dw, dw_env, start_dw, warehouse_lake
from tests.postgres_server import deploy_instance

HOUR = "2026-03-01T10"
COMPACT = ("backfill", "--from", HOUR, "--to", HOUR, "--only", "compact")

# Stops the compaction of impressions in the middle of its step (its pool slot claimed).
STALL_IN_COMPACTION = """
import time
import dw_platform.operations.compaction.compact as compact
def _stall(*args, **kwargs):
    print("in-compaction", flush=True)
    time.sleep(600)
compact.rewrite = _stall
"""
# Skips the CLI's own wait, as when another run takes the slot between that wait and this run's claim:
# the run then waits inside Dagster.
SKIP_CLI_WAIT = """
import dw_platform.orchestration.backfill as backfill
backfill.wait_for_pools = lambda *args: None
"""


def _wait_for_line(process: subprocess.Popen, text: bytes, timeout: float = 120) -> bytes:
    """Read the process's stderr until a line contains `text`."""
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen += line
        if text in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no {text!r} in stderr: {seen.decode()[-3000:]}")


def _stop(process: subprocess.Popen, signum: int) -> int:
    process.send_signal(signum)
    return process.wait(timeout=30)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dw_env(tmp_path)
    for table, count in (("impressions", 70), ("clicks", 40)):
        dw(env, "send", table, "--count", str(count), "--arrival", f"{HOUR}:15:00Z")
    dw(env, "backfill", "--from", HOUR, "--to", HOUR, "--only", "register")
    return env


@pytest.mark.e2e
def test_a_killed_compaction_frees_its_slot_and_a_waiting_one_stops_on_sigterm(env: dict[str, str]) -> None:
    holder = start_dw(env, *COMPACT, prelude=STALL_IN_COMPACTION)
    waiting = None
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"in-compaction\n"

        # While the holder lives, a second backfill says what it waits for and stops on SIGTERM.
        waiting = start_dw(env, *COMPACT)
        line = _wait_for_line(waiting, b"waiting for pool analytics_dw_compaction_")
        assert f"{os.uname().nodename}:{holder.pid}:".encode() in line
        assert _stop(waiting, signal.SIGTERM) == 130

        # The same, when the wait happens inside Dagster's run (a slot taken after the CLI's own wait).
        waiting = start_dw(env, *COMPACT, prelude=SKIP_CLI_WAIT)
        _wait_for_line(waiting, b"waiting for pool analytics_dw_compaction_")
        assert _stop(waiting, signal.SIGTERM) == 130

        os.kill(holder.pid, signal.SIGKILL)  # the crash: mid-step, its slot claimed
        holder.wait()
    finally:  # nothing of this test outlives it, pass or fail
        for process in (holder, waiting):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    rerun = dw(env, *COMPACT, timeout=300)  # used to wait for ever (generous: the machine may be loaded)
    assert b"backfill succeeded" in rerun.stdout
    for table, count in (("impressions", 70), ("clicks", 40)):
        rows = json.loads(
            dw(
                env,
                "query",
                f"SELECT count(*) AS n FROM {table} WHERE inserted_at = '2026/03/01/10'",
                "--format",
                "json",
            ).stdout
        )
        assert rows == [{"n": count}]
    compacted = warehouse_lake(env) / hour_root("impressions", "2026/03/01/10")
    assert compacted.is_dir()


def _run(instance: dg.DagsterInstance, status: DagsterRunStatus) -> str:
    run = instance.add_run(DagsterRun(job_name="compact", run_id=str(uuid.uuid4()), status=status))
    return run.run_id


@pytest.mark.parametrize("storage", ["sqlite", pytest.param("postgres", marks=pytest.mark.e2e)])
def test_a_claim_queued_by_a_canceled_run_does_not_keep_the_next_free_slot(
    storage: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The hang the kill -9 test found, step by step against Dagster's slot tables: a canceled run's
    claim queued behind the holder gets the slot when the holder is freed, and the next run's claim
    must still be given it once dead runs are reaped."""
    if storage == "postgres":
        instance = deploy_instance(tmp_path, request.getfixturevalue("postgres_url"))
    else:
        instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        events = instance.event_log_storage
        events.set_concurrency_slots("compaction_impressions", 1)
        holder = _run(instance, DagsterRunStatus.STARTED)
        canceled = _run(instance, DagsterRunStatus.STARTED)
        rerun = _run(instance, DagsterRunStatus.STARTED)

        assert events.claim_concurrency_slot("compaction_impressions", holder, "compact").is_claimed
        assert not events.claim_concurrency_slot("compaction_impressions", canceled, "compact").is_claimed
        instance.report_run_canceled(instance.get_run_by_id(canceled))
        # The holder is killed and its slot freed: Dagster assigns it to the oldest queued claim.
        instance.report_run_failed(instance.get_run_by_id(holder))
        events.free_concurrency_slots_for_run(holder)
        assert not events.claim_concurrency_slot("compaction_impressions", rerun, "compact").is_claimed

        assert canceled in reap_dead_runs(instance)
        assert events.claim_concurrency_slot("compaction_impressions", rerun, "compact").is_claimed
        assert events.get_concurrency_info("compaction_impressions").active_run_ids == {rerun}
    finally:
        instance.dispose()
