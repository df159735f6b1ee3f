"""The Kinesis producer against moto's server, through a proxy injecting throttling and partial
failures: every event is stored exactly once."""

import json
from collections import Counter
from datetime import UTC, datetime

import boto3
import pytest

from dw_platform.declaration.warehouse import Column
from dw_platform.delivery.conversion import RecordConverter
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.kinesis_producer import (
    MAX_BATCH_BYTES,
    MAX_RECORDS,
    KinesisProducer,
    KinesisPutError,
    PartialPut,
    _batches,
    pack_events,
)
from tests.aws_emulator import REGION
from tests.fault_proxy import FaultProxy

STREAM = "analytics_dw-clicks"


def stored_records(client) -> Counter:  # type: ignore[no-untyped-def]
    found: Counter = Counter()
    for shard in client.list_shards(StreamName=STREAM)["Shards"]:
        iterator = client.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10_000)
            found.update(r["Data"] for r in page["Records"])
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return found


@pytest.fixture
def stream(aws_endpoint: str):  # type: ignore[no-untyped-def]
    client = boto3.client("kinesis", region_name=REGION)
    client.create_stream(StreamName=STREAM, ShardCount=2)
    return client


def test_partial_failures_and_throttling_are_resent_without_loss_or_duplicates(
    stream, aws_endpoint: str
) -> None:  # type: ignore[no-untyped-def]
    events, _ = sample_events(1800, datetime(2026, 3, 1, 10, tzinfo=UTC), seed=1)
    delays: list[float] = []
    with FaultProxy(aws_endpoint, throttled_calls={2, 3}, entry_failure_ratio=0.3, seed=7) as proxy:
        client = boto3.client("kinesis", region_name=REGION, endpoint_url=proxy.endpoint)
        summary = KinesisProducer(client, STREAM, sleep=delays.append).put_events(events)
    assert proxy.refused_entries > 300 and summary.retried_entries == proxy.refused_entries
    # 4 batches of at most 500, plus re-sends; botocore's retry mode re-sends throttled calls too.
    assert proxy.put_calls >= summary.calls > 4
    assert delays and all(0 <= d <= 5.0 for d in delays)
    assert stored_records(stream) == Counter(events)


def test_packing_puts_several_events_per_record_that_firehose_unpacks(stream) -> None:  # type: ignore[no-untyped-def]
    events, _ = sample_events(250, datetime(2026, 3, 1, 10, tzinfo=UTC), seed=2)
    summary = KinesisProducer(stream, STREAM).put_events(events, events_per_record=10)
    assert (summary.events, summary.records) == (250, 25)
    converter = RecordConverter((Column("id"), Column("session_id"), Column("event_time")))
    unpacked = [
        row["id"] for record in stored_records(stream).elements() for row in converter.convert(record)
    ]
    assert sorted(unpacked) == sorted(json.loads(e)["id"] for e in events)


def test_refusal_after_every_attempt_is_a_clear_error(stream, aws_endpoint: str) -> None:  # type: ignore[no-untyped-def]
    with FaultProxy(aws_endpoint, throttled_calls=set(), entry_failure_ratio=1.0, seed=1) as proxy:
        client = boto3.client("kinesis", region_name=REGION, endpoint_url=proxy.endpoint)
        with pytest.raises(KinesisPutError, match=r"3 records were not accepted .* after 4 attempts"):
            KinesisProducer(client, STREAM, max_attempts=4, sleep=lambda _: None).put_events([b"{}"] * 3)


def test_batches_respect_the_record_count_and_byte_limits() -> None:
    small = [{"Data": b"x" * 100, "PartitionKey": "k"}] * 1201
    assert [len(b) for b in _batches(small)] == [MAX_RECORDS, MAX_RECORDS, 201]
    large = [{"Data": b"x" * (1024 * 1024 - 10), "PartitionKey": "k"}] * 11
    batches = _batches(large)
    assert all(sum(len(e["Data"]) + 1 for e in b) <= MAX_BATCH_BYTES for b in batches)
    assert sum(len(b) for b in batches) == 11
    assert len(pack_events([b"a" * 600_000, b"b" * 600_000], 10)) == 2  # never past 1 MiB per record


def test_a_put_failing_part_way_says_which_records_kinesis_stored(stream, aws_endpoint: str) -> None:  # type: ignore[no-untyped-def]
    events = [json.dumps({"id": str(i)}).encode() for i in range(600)]  # batches of 500 and 100
    with FaultProxy(aws_endpoint, entry_failure_ratio=0.5, seed=3) as proxy:
        client = boto3.client("kinesis", region_name=REGION, endpoint_url=proxy.endpoint)
        with pytest.raises(PartialPut) as raised:
            KinesisProducer(client, STREAM, max_attempts=1, sleep=lambda _: None).put_events(events)
    stored = stored_records(stream)
    assert 0 < len(stored) < 500 and set(stored) <= set(events[:500]) and max(stored.values()) == 1
    assert str(raised.value).startswith(
        f"stream {STREAM}: Kinesis stored {len(stored)} of 600 records ({len(stored)} of records 1-500); "
        "records 501-600 were not sent, then: "
    ), str(raised.value)
