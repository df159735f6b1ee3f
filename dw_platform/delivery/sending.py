"""Sending events, as `dw send` and the event generator do: on the local profile through a table's
delivery stream into the lake; on AWS into the table's Kinesis stream, from which Firehose delivers
(or, against an emulator without Firehose delivery, `drain_streams` does)."""

from collections.abc import Callable, Sequence
from datetime import datetime

from dw_platform.delivery.firehose import DeliverySummary
from dw_platform.delivery.firehose_emulation import DrainReport, drain_stream
from dw_platform.delivery.kinesis_producer import KinesisProducer, PutSummary
from dw_platform.runtime.backends import Runtime


def deliver(
    runtime: Runtime,
    table: str,
    records: Sequence[bytes],
    *,
    arrival: datetime | None = None,
    batches: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> DeliverySummary:
    """Deliver `records` in `batches` consecutive flushes (one object each, if no size or interval
    limit splits them further); returns what was sent, delivered and isolated as errors."""
    if batches < 1:
        raise ValueError(f"batches must be at least 1, got {batches}")
    stream = runtime.delivery_stream(table)
    with stream:
        for index in range(batches):
            chunk = (
                records
                if batches == 1
                else records[index * len(records) // batches : (index + 1) * len(records) // batches]
            )
            stream.put_records(chunk, arrival)
            stream.flush()
            if on_progress:
                on_progress(len(chunk))
    return stream.summary


def put_to_stream(
    runtime: Runtime, table: str, events: Sequence[bytes], *, events_per_record: int = 1
) -> PutSummary:
    """PutRecords into the table's Kinesis stream: batches of at most 500 records / 5 MiB, refused
    entries re-sent with backoff (see KinesisProducer)."""
    runtime.warehouse.table(table)  # an unknown table is a KeyError naming the declared ones
    producer = KinesisProducer(runtime.kinesis, runtime.stream_name(table))
    return producer.put_events(events, events_per_record=events_per_record)


def drain_streams(runtime: Runtime, tables: Sequence[str]) -> dict[str, DrainReport]:
    """Firehose's part, for an AWS emulator: deliver what the tables' Kinesis streams received since
    the last drain into the lake, through the same conversion as the local profile."""
    return {
        table: drain_stream(runtime.kinesis, runtime.stream_name(table), runtime.delivery_stream(table))
        for table in tables
    }
