"""A Kinesis + Firehose stand-in that writes exactly what the real pair writes to S3.

Records are buffered and flushed by size or interval, whichever comes first, into one Parquet
object per flush (plus one error object when some records failed conversion). The arrival hour
of the oldest record in a flush decides the folder of its objects. Arrival times can be given
explicitly to simulate past hours. Every record ends up as rows of a data object or as an error
record: `delivered + errors == sent` always holds.
"""

import base64
import bisect
import dataclasses
import itertools
import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from dw_platform.declaration.column_types import ARROW_TYPES
from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.delivery.batch_conversion import BatchConverter
from dw_platform.delivery.conversion import RecordConverter, RecordRejected
from dw_platform.delivery.streams import stream_name
from dw_platform.errors import PreconditionError
from dw_platform.lake.hours import inserted_at
from dw_platform.lake.layout import data_object, delivery_ledger_entry, error_object, firehose_object_name
from dw_platform.lake.store import Lake


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclasses.dataclass
class DeliverySummary:
    table: str
    sent: int = 0
    delivered: int = 0
    errors: int = 0
    rows: int = 0
    objects: list[str] = dataclasses.field(default_factory=list)
    error_objects: list[str] = dataclasses.field(default_factory=list)
    bytes_written: int = 0

    def as_json(self) -> dict[str, object]:
        """The summary `dw send --json` prints."""
        return {
            "table": self.table,
            "sent": self.sent,
            "delivered": self.delivered,
            "errors": self.errors,
            "objects": len(self.objects),
        }


class LocalDeliveryStream:
    """One table's delivery stream. Use as a context manager so the last buffer is flushed."""

    def __init__(
        self,
        warehouse: ServerlessDataWarehouse,
        table: TableSpec,
        lake: Lake,
        *,
        region: str = "local",
        stack: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if table.streaming is None:
            raise PreconditionError(f"table {table.name!r} is not a streaming table")
        self.warehouse = warehouse
        self.table = table
        self.lake = lake
        self.region = region
        self.clock = clock
        # The stack names the stream and the database (the default stack: the warehouse).
        self.database = stack or warehouse.name
        self.stream_name = stream_name(self.database, table.name)
        self.flush_interval = timedelta(seconds=table.streaming.flush_interval_s)
        self.buffer_limit = table.streaming.buffer_size_mib * 1024 * 1024
        self.summary = DeliverySummary(table.name)
        schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in table.columns])
        self._converter = BatchConverter(RecordConverter(table.columns), schema)
        # The buffer: the records, and their arrival times as runs (arrival, records in the run), since
        # records arrive in batches. A record's sequence number is the buffer's first plus its index.
        self._data: list[bytes] = []
        self._arrival_runs: list[tuple[datetime, int]] = []
        self._buffer_bytes = 0
        self._first_sequence = 1
        # A re-delivery (dw replay) names its objects after this token, so delivering the same records
        # again rewrites the same objects instead of adding copies; `ledger_note` goes into each of
        # their ledger entries.
        self.object_token: uuid.UUID | None = None
        self.ledger_note: dict[str, object] = {}
        self._flushes = 0

    def __enter__(self) -> "LocalDeliveryStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    def put_records(self, records: Iterable[bytes], arrival: datetime | None = None) -> None:
        """Buffer records that arrive together; with no arrival time, each is stamped as it comes."""
        if arrival is None:
            for record in records:
                self.put(record)
            return
        moment = _utc(arrival)
        pending = records if isinstance(records, list) else list(records)
        if self._data and moment - self._oldest_arrival() >= self.flush_interval:
            self.flush()
        size = sum(map(len, pending))
        if self._buffer_bytes + size <= self.buffer_limit:  # the usual case: all of them fit
            if pending:
                self._append(pending, moment, size)
            return
        ends = list(itertools.accumulate(map(len, pending)))  # bytes up to and including each record
        start = 0
        while start < len(pending):
            if self._data and moment - self._oldest_arrival() >= self.flush_interval:
                self.flush()
            # As many as fit beside what is buffered (at least one into an empty buffer).
            before = ends[start - 1] if start else 0
            stop = bisect.bisect_right(ends, before + self.buffer_limit - self._buffer_bytes, lo=start)
            stop = max(stop, start if self._data else start + 1)
            if stop > start:
                self._append(pending[start:stop], moment, ends[stop - 1] - before)
                start = stop
            if start < len(pending):
                self.flush()

    def put(self, record: bytes, arrival: datetime | None = None) -> None:
        moment = _utc(arrival or self.clock())
        if self._data and (
            moment - self._oldest_arrival() >= self.flush_interval
            or self._buffer_bytes + len(record) > self.buffer_limit
        ):
            self.flush()
        self._append([record], moment, len(record))

    def _oldest_arrival(self) -> datetime:
        return min(moment for moment, _ in self._arrival_runs)

    def _append(self, records: list[bytes], moment: datetime, size: int) -> None:
        self._data += records
        if self._arrival_runs and self._arrival_runs[-1][0] == moment:
            self._arrival_runs[-1] = (moment, self._arrival_runs[-1][1] + len(records))
        else:
            self._arrival_runs.append((moment, len(records)))
        self._buffer_bytes += size
        self.summary.sent += len(records)

    def flush(self) -> None:
        """Deliver the buffer as one data object (and one error object if any record failed)."""
        if not self._data:
            return
        batch, runs, first_sequence = self._data, self._arrival_runs, self._first_sequence
        oldest = self._oldest_arrival()
        self._data, self._arrival_runs, self._buffer_bytes = [], [], 0
        self._first_sequence += len(batch)
        hour = inserted_at(oldest)
        rows, rejected = self._converter.convert(batch)
        run_ends = list(itertools.accumulate(count for _, count in runs))
        failures = [
            self._error_record(batch[i], arrival, first_sequence + i, reason)
            for i, reason in rejected
            for arrival in [runs[bisect.bisect_right(run_ends, i)][0]]
        ]
        token = uuid.uuid5(self.object_token, str(self._flushes)) if self.object_token else None
        self._flushes += 1
        name = firehose_object_name(self.stream_name, oldest, token)
        if rows.num_rows:
            key = data_object(self.table.name, hour, name)
            size = self.lake.write_parquet(key, rows)
            self.summary.objects.append(key)
            self.summary.bytes_written += size
        if failures:
            key = error_object(self.table.name, hour, name)
            payload = "".join(json.dumps(f, separators=(",", ":")) + "\n" for f in failures).encode()
            self.lake.put_bytes(key, payload)
            self.summary.error_objects.append(key)
            self.summary.bytes_written += len(payload)
        # The ledger entry comes last: one that exists vouches for the objects above.
        entry = {"records": len(batch), "errors": len(failures), "rows": rows.num_rows, **self.ledger_note}
        self.lake.put_bytes(delivery_ledger_entry(self.table.name, hour, name), json.dumps(entry).encode())
        self.summary.delivered += len(batch) - len(failures)
        self.summary.errors += len(failures)
        self.summary.rows += rows.num_rows

    def _error_record(self, data: bytes, arrival: datetime, sequence: int, rejected: RecordRejected) -> dict:
        return {
            "attemptsMade": 1,
            "arrivalTimestamp": _epoch_ms(arrival),
            "errorCode": rejected.code,
            "errorMessage": rejected.message,
            "attemptEndingTimestamp": _epoch_ms(self.clock()),
            "rawData": base64.b64encode(data).decode("ascii"),
            "sequenceNumber": f"{_epoch_ms(arrival):020d}{sequence:010d}",
            "subSequenceNumber": 0,
            "dataCatalogTable": {
                "catalogId": None,
                "databaseName": self.database,
                "tableName": self.table.name,
                "region": self.region,
                "versionId": "LATEST",
                "catalogArn": None,
            },
        }
