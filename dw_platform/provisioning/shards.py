"""Sizing a provisioned Kinesis stream from expected traffic.

A shard takes 1 MB/s and 1,000 records/s of writes; whichever bound is hit first decides. Packing
several events into one record trades the record bound for the byte bound.
"""

import math

from dw_platform.errors import UserInputError

SHARD_BYTES_PER_S = 1_000_000
SHARD_RECORDS_PER_S = 1_000
SECONDS_PER_DAY = 86_400


def shards_needed(
    events_per_day: float,
    event_bytes: int,
    *,
    peak_factor: float = 3.0,
    hash_skew: float = 1.25,
    events_per_record: int = 1,
) -> int:
    """Shards for the peak rate (`peak_factor` times the daily average), with headroom for partition
    keys that do not hash evenly (`hash_skew`)."""
    if events_per_day < 0 or event_bytes <= 0 or peak_factor < 1 or hash_skew < 1 or events_per_record < 1:
        raise UserInputError(
            "events_per_day >= 0, event_bytes > 0, peak_factor >= 1, hash_skew >= 1, events_per_record >= 1"
        )
    peak_events_per_s = events_per_day / SECONDS_PER_DAY * peak_factor
    by_records = peak_events_per_s / events_per_record / SHARD_RECORDS_PER_S
    by_bytes = peak_events_per_s * event_bytes / SHARD_BYTES_PER_S
    return max(1, math.ceil(max(by_records, by_bytes) * hash_skew))
