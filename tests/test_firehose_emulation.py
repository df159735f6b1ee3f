"""Kinesis -> (Firehose emulation: the local delivery code) -> S3 -> Glue -> query, on moto's server."""

from datetime import UTC, datetime

import boto3
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.conversion import RecordConverter, RecordRejected
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.firehose_emulation import drain_stream
from dw_platform.delivery.kinesis_producer import KinesisProducer, pack_events
from dw_platform.lake.stats import hour_stats
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import stream_name
from tests.aws_emulator import REGION

BUCKET = "acme-analytics-dw-data"


@pytest.fixture
def runtime(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("DW_PROFILE", "aws")
    monkeypatch.setenv("DW_DATA_BUCKET", BUCKET)
    monkeypatch.setenv("DW_QUERY_ENGINE", "duckdb")
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return Runtime.from_settings(analytics_dw, Settings.from_env())


def expected_outcome(records: list[bytes]) -> tuple[int, int]:
    """Rows and error records Firehose's conversion gives for these Kinesis records."""
    converter = RecordConverter(analytics_dw.table("clicks").columns)
    rows = errors = 0
    for record in records:
        try:
            rows += len(converter.convert(record))
        except RecordRejected:
            errors += 1
    return rows, errors


def test_events_put_into_kinesis_land_in_s3_and_are_queryable_exactly_once(runtime: Runtime) -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    stream = stream_name(analytics_dw.name, "clicks")
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    producer = KinesisProducer(kinesis, stream)
    events, _ = sample_events(900, datetime.now(UTC), malformed_ratio=0.05, seed=11)
    packed = pack_events(events[:600], 5)  # several events per record, as the producer packs them
    rows, errors = expected_outcome(packed + events[600:])
    assert errors >= 10
    producer.put_events(events[:600], events_per_record=5)
    producer.put_events(events[600:])

    first = drain_stream(kinesis, stream, runtime.delivery_stream("clicks"))
    assert first.records == len(packed) + 300
    assert (first.summary.rows, first.summary.errors) == (rows, errors)
    assert first.summary.delivered + first.summary.errors == first.records
    assert drain_stream(kinesis, stream, runtime.delivery_stream("clicks")).records == 0  # checkpointed

    hours = sorted({key.split("/", 1)[1].rsplit("/", 1)[0] for key in first.summary.objects})
    register_hours(runtime, "clicks", hours)
    in_list = ", ".join(f"'{h}'" for h in hours)
    counted = runtime.engine.query(f"SELECT count(*) AS n FROM clicks WHERE inserted_at IN ({in_list})")
    assert counted.table.to_pylist() == [{"n": rows}]
    assert sum(hour_stats(runtime.lake, "clicks", h).error_records for h in hours) == errors

    more, _ = sample_events(50, datetime.now(UTC), seed=12)
    producer.put_events(more)
    later = drain_stream(kinesis, stream, runtime.delivery_stream("clicks"))
    assert (later.records, later.summary.delivered, later.summary.rows) == (50, 50, 50)


def test_blank_events_are_never_packed_away() -> None:
    records = pack_events([b'{"id": "1"}', b"", b'{"id": "2"}', b"  "], 10)
    assert records == [b"", b"  ", b'{"id": "1"}\n{"id": "2"}']
    assert expected_outcome(records) == (2, 2)
