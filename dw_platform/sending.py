"""Sending events through a table's delivery stream, as `dw send` and the event generator do."""

from collections.abc import Callable, Sequence
from datetime import datetime

from dw_platform.delivery.firehose import DeliverySummary
from dw_platform.runtime import Runtime


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
            chunk = records[index * len(records) // batches : (index + 1) * len(records) // batches]
            stream.put_records(chunk, arrival)
            stream.flush()
            if on_progress:
                on_progress(len(chunk))
    return stream.summary
