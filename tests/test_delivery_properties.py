"""Property-based tests of the delivery path: arbitrary records a producer can send (lone surrogates,
byte-order marks, control characters, blank records, huge and odd numbers, every ISO-8601 spelling
of a time, broken JSON and bytes that are not UTF-8) through the local delivery stream (`deliver`)
and Firehose's part against a Kinesis emulator (`drain_stream`). Whatever the records: no exception
escapes, sent = delivered + isolated, every isolated record keeps its exact bytes, and every
delivered row reads back (pyarrow over the written Parquet) as plain Python's `json` parses it.

Reproducible: a derandomized profile with modest example counts (the CI has 2 cores).
"""

import base64
import dataclasses
import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.firehose import DeliverySummary, LocalDeliveryStream
from dw_platform.delivery.firehose_emulation import drain_stream
from dw_platform.delivery.sending import deliver
from dw_platform.lake.store import Lake
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION

settings.register_profile(
    "dw-delivery-ci",
    derandomize=True,  # the same examples on every run and machine
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CI = settings.get_profile("dw-delivery-ci")

COLUMNS = tuple(c.name for c in analytics_dw.table("impressions").columns)
FIRST_HOUR = datetime(2026, 3, 1, tzinfo=UTC)

# ---- what a producer can send ---------------------------------------------------------------------
# Any character, lone surrogates included (hypothesis leaves those out unless asked).
ANY_CHARACTER = st.characters(exclude_categories=())
AWKWARD = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\ud83d",
        "\ud83d\ude00",
        "\ufeff",
        "\x00",
        "\x1b]0;t\x07",
        "\r",
        "\n",
        "\u2028",
        "\x7f",
    ]
)
TEXT = st.one_of(st.text(ANY_CHARACTER, max_size=12), st.lists(AWKWARD, max_size=3).map("".join))


def iso_8601(moment: datetime, form: int, digits: int, offset: timedelta) -> str:
    """One of ISO-8601's spellings of a moment (extended, basic, fractions, zones, no zone)."""
    zone = moment.astimezone(UTC).replace(tzinfo=None)
    local = zone + offset
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    fraction = f".{local.microsecond:06d}{'0' * 9}"[: digits + 1] if digits else ""
    return [
        f"{zone:%Y-%m-%dT%H:%M:%S}{fraction}Z",
        f"{local:%Y-%m-%dT%H:%M:%S}{fraction}{sign}{minutes // 60:02d}:{minutes % 60:02d}",
        f"{local:%Y%m%dT%H%M%S}{fraction}{sign}{minutes // 60:02d}{minutes % 60:02d}",
        f"{zone:%Y-%m-%d %H:%M:%S}{fraction}",
        f"{zone:%Y-%m-%dT%H:%M}Z",
        f"{zone:%Y-%m-%d}",
        f"{zone:%G-W%V-%u}",
        f"{zone:%Y-%jT%H:%M:%S}Z",
    ][form]


EVENT_TIME = st.builds(
    iso_8601,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.integers(0, 7),
    st.integers(0, 9),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m)),
)
NUMBER_TEXT = st.one_of(
    st.sampled_from(
        ["1e400", "-1e400", "-0", "-0.0", "0e0", "1E-400", "18446744073709551616", "-9223372036854775809"]
    ),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
)
NOT_JSON_VALUES = st.sampled_from(["NaN", "Infinity", "-Infinity", "nul", "'x'", "01", "+1", "0x10", ".5"])


def string_value(text: str, ascii_only: bool) -> str:
    return json.dumps(text, ensure_ascii=ascii_only)


VALUE = st.one_of(
    st.builds(string_value, TEXT, st.booleans()),
    st.builds(string_value, EVENT_TIME, st.just(True)),
    NUMBER_TEXT,
    st.sampled_from(["true", "false", "null", '{"a": 1}', "[1, 2]", "[]", "{}"]),
    NOT_JSON_VALUES,
)
KEY = st.one_of(
    st.sampled_from(COLUMNS), st.sampled_from(["extra", "nested", "ID", "Event_Time", "ID\ud800"]), TEXT
)


def json_object(fields: list[tuple[str, str]], before: str, after: str) -> str:
    inner = ", ".join(f"{json.dumps(key)}: {value}" for key, value in fields)
    return f"{before}{{{inner}}}{after}"


WHITESPACE = st.text(st.sampled_from(" \t\r\n"), max_size=2)
OBJECT_TEXT = st.builds(json_object, st.lists(st.tuples(KEY, VALUE), max_size=5), WHITESPACE, WHITESPACE)


def encoded(text: str, bom: bool) -> bytes:
    """UTF-8, as producers send; text holding a raw (unescaped) surrogate cannot be UTF-8 and goes as
    the invalid bytes a careless encoder writes."""
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass")


RECORD = st.one_of(
    st.builds(encoded, OBJECT_TEXT, st.just(False)),
    st.builds(encoded, OBJECT_TEXT, st.just(True)),
    st.builds(encoded, st.text(ANY_CHARACTER, max_size=20), st.booleans()),
    st.sampled_from(
        [b"", b" ", b"\r", b"\t\n", b"[]", b"42", b'"x"', b"\xff\xfe{}", b'{"id": "1"} {"id": "2"}']
    ),
    st.binary(max_size=24),
)
RECORDS = st.lists(RECORD, min_size=1, max_size=20)


# ---- what plain Python makes of them ----------------------------------------------------------------
def _no_constants(name: str) -> None:
    raise ValueError(name)


def _as_string(value: object) -> str:
    """A JSON value in a string column: strings as Parquet stores them (a lone surrogate as `?`, as
    Java's String.getBytes(UTF_8) in Firehose's writer does), other scalars as their JSON text."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def expected_rows(record: bytes) -> list[dict[str, object]] | None:
    """The rows Firehose's rules make of one record, or None if it is isolated."""
    try:
        text = record.decode("utf-8")
        documents = []
        decoder = json.JSONDecoder(parse_constant=_no_constants)
        position = len(text) - len(text.lstrip(" \t\r\n"))
        if position == len(text):
            return None  # an empty record
        while position < len(text):
            document, position = decoder.raw_decode(text, position)
            documents.append(document)
            position = len(text) - len(text[position:].lstrip(" \t\r\n"))
    except (UnicodeDecodeError, ValueError):
        return None
    rows = []
    for document in documents:
        if not isinstance(document, dict):
            return None
        row: dict[str, object] = dict.fromkeys(COLUMNS)
        for key, value in document.items():
            column = key.lower() if key.lower() in COLUMNS else None
            if column is None or value is None:
                continue
            if isinstance(value, dict | list):
                return None  # an object or array in a string column
            row[column] = _as_string(value)
        rows.append(row)
    return rows


# ---- reading back ---------------------------------------------------------------------------------
def check(records: list[bytes], summary: DeliverySummary, lake: Lake) -> None:
    """Reads back, with pyarrow and json, the objects the delivery wrote (in the order it wrote them,
    which is record order) and compares them with plain Python's reading of the records."""
    expected = [expected_rows(r) for r in records]
    rows = [r for key in summary.objects for r in pq.read_table(lake.path(key)).to_pylist()]
    raw = [
        base64.b64decode(json.loads(line)["rawData"])
        for key in summary.error_objects
        for line in lake.read_bytes(key).splitlines()
    ]
    assert summary.sent == len(records) == summary.delivered + summary.errors
    assert summary.errors == sum(e is None for e in expected)
    assert raw == [r for r, e in zip(records, expected, strict=True) if e is None], (
        "isolated with exact bytes"
    )
    assert rows == [row for e in expected if e is not None for row in e]
    assert summary.rows == len(rows)


# ---- the local delivery stream ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    home = tmp_path_factory.mktemp("properties") / "dw"
    return Runtime.from_settings(analytics_dw, dataclasses.replace(Settings.from_env({}), home=home))


HOURS: Iterator[int] = itertools.count()


@CI
@given(records=RECORDS, batches=st.integers(1, 3))
def test_deliver_keeps_every_record_and_reads_back_as_python_parses(
    local_runtime: Runtime, records: list[bytes], batches: int
) -> None:
    arrival = FIRST_HOUR + timedelta(hours=next(HOURS))  # a fresh hour folder per case
    summary = deliver(local_runtime, "impressions", records, arrival=arrival, batches=batches)
    check(records, summary, local_runtime.lake)


# A table of every type a column can have: timestamps in every ISO-8601 spelling, odd numbers.
TYPED = ServerlessDataWarehouse("typed_dw", is_dev=True).with_streaming_input_table(
    "typed",
    [("at", "timestamp"), ("n", "bigint"), ("i", "int"), ("x", "double"), ("ok", "boolean"), ("d", "date")],
)
# Times at the ends of what a timestamp holds: a zone or an epoch pushing them out of range.
TIME_EDGES = st.sampled_from(
    [
        '"9999-12-31T23:00:00-05:00"',
        '"0001-01-01T00:00:00+01:00"',
        '"9999-12-31T23:59:59.999999Z"',
        "253402300800000",
        "-62135596800001",
        "100000000000000000000",
        '"2026-02-30T00:00:00Z"',
        '"2026-03-01T24:00:00Z"',
    ]
)
TYPED_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "at": st.one_of(st.builds(string_value, EVENT_TIME, st.just(True)), NUMBER_TEXT, TIME_EDGES),
        "n": st.one_of(NUMBER_TEXT, st.builds(string_value, NUMBER_TEXT, st.just(True))),
        "i": NUMBER_TEXT,
        "x": st.one_of(NUMBER_TEXT, NOT_JSON_VALUES, st.builds(string_value, NUMBER_TEXT, st.just(True))),
        "ok": st.sampled_from(["true", "false", '"TRUE"', '"no"', "1", "null"]),
        "d": st.one_of(st.builds(string_value, EVENT_TIME, st.just(True)), VALUE),
    },
)


def expected_timestamp(value: object) -> datetime | None:
    """A JSON value in a timestamp column as plain Python reads it: ISO-8601 text (`Z` for UTC, a
    zone converted to UTC) or epoch milliseconds; Parquet keeps milliseconds."""
    if value is None:
        return None
    if isinstance(value, int):
        moment = datetime(1970, 1, 1) + timedelta(milliseconds=value)
    else:
        assert isinstance(value, str)
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        moment = parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@CI
@given(
    records=st.lists(
        TYPED_FIELDS.map(lambda f: encoded(json_object(list(f.items()), "", ""), False)), max_size=12
    )
)
def test_typed_columns_never_raise_and_reconcile(tmp_path: Path, records: list[bytes]) -> None:
    lake = Lake.local(tmp_path / f"typed-{uuid.uuid4()}")
    with LocalDeliveryStream(TYPED, TYPED.table("typed"), lake) as stream:
        stream.put_records(records, FIRST_HOUR)
    summary = stream.summary
    assert summary.sent == len(records) == summary.delivered + summary.errors
    rows = [r for key in summary.objects for r in pq.read_table(lake.path(key)).to_pylist()]
    isolated = [
        base64.b64decode(json.loads(line)["rawData"])
        for key in summary.error_objects
        for line in lake.read_bytes(key).splitlines()
    ]
    delivered = list(records)
    for record in isolated:  # what is left, in order, is what was delivered
        delivered.remove(record)
    assert len(rows) == len(delivered) == summary.delivered
    for record, row in zip(delivered, rows, strict=True):
        document = json.loads(record)
        assert row["at"] == expected_timestamp(document.get("at")), (record, row)
        assert row["x"] is None or isinstance(row["x"], float)
        assert row["n"] is None or -(2**63) <= row["n"] < 2**63


# ---- Firehose's part against a Kinesis emulator -----------------------------------------------------
@settings(CI, max_examples=30)
@given(records=st.lists(RECORD.filter(bool), min_size=1, max_size=10))
def test_drain_keeps_every_record_and_reads_back_as_python_parses(
    aws_endpoint: str, tmp_path: Path, records: list[bytes]
) -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    stream = f"properties-{uuid.uuid4().hex[:12]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.1})
    for record in records:  # one at a time: the shard keeps their order
        kinesis.put_record(StreamName=stream, Data=record, PartitionKey="p")
    lake_dir = tmp_path / stream
    delivery = LocalDeliveryStream(analytics_dw, analytics_dw.table("impressions"), Lake.local(lake_dir))
    report = drain_stream(kinesis, stream, delivery)
    assert report.records == len(records)
    check(records, report.summary, delivery.lake)
    again = drain_stream(
        kinesis,
        stream,
        LocalDeliveryStream(analytics_dw, analytics_dw.table("impressions"), Lake.local(lake_dir)),
    )
    assert again.records == 0, "the checkpoint was saved: nothing is delivered twice"
    kinesis.delete_stream(StreamName=stream)
