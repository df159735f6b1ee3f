"""What the lake holds: objects, bytes, rows (from Parquet footers or JSON lines) and error records."""

import dataclasses
from collections.abc import Iterable

import pyarrow.parquet as pq

from dw_platform.delivery.firehose import error_prefix
from dw_platform.lake import Lake, LakeObject, hour_folder


@dataclasses.dataclass(frozen=True)
class HourStats:
    inserted_at: str
    objects: int
    bytes: int
    rows: int
    error_objects: int
    error_records: int


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
    errors = lake.list_objects(f"{error_prefix(table)}{inserted_at}/")
    return HourStats(
        inserted_at=inserted_at,
        objects=len(objects),
        bytes=sum(o.size for o in objects),
        rows=parquet_rows(lake, objects),
        error_objects=len(errors),
        error_records=json_lines(lake, errors),
    )
