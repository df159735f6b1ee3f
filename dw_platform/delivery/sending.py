"""Sending events, as `dw send`, `dw replay` and the event generator do, through the runtime's event
sink: on the local profile a table's delivery stream converts and writes them into the lake; on AWS
they go into the table's Kinesis stream, from which Firehose delivers (or, against an emulator
without Firehose delivery, `drain` does)."""

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.delivery.firehose import DeliverySummary, LocalDeliveryStream
from dw_platform.delivery.firehose_emulation import DrainReport, drain_stream
from dw_platform.delivery.kinesis_producer import KinesisProducer, PutSummary
from dw_platform.errors import DwError, PreconditionError, UserInputError


def _count(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 object`, `2 objects`, `10,000 events`."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


@dataclasses.dataclass(frozen=True)
class SendReport:
    """What one send did, in the words of the sink that did it."""

    table: str
    events: int
    line: str  # the one line `dw send` prints
    details: dict[str, object]  # what `dw send --json` prints
    delivery: DeliverySummary | None = None  # local profile: what reached the lake at once


class EventSink(Protocol):
    """Where events for the warehouse's streaming tables go."""

    # Whether the sender decides arrival times and flushes (the local delivery stream) or the
    # service stamps them (Kinesis).
    controls_arrival: bool

    def send(
        self,
        table: str,
        records: Sequence[bytes],
        *,
        arrival: datetime | None = None,
        batches: int = 1,
        events_per_record: int = 1,
        on_progress: Callable[[int], None] | None = None,
    ) -> SendReport: ...

    def drain(
        self, tables: Sequence[str], on_progress: Callable[[int], None] | None = None
    ) -> dict[str, DrainReport]:
        """Firehose's part against an emulator: deliver what the streams received since the last
        drain; `on_progress(records)` after each page read."""
        ...


class DeliveryStreamSink:
    """The local profile: each table's delivery stream converts and writes into the lake at once."""

    controls_arrival = True

    def __init__(self, delivery_stream: Callable[[str], LocalDeliveryStream]) -> None:
        self._delivery_stream = delivery_stream

    def send(
        self,
        table: str,
        records: Sequence[bytes],
        *,
        arrival: datetime | None = None,
        batches: int = 1,
        events_per_record: int = 1,
        on_progress: Callable[[int], None] | None = None,
    ) -> SendReport:
        summary = deliver_to(self._delivery_stream(table), records, arrival, batches, on_progress)
        counts = f"sent {summary.sent:,}, delivered {summary.delivered:,}, errors {summary.errors:,}"
        return SendReport(
            table,
            summary.sent,
            f"{table}: {counts}, in {_count(len(summary.objects), 'object')}",
            summary.as_json(),
            summary,
        )

    def drain(
        self, tables: Sequence[str], on_progress: Callable[[int], None] | None = None
    ) -> dict[str, DrainReport]:
        raise UserInputError("drain emulates Firehose on the AWS profile (DW_PROFILE=aws with an emulator)")


class KinesisSink:
    """The AWS profile: PutRecords into each table's Kinesis stream; Firehose converts and delivers."""

    controls_arrival = False

    def __init__(
        self,
        kinesis: Any,
        stream_name: Callable[[str], str],
        delivery_stream: Callable[[str], LocalDeliveryStream],
    ) -> None:
        self._kinesis = kinesis
        self._stream_name = stream_name
        self._delivery_stream = delivery_stream

    def send(
        self,
        table: str,
        records: Sequence[bytes],
        *,
        arrival: datetime | None = None,
        batches: int = 1,
        events_per_record: int = 1,
        on_progress: Callable[[int], None] | None = None,
    ) -> SendReport:
        if arrival is not None or batches != 1:
            raise UserInputError(
                "--arrival and --batches are for the local profile: on AWS, Kinesis stamps the arrival"
            )
        stream = self._stream_name(table)
        put: PutSummary = KinesisProducer(self._kinesis, stream).put_events(
            records, events_per_record=events_per_record, on_progress=on_progress
        )
        calls, resent = _count(put.calls, "call"), _count(put.retried_entries, "entry", "entries")
        return SendReport(
            table,
            put.events,
            f"{table}: put {_count(put.events, 'event')} in {_count(put.records, 'record')} into Kinesis "
            f"stream {stream} ({calls}, {resent} re-sent); Firehose delivers them",
            {"stream": stream, **dataclasses.asdict(put)},
        )

    def drain(
        self, tables: Sequence[str], on_progress: Callable[[int], None] | None = None
    ) -> dict[str, DrainReport]:
        return {
            table: drain_stream(
                self._kinesis,
                self._stream_name(table),
                self._delivery_stream(table),
                on_progress=on_progress,
            )
            for table in tables
        }


def deliver_to(
    stream: LocalDeliveryStream,
    records: Sequence[bytes],
    arrival: datetime | None = None,
    batches: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> DeliverySummary:
    """Deliver `records` in `batches` consecutive flushes (one object each, if no size or interval
    limit splits them further); returns what was sent, delivered and isolated as errors."""
    if batches < 1:
        raise UserInputError(f"batches must be at least 1, got {batches}")
    try:
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
    except Exception as error:
        summary = stream.summary
        if summary.delivered + summary.errors == 0:
            raise  # nothing was delivered: the error as it is
        raise PartialDelivery(summary, len(records), error) from error
    return stream.summary


class PartialDelivery(DwError):
    """A delivery that failed after some of its flushes were written: says exactly which records
    reached the lake (the first `handled`, delivered or isolated) and which did not, so that only
    those are sent again (a send is new events, as a PutRecords is: sending them all again would
    deliver the first ones twice)."""

    def __init__(self, summary: DeliverySummary, total: int, cause: BaseException) -> None:
        self.summary = summary
        self.total = total
        self.handled = summary.delivered + summary.errors
        reason = str(cause) or type(cause).__name__
        super().__init__(
            f"{summary.table}: delivered {summary.delivered:,} and isolated {summary.errors:,} of "
            f"{total:,} records (the first {self.handled:,}) in {_count(len(summary.objects), 'object')}, "
            f"then failed: {reason}; the last {total - self.handled:,} were not delivered: "
            "send only those again"
        )


class DeliveryRuntime(Protocol):
    """What sending needs of a runtime (runtime.backends.Runtime is one): the declaration, each
    table's local delivery stream, and on AWS the Kinesis client, stream names and event sink."""

    @property
    def warehouse(self) -> ServerlessDataWarehouse: ...

    @property
    def aws_region(self) -> str | None: ...

    @property
    def kinesis(self) -> Any: ...  # a boto3 client (boto3 has no types of its own)

    @property
    def events(self) -> EventSink: ...

    def stream_name(self, table: str) -> str: ...

    def delivery_stream(self, table: str) -> LocalDeliveryStream: ...


def deliver(
    runtime: DeliveryRuntime,
    table: str,
    records: Sequence[bytes],
    *,
    arrival: datetime | None = None,
    batches: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> DeliverySummary:
    """Deliver straight through the table's delivery stream into the lake, whatever the profile
    (the local Firehose; tests and the emulator's drain use it on AWS too)."""
    return deliver_to(runtime.delivery_stream(table), records, arrival, batches, on_progress)


def put_to_stream(
    runtime: DeliveryRuntime, table: str, events: Sequence[bytes], *, events_per_record: int = 1
) -> PutSummary:
    """PutRecords into the table's Kinesis stream: batches of at most 500 records / 5 MiB, refused
    entries re-sent with backoff (see KinesisProducer)."""
    runtime.warehouse.table(table)  # an unknown table is a KeyError naming the declared ones
    if runtime.aws_region is None:
        raise PreconditionError("the local profile has no Kinesis; events go to its delivery streams")
    producer = KinesisProducer(runtime.kinesis, runtime.stream_name(table))
    return producer.put_events(events, events_per_record=events_per_record)


def drain_streams(runtime: DeliveryRuntime, tables: Sequence[str]) -> dict[str, DrainReport]:
    """Firehose's part, for an AWS emulator (see EventSink.drain)."""
    return runtime.events.drain(tables)
