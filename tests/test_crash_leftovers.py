"""What writers killed mid-write leave behind is never read as data, and is cleaned up."""

import json
import os
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dw_platform.lake.layout import delivery_ledger_prefix
from tests.dw_process import dw, dw_env, start_dw, warehouse_lake

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

HOUR = "2026/03/01/10"

# Stops `dw send` inside a ledger write, after the temporary is created and before a byte is written:
# what a kill -9 at that moment leaves (an empty hidden temporary beside the ledger's entries).
STOP_IN_LEDGER_WRITE = """
import pathlib, time
_write_bytes = pathlib.Path.write_bytes
def _stalling(self, data):
    if "_delivery" in str(self) and self.name.endswith(".tmp"):
        self.touch()
        print("in-ledger-write", flush=True)
        time.sleep(600)
    return _write_bytes(self, data)
pathlib.Path.write_bytes = _stalling
"""


def _rows_on_disk(lake: Path, table: str) -> int:
    """Rows of every visible Parquet object of the hour, read with pyarrow."""
    folder = lake / table / HOUR
    return sum(pq.read_metadata(p).num_rows for p in folder.iterdir() if not p.name.startswith((".", "_")))


def test_send_killed_in_a_ledger_write_blocks_nothing(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    dw(env, "send", "impressions", "--count", "120", "--arrival", "2026-03-01T10:05:00Z", "--seed", "1")
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    crashed = start_dw(
        env,
        "send",
        "impressions",
        "--count",
        "80",
        "--arrival",
        "2026-03-01T10:20:00Z",
        prelude=STOP_IN_LEDGER_WRITE,
    )
    assert crashed.stdout is not None and crashed.stdout.readline() == b"in-ledger-write\n"
    os.kill(crashed.pid, signal.SIGKILL)
    crashed.wait()
    ledger = warehouse_lake(env) / delivery_ledger_prefix("impressions", HOUR)
    leftovers = [p for p in ledger.iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size == 0

    # Registration and reconciliation of the hour still work, and count what is on disk.
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    report = json.loads(
        dw(env, "status", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--json").stdout
    )
    impressions = next(r for r in report if r["table"] == "impressions")
    lake = warehouse_lake(env)
    assert impressions["rows"] == _rows_on_disk(lake, "impressions") == 200
    assert impressions["sent"] == 120  # the ledger vouches for the acknowledged send only
    rows = json.loads(
        dw(
            env,
            "query",
            f"SELECT count(*) AS n FROM impressions WHERE inserted_at = '{HOUR}'",
            "--format",
            "json",
        ).stdout
    )
    assert rows == [{"n": 200}]

    # A young temporary may be a write in progress: kept. Once it is old, the next registration
    # deletes it.
    assert leftovers[0].exists()
    old = time.time() - 3600
    os.utime(leftovers[0], (old, old))
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    assert not leftovers[0].exists()
    assert sorted(p.name for p in ledger.iterdir() if p.name.startswith(".")) == []
