"""Putting events into a Kinesis stream: PutRecords in batches of at most 500 records and 5 MiB.

A PutRecords call can succeed (HTTP 200) while some of its entries failed with
`ProvisionedThroughputExceededException` or `InternalFailure`: only those entries are sent again,
with jittered exponential backoff, so nothing is lost or duplicated. A throttled call as a whole is
first retried by botocore's own retry mode, then by this loop the same way. After `max_attempts`
the error says how many events were not accepted.

Packing several events into one record (concatenated JSON documents, which Firehose's conversion
accepts) makes a high-volume stream byte-bound instead of record-bound: fewer shards. The price:
Firehose rejects a packed record whole, so one malformed event sends its record's other events to
the error prefix with it (isolated with the reason, not lost). A blank event is never packed: joined
to others it would read as whitespace and vanish, alone it becomes an error record.
"""

import dataclasses
import random
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from dw_platform.delivery.conversion import MAX_RECORD_BYTES as FIREHOSE_RECORD_BYTES
from dw_platform.errors import DwError

MAX_RECORDS = 500
MAX_BATCH_BYTES = 5 * 1024 * 1024
# Packed records stay within what Firehose takes per record (1,000 KiB), below Kinesis's 1 MiB.
MAX_RECORD_BYTES = FIREHOSE_RECORD_BYTES
RETRYABLE_CALL_ERRORS = ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalFailure")


class KinesisPutError(DwError):
    """Some events were still refused after every attempt."""

    def __init__(self, message: str, accepted: int = 0) -> None:
        super().__init__(message)
        self.accepted = accepted  # entries of the failing batch Kinesis did store


class PartialPut(DwError):
    """A put that failed after Kinesis stored some of the records: says exactly which, so that only
    the others are sent again (sending them all again would store the first ones twice)."""

    def __init__(
        self, stream: str, records: int, before: int, batch: int, in_batch: int, cause: BaseException
    ) -> None:
        self.before, self.batch, self.in_batch = before, batch, in_batch
        stored = before + in_batch
        parts = [f"records 1-{before:,}"] if before else []
        parts.append(f"{in_batch:,} of records {before + 1:,}-{before + batch:,}")
        which = " and ".join(parts)
        rest = (
            f"; records {before + batch + 1:,}-{records:,} were not sent" if before + batch < records else ""
        )
        super().__init__(
            f"stream {stream}: Kinesis stored {stored:,} of {records:,} records ({which}){rest}, "
            f"then: {cause}"
        )


@dataclasses.dataclass
class PutSummary:
    events: int = 0
    records: int = 0
    calls: int = 0
    retried_entries: int = 0


def pack_events(events: Sequence[bytes], per_record: int) -> list[bytes]:
    """Concatenate up to `per_record` JSON events per record, never past Firehose's record size."""
    records: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for event in events:
        if not event.strip():
            records.append(event)
            continue
        if current and (len(current) == per_record or size + len(event) + 1 > MAX_RECORD_BYTES):
            records.append(b"\n".join(current))
            current, size = [], 0
        current.append(event)
        size += len(event) + 1
    if current:
        records.append(b"\n".join(current))
    return records


def _batches(entries: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        entry_size = len(entry["Data"]) + len(entry["PartitionKey"].encode())
        if current and (len(current) == MAX_RECORDS or size + entry_size > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    if current:
        batches.append(current)
    return batches


@dataclasses.dataclass
class KinesisProducer:
    client: Any
    stream_name: str
    max_attempts: int = 8
    base_delay_s: float = 0.05
    max_delay_s: float = 5.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = dataclasses.field(default_factory=random.Random)

    def put_events(
        self,
        events: Sequence[bytes],
        *,
        events_per_record: int = 1,
        on_progress: Callable[[int], None] | None = None,
        partition_keys: Sequence[str] | None = None,
    ) -> PutSummary:
        """Put every event; `on_progress(n)` after each accepted batch, n its share of the events.
        `partition_keys` (one per event, unpacked only): keys a reader of the stream can find the
        records by again (dw replay's record ids); random ones by default."""
        records = pack_events(events, events_per_record) if events_per_record > 1 else list(events)
        if partition_keys is not None and len(partition_keys) != len(records):
            raise ValueError("partition_keys needs one key per record (and no packing)")
        keys = partition_keys or [uuid.uuid4().hex for _ in records]
        summary = PutSummary(events=len(events), records=len(records))
        entries = [{"Data": record, "PartitionKey": key} for record, key in zip(records, keys, strict=True)]
        put = reported = 0  # records put, events reported (packed records: in proportion)
        for batch in _batches(entries):
            try:
                self._put_batch(batch, summary)
            except Exception as error:
                in_batch = error.accepted if isinstance(error, KinesisPutError) else 0
                if not put and not in_batch:
                    raise  # nothing was stored: the error as it is
                raise PartialPut(self.stream_name, len(records), put, len(batch), in_batch, error) from error
            put += len(batch)
            if on_progress:
                done = len(events) * put // len(records)
                on_progress(done - reported)
                reported = done
        return summary

    def _backoff(self, attempt: int) -> None:
        # "Full jitter": a random delay up to an exponentially growing cap spreads retries out.
        self.sleep(self.rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt)))

    def _put_batch(self, batch: list[dict[str, Any]], summary: PutSummary) -> None:
        from botocore.exceptions import ClientError  # here: importing sending must not cost botocore

        pending = batch
        for attempt in range(self.max_attempts):
            summary.calls += 1
            try:
                response = self.client.put_records(StreamName=self.stream_name, Records=pending)
            except ClientError as error:
                if error.response["Error"]["Code"] not in RETRYABLE_CALL_ERRORS:
                    if len(pending) < len(batch):  # some of the batch is stored already
                        raise KinesisPutError(str(error), len(batch) - len(pending)) from error
                    raise
                self._backoff(attempt)
                continue
            failed = [
                entry
                for entry, result in zip(pending, response["Records"], strict=True)
                if "ErrorCode" in result
            ]
            if not failed:
                return
            summary.retried_entries += len(failed)
            pending = failed
            self._backoff(attempt)
        raise KinesisPutError(
            f"{len(pending)} records were not accepted by stream {self.stream_name!r} "
            f"after {self.max_attempts} attempts",
            len(batch) - len(pending),
        )
