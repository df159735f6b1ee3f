"""Which of a replay's records are in the table's Kinesis stream already: a replay that stopped
between putting its records and committing them is finished by putting only the others. Records
are found by their partition key (the record id), from a little before the replay started."""

from collections.abc import Set
from datetime import datetime, timedelta
from typing import Any

# Kinesis's ApproximateArrivalTimestamp and this machine's clock may disagree a little.
CLOCK_MARGIN = timedelta(minutes=5)


def keys_in_stream(kinesis: Any, stream: str, since: datetime, wanted: Set[str]) -> set[str]:
    found: set[str] = set()
    if not wanted:
        return found
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream,
            ShardId=shard["ShardId"],
            ShardIteratorType="AT_TIMESTAMP",
            Timestamp=since - CLOCK_MARGIN,
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            found |= {r["PartitionKey"] for r in page["Records"]} & wanted
            if not page.get("MillisBehindLatest", 0):
                break  # at the shard's tip
            iterator = page.get("NextShardIterator")
    return found
