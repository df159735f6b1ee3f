"""A Firehose stand-in for environments without Firehose (an emulator): drain a Kinesis stream's
shards into the lake through the same delivery code as the local profile.

Each record's Kinesis `ApproximateArrivalTimestamp` is its arrival time, so folders are decided as
Firehose decides them. Per-shard checkpoints (the last sequence number delivered) are written to
the lake under a hidden key after each flush, once the objects holding those records are written: a
crash in between re-delivers that flush's records (at-least-once, as Firehose is), never loses them,
and a drain failing part-way does not deliver its earlier flushes again.
"""

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

from dw_platform.delivery.firehose import DeliverySummary, LocalDeliveryStream
from dw_platform.lake.layout import FIREHOSE_CHECKPOINTS
from dw_platform.lake.store import Lake

CHECKPOINTS = FIREHOSE_CHECKPOINTS


@dataclasses.dataclass
class DrainReport:
    records: int
    summary: DeliverySummary


def _load(lake: Lake, stream: str) -> dict[str, str]:
    key = CHECKPOINTS.format(stream=stream)
    return json.loads(lake.read_bytes(key)) if lake.exists(key) else {}


def drain_stream(
    kinesis: Any,
    stream_name: str,
    delivery: LocalDeliveryStream,
    *,
    page_limit: int = 10_000,
    on_progress: Callable[[int], None] | None = None,
) -> DrainReport:
    """Deliver every record added to `stream_name` since the last drain; `on_progress(records)` after
    each page read."""
    lake = delivery.lake
    checkpoints = _load(lake, stream_name)
    records = 0
    with delivery:
        for shard in kinesis.list_shards(StreamName=stream_name)["Shards"]:
            shard_id = shard["ShardId"]
            after = checkpoints.get(shard_id)
            position = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard_id, **position)[
                "ShardIterator"
            ]
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=page_limit)
                for record in page["Records"]:
                    handled = delivery.summary.delivered + delivery.summary.errors
                    delivery.put(record["Data"], record["ApproximateArrivalTimestamp"].astimezone(UTC))
                    if delivery.summary.delivered + delivery.summary.errors != handled:
                        # The put flushed every record before this one: remember how far that is, so
                        # that a drain failing later does not deliver those again.
                        _save(lake, stream_name, checkpoints)
                    checkpoints[shard_id] = record["SequenceNumber"]
                    records += 1
                if on_progress and page["Records"]:
                    on_progress(len(page["Records"]))
                if not page["Records"] or not page.get("MillisBehindLatest", 1):
                    break
                iterator = page.get("NextShardIterator")
    # The `with` block flushed every buffered record: only now is the position safe to remember.
    _save(lake, stream_name, checkpoints)
    return DrainReport(records, delivery.summary)


def _save(lake: Lake, stream: str, checkpoints: dict[str, str]) -> None:
    lake.put_bytes(CHECKPOINTS.format(stream=stream), json.dumps(checkpoints, sort_keys=True).encode())
