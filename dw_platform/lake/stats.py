"""What the lake holds: objects, bytes, rows (from Parquet footers or JSON lines) and error records."""

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable

import pyarrow.parquet as pq

from dw_platform.lake.layout import delivery_ledger_prefix, error_hour_folder, hour_folder
from dw_platform.lake.store import Lake, LakeObject


@dataclasses.dataclass(frozen=True)
class Ledger:
    """What the delivery stream was sent for an hour and what it made of it."""

    records: int
    errors: int
    rows: int


@dataclasses.dataclass(frozen=True)
class HourStats:
    inserted_at: str
    objects: int
    bytes: int
    rows: int
    error_objects: int
    error_records: int
    ledger: Ledger | None = None  # None where delivery keeps none (Firehose on AWS)

    @property
    def sent(self) -> int | None:
        return self.ledger.records if self.ledger else None

    @property
    def reconciled(self) -> bool | None:
        """sent = delivered + errors, with every delivered row visible and every error record in the
        error prefix. None without a ledger. A compaction that removes duplicates lowers visible rows."""
        if self.ledger is None:
            return None
        return self.ledger.rows == self.rows and self.ledger.errors == self.error_records

    @property
    def records(self) -> int:
        """Records sent (delivered or isolated, without a ledger)."""
        return self.sent if self.sent is not None else self.rows + self.error_records

    @property
    def error_rate(self) -> float:
        """Error records per record sent (per record delivered or isolated, without a ledger)."""
        return self.error_records / self.records if self.records else 0.0


def read_ledger(lake: Lake, table: str, inserted_at: str) -> Ledger | None:
    entries = lake.list_objects(delivery_ledger_prefix(table, inserted_at), include_hidden=True)
    if not entries:
        return None
    loaded = [json.loads(lake.read_bytes(e.key)) for e in entries]
    return Ledger(*(sum(e[field] for e in loaded) for field in ("records", "errors", "rows")))


def top_errors(lake: Lake, table: str, inserted_at: str, limit: int = 5) -> list[tuple[str, str, int]]:
    """The most frequent (error code, message) pairs of an hour's error records."""
    counted: Counter[tuple[str, str]] = Counter()
    for obj in lake.list_objects(error_hour_folder(table, inserted_at)):
        for line in lake.read_bytes(obj.key).splitlines():
            if line.strip():
                record = json.loads(line)
                counted[(record.get("errorCode", ""), record.get("errorMessage", ""))] += 1
    return [(code, message, count) for (code, message), count in counted.most_common(limit)]


def parquet_rows(lake: Lake, objects: Iterable[LakeObject]) -> int:
    """Row count from the footers only: no row data is read."""
    rows = 0
    for obj in objects:
        with lake.filesystem.open_input_file(lake.path(obj.key)) as handle:
            rows += pq.ParquetFile(handle).metadata.num_rows
    return rows


def json_lines(lake: Lake, objects: Iterable[LakeObject]) -> int:
    """Non-blank lines of JSON-lines objects (rows of a JSON table, or Firehose error records)."""
    return sum(sum(1 for line in lake.read_bytes(o.key).splitlines() if line.strip()) for o in objects)


def hour_stats(lake: Lake, table: str, inserted_at: str, location: str | None = None) -> HourStats:
    """What an hour holds at `location` (its registered one; the raw hour folder by default)."""
    objects = lake.list_objects(location or hour_folder(table, inserted_at))
    errors = lake.list_objects(error_hour_folder(table, inserted_at))
    return HourStats(
        inserted_at=inserted_at,
        objects=len(objects),
        bytes=sum(o.size for o in objects),
        rows=parquet_rows(lake, objects),
        error_objects=len(errors),
        error_records=json_lines(lake, errors),
        ledger=read_ledger(lake, table, inserted_at),
    )
