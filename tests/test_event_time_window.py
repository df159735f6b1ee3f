"""Event-time counts read every arrival hour that can hold an event hour's events, whatever the
run's range, and compare event times as instants (issue 16 finding 6, issue 17 finding 5)."""

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

HOURS = ("2026/03/01/10", "2026/03/01/11")


def dw(env: dict[str, str], *args: str, input: bytes | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *args],
        env=env,
        input=input,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def records(prefix: str, times: list[str]) -> bytes:
    events = [{"id": f"{prefix}-{i}", "session_id": "s", "event_time": t} for i, t in enumerate(times)]
    return "".join(json.dumps(e) + "\n" for e in events).encode()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DW_HOME": str(tmp_path / "dw"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "DW_PARTITIONS_START": "2026-01-01",
    }


def test_event_hour_counts_do_not_depend_on_the_run_range_and_use_utc(env: dict[str, str]) -> None:
    # (arrival of the one flush, event times in it)
    flushes = [
        # a device clock two minutes ahead: stamped 11:01, arrived 10:59
        ("2026-03-01T10:59:00Z", ["2026-03-01T11:01:00.000Z"] * 100),
        # a flush opened at 10:59:30 is filed under arrival hour 10, though most of it is stamped 11:00
        (
            "2026-03-01T10:59:30Z",
            ["2026-03-01T10:59:40.000Z"] * 10 + [f"2026-03-01T11:00:{s:02d}.000Z" for s in range(30)],
        ),
        ("2026-03-01T11:30:00Z", ["2026-03-01T11:29:00.000Z"] * 50),
    ]
    sent: list[str] = []
    for number, (arrival, times) in enumerate(flushes):
        dw(
            env,
            "send",
            "clicks",
            "--from-file",
            "-",
            "--arrival",
            arrival,
            input=records(f"f{number}", times),
        )
        sent += times
    # sample events sent with an offset arrival carry that offset in event_time (16:45+05:30 = 11:15Z)
    dw(env, "send", "clicks", "--count", "20", "--arrival", "2026-03-01T16:45:00+05:30", "--seed", "3")
    sent += ["2026-03-01T16:45:00.000+05:30"] * 20
    expected = Counter(f"{datetime.fromisoformat(t).astimezone(UTC):%Y/%m/%d/%H}" for t in sent)
    assert expected == {"2026/03/01/10": 10, "2026/03/01/11": 200}

    dw(env, "backfill", "--from", "2026-03-01T09", "--to", "2026-03-02T12", "--only", "register")

    def counted() -> dict[str, int]:
        rows = json.loads(
            dw(
                env,
                "query",
                "SELECT time, count FROM aggregates_by_event_time WHERE event_type = 'clicks' "
                f"AND event_hour IN ('{HOURS[0]}', '{HOURS[1]}')",
                "--format",
                "json",
            )
        )
        return {r["time"]: r["count"] for r in rows}

    dw(env, "backfill", "--from", "2026-03-01T11", "--to", "2026-03-01T11", "--only", "aggregate")
    assert counted() == {"2026/03/01/11": expected["2026/03/01/11"]}
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T11", "--only", "aggregate")
    assert counted() == {h: expected[h] for h in HOURS}
