"""Kinesis -> (Firehose emulation: the local delivery code) -> S3 -> Glue -> query, on moto's server."""

import errno
import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.conversion import RecordConverter, RecordRejected
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.firehose import LocalDeliveryStream
from dw_platform.delivery.firehose_emulation import drain_stream
from dw_platform.delivery.kinesis_producer import KinesisProducer, pack_events
from dw_platform.delivery.streams import stream_name
from dw_platform.lake.stats import hour_stats
from dw_platform.lake.store import Lake
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
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


class DiskFullAt(Lake):
    """A local lake whose `fail_at`-th Parquet write finds the disk full (then works again)."""

    def __init__(self, directory: Path, fail_at: int) -> None:
        base = Lake.local(directory)
        super().__init__(base.filesystem, base.base, base.uri_base)
        self.fail_at, self.writes = fail_at, 0

    def write_parquet(self, key: str, table: pa.Table, **options: object) -> int:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError(errno.ENOSPC, "No space left on device", key)
        return super().write_parquet(key, table, **options)  # type: ignore[arg-type]


def test_a_drain_failing_part_way_does_not_deliver_its_earlier_flushes_again(
    aws_endpoint: str, tmp_path: Path
) -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    stream = "analytics_dw-partway"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    events = [json.dumps({"id": f"e{i}", "session_id": "s", "event_time": "t"}).encode() for i in range(40)]
    KinesisProducer(kinesis, stream).put_events(events)
    table = analytics_dw.table("impressions")

    def delivery(lake: Lake) -> LocalDeliveryStream:
        stream_ = LocalDeliveryStream(analytics_dw, table, lake)
        stream_.buffer_limit = 10 * len(events[0])  # a flush about every 10 records
        return stream_

    with pytest.raises(OSError, match="No space left"):
        drain_stream(kinesis, stream, delivery(DiskFullAt(tmp_path / "lake", fail_at=3)))
    second = drain_stream(kinesis, stream, delivery(Lake.local(tmp_path / "lake")))
    assert 0 < second.records < len(events), "the second drain starts after the flushes the first wrote"
    rows = [
        r["id"] for p in sorted((tmp_path / "lake").rglob("*.parquet")) for r in pq.read_table(p).to_pylist()
    ]
    assert sorted(rows) == sorted(json.loads(e)["id"] for e in events), "every event exactly once"
