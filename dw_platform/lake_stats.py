"""What an hour of a streaming table holds: objects, bytes, rows and error records."""

import dataclasses

import pyarrow.parquet as pq

from dw_platform.delivery.firehose import error_prefix
from dw_platform.lake import Lake


@dataclasses.dataclass(frozen=True)
class HourStats:
    inserted_at: str
    objects: int
    bytes: int
    rows: int
    error_objects: int
    error_records: int


def hour_stats(lake: Lake, table: str, inserted_at: str) -> HourStats:
    """Counts from object listings, Parquet footers and error objects (no row data is read)."""
    objects = lake.list_objects(f"{table}/{inserted_at}/")
    rows = 0
    for obj in objects:
        with lake.filesystem.open_input_file(lake.path(obj.key)) as handle:
            rows += pq.ParquetFile(handle).metadata.num_rows
    errors = lake.list_objects(f"{error_prefix(table)}{inserted_at}/")
    error_records = sum(lake.read_bytes(e.key).count(b"\n") for e in errors)
    return HourStats(
        inserted_at=inserted_at,
        objects=len(objects),
        bytes=sum(o.size for o in objects),
        rows=rows,
        error_objects=len(errors),
        error_records=error_records,
    )
