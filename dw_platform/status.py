"""What each table holds: registered partitions, objects, rows and isolated error records."""

import dataclasses

import pyarrow.parquet as pq

from dw_platform.delivery.firehose import error_prefix
from dw_platform.runtime import Runtime
from dw_platform.spec import TableKind


@dataclasses.dataclass(frozen=True)
class TableStatus:
    table: str
    kind: str
    partitions: int | None
    objects: int
    bytes: int
    rows: int
    error_records: int | None


def warehouse_status(runtime: Runtime) -> list[TableStatus]:
    warehouse, lake = runtime.warehouse, runtime.lake
    statuses = []
    for spec in warehouse.tables:
        objects = lake.list_objects(spec.prefix)
        if spec.data_format == "PARQUET":
            rows = sum(
                pq.ParquetFile(lake.filesystem.open_input_file(lake.path(o.key))).metadata.num_rows
                for o in objects
            )
        else:
            rows = sum(
                sum(1 for line in lake.read_bytes(o.key).splitlines() if line.strip()) for o in objects
            )
        errors = None
        if spec.kind is TableKind.STREAMING:
            errors = sum(
                lake.read_bytes(o.key).count(b"\n") for o in lake.list_objects(error_prefix(spec.name))
            )
        partitions = (
            len(runtime.catalog.get_partitions(warehouse.name, spec.name)) if spec.partition_keys else None
        )
        statuses.append(
            TableStatus(
                spec.name,
                spec.kind.value,
                partitions,
                len(objects),
                sum(o.size for o in objects),
                rows,
                errors,
            )
        )
    return statuses
