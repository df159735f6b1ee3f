"""Input a producer can send, through real `dw` processes: no record blocks the others (a lone UTF-16
surrogate escape is stored as Firehose stores it), a send failing part-way says what it delivered,
NDJSON's byte-order mark and blank lines are not records, and control characters in producers'
values cannot drive the operator's terminal. Expected values are plain Python over the input."""

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dw_platform.lake.layout import hour_folder, lake_root, table_prefix
from tests.dw_process import dw, dw_env, one_line_error, start_dw, warehouse_lake

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

ARRIVAL = "2026-03-01T10:15:00Z"
HOUR = "2026/03/01/10"


def event(index: int, **fields: object) -> dict[str, object]:
    return {"id": f"e{index}", "session_id": f"s{index}", "event_time": "2026-03-01T10:01:02Z", **fields}


# What JavaScript's JSON.stringify writes for a string cut inside an emoji: a lone high surrogate.
CUT_EMOJI = '{"id": "cut-\\ud83d", "session_id": "s9", "event_time": "2026-03-01T10:01:02Z"}'


def as_firehose_stores(text: str) -> str:
    """Java's String.getBytes(UTF_8), which Firehose's Parquet writer uses: each lone surrogate
    becomes `?` (Python's encoder does the same with errors="replace")."""
    return text.encode("utf-8", "replace").decode("utf-8")


def lake_rows(env: dict[str, str], table: str = "impressions", hour: str = HOUR) -> list[dict[str, object]]:
    """Every row of the hour's Parquet objects, read with pyarrow, not through the platform."""
    folder = warehouse_lake(env) / hour_folder(table, hour)
    return [row for path in sorted(folder.glob("*.parquet")) for row in pq.read_table(path).to_pylist()]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return dw_env(tmp_path)


def surrogate_file(tmp_path: Path) -> tuple[Path, list[str]]:
    lines = [json.dumps(event(i)) for i in range(30)]
    lines[9] = CUT_EMOJI
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return path, lines


@pytest.mark.slow
def test_a_lone_surrogate_does_not_stop_the_send(env: dict[str, str], tmp_path: Path) -> None:
    path, lines = surrogate_file(tmp_path)
    sent = dw(env, "send", "impressions", "--from-file", str(path), "--batches", "2", "--arrival", ARRIVAL)
    assert sent.stdout.decode() == "impressions: sent 30, delivered 30, errors 0, in 2 objects\n"
    rows = lake_rows(env)
    expected = [{k: as_firehose_stores(v) for k, v in json.loads(line).items()} for line in lines]
    assert sorted(rows, key=lambda r: r["id"]) == sorted(expected, key=lambda r: r["id"])
    assert {"id": "cut-?", "session_id": "s9", "event_time": "2026-03-01T10:01:02Z"} in rows
    # Queried, the row reads as it was stored.
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    found = dw(
        env, "query", f"SELECT id FROM impressions WHERE inserted_at = '{HOUR}' AND id LIKE 'cut%'", "--json"
    )
    assert json.loads(found.stdout) == [{"id": "cut-?"}]


# A crash point: the second Parquet object of a send cannot be written (a full disk).
FULL_DISK_AT_SECOND_OBJECT = """
import errno
from dw_platform.lake.store import Lake
_write = Lake.write_parquet
_calls = []
def write_parquet(self, key, table, **options):
    _calls.append(key)
    if len(_calls) == 2:
        raise OSError(errno.ENOSPC, "No space left on device", key)
    return _write(self, key, table, **options)
Lake.write_parquet = write_parquet
"""


def test_a_send_failing_part_way_says_what_it_delivered(env: dict[str, str], tmp_path: Path) -> None:
    lines = [json.dumps(event(i)) for i in range(30)]
    lines[3] = "not json"  # isolated in the first object
    path = tmp_path / "events.ndjson"
    path.write_text("\n\n".join(lines) + "\n")  # blank lines between: line numbers are not record numbers
    process = start_dw(
        env,
        "send",
        "impressions",
        "--from-file",
        str(path),
        "--batches",
        "2",
        "--arrival",
        ARRIVAL,
        prelude=FULL_DISK_AT_SECOND_OBJECT,
    )
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, (out, err)  # the work failed (not "refused: nothing was done")
    message = err.decode()
    assert message.count("\n") == 1 and "Traceback" not in message, message
    assert message.startswith(
        "dw send: impressions: delivered 14 and isolated 1 of 30 records (the first 15) in 1 object, "
        "then failed: "
    ), message
    assert message.endswith(f"(lines 1-29 of {path} reached the lake; lines 31-59 did not)\n"), message
    delivered = lake_rows(env)
    assert sorted(r["id"] for r in delivered) == sorted(
        json.loads(x)["id"] for x in lines[:15] if x != "not json"
    )


def test_bom_and_blank_lines_are_not_records(env: dict[str, str], tmp_path: Path) -> None:
    events = [event(i) for i in range(4)]
    body = "\n".join(json.dumps(e) for e in events).replace("\n", "\n\n  \t\n\r\n", 1)
    data = b"\xef\xbb\xbf" + body.encode() + b"\r\n\n"  # a BOM, blank and \r lines, a CRLF end
    path = tmp_path / "events.ndjson"
    path.write_bytes(data)
    summary = json.loads(
        dw(env, "send", "impressions", "--from-file", str(path), "--arrival", ARRIVAL, "--json").stdout
    )
    assert summary == {"table": "impressions", "sent": 4, "delivered": 4, "errors": 0, "objects": 1}
    assert sorted(lake_rows(env), key=lambda r: r["id"]) == events
    piped = dw(env, "send", "clicks", "--from-file", "-", "--arrival", ARRIVAL, "--json", input=data)
    assert json.loads(piped.stdout)["errors"] == 0


HOSTILE = {
    "retitle": "x\x1b]0;owned\x07",
    "clear": "y\x1b[2J\x1b[H",
    "bell": "z\x07",
    "forged": "w\n  forged  row",
    "bidi": "v\u202eevil",
}


@pytest.mark.slow
def test_query_output_escapes_control_characters(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_text(
        "".join(json.dumps(event(i, id=v, session_id=k)) + "\n" for i, (k, v) in enumerate(HOSTILE.items()))
    )
    dw(env, "send", "impressions", "--from-file", str(path), "--arrival", ARRIVAL)
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    sql = f"SELECT session_id, id FROM impressions WHERE inserted_at = '{HOUR}' ORDER BY session_id"
    table = dw(env, "query", sql).stdout.decode()
    lines = table.splitlines()
    assert len(lines) == 1 + len(HOSTILE), table  # the header and one line per row: nothing forged
    assert not any(ch in table for ch in "\x1b\x07\u202e\r"), repr(table)
    for line, (name, value) in zip(lines[1:], sorted(HOSTILE.items()), strict=True):
        shown = value.encode("unicode_escape").decode("ascii")  # Python's escapes, as the table shows them
        assert line.strip().startswith(name) and line.endswith(shown), (line, shown)
    # JSON escapes them itself; CSV off a terminal keeps the exact values for the program reading it.
    rows = json.loads(dw(env, "query", sql, "--json").stdout)
    assert {r["session_id"]: r["id"] for r in rows} == HOSTILE
    read = list(csv.DictReader(io.StringIO(dw(env, "query", sql, "--format", "csv").stdout.decode())))
    assert {r["session_id"]: r["id"] for r in read} == HOSTILE


@pytest.mark.parametrize("sql", ["EXPLAIN SELECT 1", "LOAD DATA", "CALL system.sync()", "SELECT * FROM"])
def test_every_query_error_is_one_line(env: dict[str, str], sql: str) -> None:
    err = one_line_error(dw(env, "query", sql, check=False), "query")
    assert "Token" not in err and "COMMAND" not in err, err


# `dw` run with the replay scenario's fixed declaration (quantity widened to bigint, price added).
FIXED_DECLARATION = """
import dw_platform.defs.analytics_dw.warehouse as declared
from tests.replay_scenario import AFTER
declared.analytics_dw = AFTER
"""


def test_a_replay_holding_a_lone_surrogate_is_not_stuck(tmp_path: Path) -> None:
    from dw_platform.delivery.sending import deliver
    from dw_platform.runtime.backends import Runtime
    from dw_platform.runtime.settings import Settings
    from tests.replay_scenario import BEFORE

    env = dw_env(tmp_path)
    settings = Settings.from_env(env)
    # Isolated under the old declaration (a quantity no int holds), each with a cut emoji in its id.
    records = [
        json.dumps(event(i, quantity=2**40 + i)).replace(f'"e{i}"', f'"r{i}-\\ud83d"') for i in range(3)
    ]
    fitting = [json.dumps(event(i, quantity=i)) for i in range(5)]
    sent = deliver(
        Runtime.from_settings(BEFORE, settings),
        "impressions",
        [r.encode() for r in [*records, *fitting]],
        arrival=datetime(2026, 3, 1, 10, 7, tzinfo=UTC),
    )
    assert (sent.delivered, sent.errors) == (5, 3)
    replay = [
        "replay",
        "impressions",
        "--from",
        "2026-03-01T10",
        "--to",
        "2026-03-01T10",
        "--arrival",
        "2026-03-01T14:20:00Z",
    ]
    for attempt, delivered in ((1, 3), (2, 0)):  # a second replay finds nothing left to deliver
        process = start_dw(env, *replay, "--json", prelude=FIXED_DECLARATION)
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, (attempt, err.decode())
        report = json.loads(out)
        assert (report["converted"], report["still_failing"]) == (delivered, 0), report
    rows = lake_rows(env, hour="2026/03/01/14")
    expected = [as_firehose_stores(json.loads(r)["id"]) for r in records]
    assert sorted(r["id"] for r in rows) == expected == ["r0-?", "r1-?", "r2-?"]
    assert sorted(r["quantity"] for r in rows) == [json.loads(r)["quantity"] for r in records]


def test_drain_continues_past_a_lone_surrogate(aws_endpoint: str, tmp_path: Path) -> None:
    import boto3

    from tests.aws_emulator import REGION
    from tests.test_provisioning import allow_plain_http_on_emulator

    env = {**dw_env(tmp_path), "DW_PROFILE": "aws", "DW_IS_DEV": "true", "DW_QUERY_ENGINE": "duckdb"}
    dw(env, "provision", "apply", "--yes")
    allow_plain_http_on_emulator("analytics-dw-data")
    path, lines = surrogate_file(tmp_path)
    dw(env, "send", "impressions", "--from-file", str(path))
    drained = dw(env, "drain", "impressions").stdout.decode()
    assert "impressions: 30 Kinesis records, delivered 30 (30 rows), errors 0" in drained, drained
    s3 = boto3.client("s3", region_name=REGION)
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(
            Bucket="analytics-dw-data", Prefix=lake_root("analytics_dw") + table_prefix("impressions")
        )["Contents"]
        if o["Key"].endswith(".parquet")
    ]
    rows = [
        row
        for key in keys
        for row in pq.read_table(
            io.BytesIO(s3.get_object(Bucket="analytics-dw-data", Key=key)["Body"].read())
        ).to_pylist()
    ]
    expected = [{k: as_firehose_stores(v) for k, v in json.loads(line).items()} for line in lines]
    assert sorted(rows, key=lambda r: r["id"]) == sorted(expected, key=lambda r: r["id"])
    assert "impressions: 0 Kinesis records" in dw(env, "drain", "impressions").stdout.decode()


def test_error_lines_escape_what_a_terminal_would_act_on(env: dict[str, str]) -> None:
    err = one_line_error(dw(env, "query", 'SELECT * FROM "x\x1b]0;owned\x07\x1b[2J"', check=False), "query")
    assert "\x1b" not in err and "\x07" not in err and "\\x1b]0;owned\\x07" in err, repr(err)
