import base64
import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq

from dw_platform.delivery.events import MALFORMED_VARIANTS, sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.runtime.backends import Runtime

T0 = datetime(2026, 3, 1, 10, 59, 30, tzinfo=UTC)


def read_rows(runtime: Runtime, keys: list[str]) -> int:
    return sum(pq.read_table(runtime.lake.path(k)).num_rows for k in keys)


def test_flush_by_interval_and_oldest_record_decides_the_folder(runtime: Runtime) -> None:
    stream = runtime.delivery_stream("impressions")  # dev warehouse: 60 s flush interval
    records, _ = sample_events(200, T0, seed=1)
    with stream:
        for index, record in enumerate(records):
            stream.put(record, T0 + timedelta(seconds=index * 0.5))  # 10:59:30 .. 11:01:09.5
    keys = stream.summary.objects
    assert len(keys) == 2
    # The first object spans 10:59:30-11:00:29.5 and still lands entirely in hour 10.
    assert keys[0].startswith("impressions/2026/03/01/10/analytics_dw-impressions-1-2026-03-01-10-59-30-")
    assert keys[1].startswith("impressions/2026/03/01/11/analytics_dw-impressions-1-2026-03-01-11-00-30-")
    assert keys[0].endswith(".parquet")
    assert read_rows(runtime, keys) == 200


def test_flush_by_size(runtime: Runtime) -> None:
    stream = runtime.delivery_stream("clicks")
    stream.buffer_limit = 10_000  # a small buffer makes the size trigger observable
    records, _ = sample_events(500, T0, seed=2)
    with stream:
        stream.put_records(records, T0)
    assert len(stream.summary.objects) == -(-sum(len(r) for r in records) // 10_000)
    assert read_rows(runtime, stream.summary.objects) == 500


def test_errors_are_isolated_with_firehose_fields_and_nothing_is_lost(runtime: Runtime) -> None:
    records, malformed = sample_events(1000, T0, malformed_ratio=0.1, seed=3)
    summary = deliver(runtime, "clicks", records, arrival=T0, batches=4)
    assert (
        (summary.sent, summary.delivered, summary.errors) == (1000, 900, 100) == (1000, 1000 - malformed, 100)
    )
    assert len(summary.objects) == 4 and len(summary.error_objects) == 4
    assert read_rows(runtime, summary.objects) == 900
    errors = [
        json.loads(line)
        for key in summary.error_objects
        for line in runtime.lake.read_bytes(key).decode().splitlines()
    ]
    assert len(errors) == 100
    assert all(
        k.startswith("errors/clicks/format-conversion-failed/2026/03/01/10/") for k in summary.error_objects
    )
    # Exactly the malformed records sent, each once, are in the error objects.
    sent_malformed = Counter(r for r in records if r.decode() in MALFORMED_VARIANTS)
    assert Counter(base64.b64decode(e["rawData"]) for e in errors) == sent_malformed
    for error in errors:
        assert set(error) >= {
            "attemptsMade",
            "arrivalTimestamp",
            "errorCode",
            "errorMessage",
            "rawData",
            "sequenceNumber",
            "dataCatalogTable",
        }
        assert error["arrivalTimestamp"] == int(T0.timestamp() * 1000)
        assert error["errorCode"].startswith("DataFormatConversion.")
        assert error["dataCatalogTable"]["tableName"] == "clicks"
        assert base64.b64decode(error["rawData"]) in records


def test_no_object_is_visible_half_written(runtime: Runtime) -> None:
    records, _ = sample_events(50, T0, seed=4)
    summary = deliver(runtime, "impressions", records, arrival=T0)
    folder = runtime.lake.path("impressions/2026/03/01/10")
    assert sorted(os.listdir(folder)) == [summary.objects[0].rsplit("/", 1)[1]]  # no temporary left behind


def test_each_error_record_keeps_its_own_arrival_and_sequence_number(runtime: Runtime) -> None:
    """Records of one flush that arrived at different times (the buffer keeps arrivals as runs)."""
    stream = runtime.delivery_stream("clicks")
    arrivals = [T0, T0 + timedelta(seconds=5), T0 + timedelta(seconds=9)]
    with stream:
        for second, moment in enumerate(arrivals):
            good, _ = sample_events(3, T0, seed=second)
            stream.put_records([*good, f"broken {second}".encode()], moment)
        stream.put(b"broken single", T0 + timedelta(seconds=20))
    assert len(stream.summary.objects) == 1 and stream.summary.errors == 4
    errors = [
        json.loads(line) for line in runtime.lake.read_bytes(stream.summary.error_objects[0]).splitlines()
    ]
    by_data = {base64.b64decode(e["rawData"]): e for e in errors}
    expected = {
        b"broken 0": (arrivals[0], 4),
        b"broken 1": (arrivals[1], 8),
        b"broken 2": (arrivals[2], 12),
        b"broken single": (T0 + timedelta(seconds=20), 13),
    }
    for data, (moment, sequence) in expected.items():
        assert by_data[data]["arrivalTimestamp"] == int(moment.timestamp() * 1000)
        assert by_data[data]["sequenceNumber"] == f"{int(moment.timestamp() * 1000):020d}{sequence:010d}"
