"""Batch input tables: run the declared job for closed hours, write one object per hour, register it."""

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from dw_platform.catalog import Partition
from dw_platform.hours import ONE_HOUR, hour_of_inserted_at
from dw_platform.runtime import Runtime
from dw_platform.spec import ServerlessDataWarehouse, TableSpec
from dw_platform.tables import sync_catalog

RESULT_OBJECT = "results.json"
# Time past an input's flush interval before an hour counts as complete: Firehose's flush is
# approximate and the object still has to be written.
SETTLE_MARGIN = timedelta(minutes=1)


class HourNotClosedError(RuntimeError):
    """A batch job was asked for an hour whose inputs may still receive data."""


@dataclasses.dataclass(frozen=True)
class BatchContext:
    """What a batch job gets: the hours to compute and read access to the warehouse."""

    warehouse: ServerlessDataWarehouse
    table: TableSpec
    hours: tuple[str, ...]
    runtime: Runtime

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.table.batch.inputs if self.table.batch else ()

    def query(self, sql: str) -> pa.Table:
        return self.runtime.engine.query(sql).table


@dataclasses.dataclass(frozen=True)
class BatchHourResult:
    inserted_at: str
    key: str
    rows: int
    bytes: int


def settle_delay(warehouse: ServerlessDataWarehouse, table: TableSpec) -> timedelta:
    """How long after an hour ends its inputs are complete: their longest flush interval plus a margin."""
    inputs = table.batch.inputs if table.batch else ()
    intervals = [
        warehouse.table(t).streaming.flush_interval_s for t in inputs if warehouse.table(t).streaming
    ]
    return timedelta(seconds=max(intervals, default=0)) + SETTLE_MARGIN


def check_hours_closed(
    warehouse: ServerlessDataWarehouse, table: TableSpec, hours: Sequence[str], now: datetime
) -> None:
    delay = settle_delay(warehouse, table)
    open_hours = [h for h in hours if hour_of_inserted_at(h) + ONE_HOUR + delay > now]
    if open_hours:
        raise HourNotClosedError(
            f"table {table.name!r}: hours {open_hours[:3]}{'...' if len(open_hours) > 3 else ''} are still "
            f"filling; an hour is computed only {int(delay.total_seconds())} s after it ends"
        )


def _json_lines(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    return "".join(json.dumps({c: row.get(c) for c in columns}) + "\n" for row in rows).encode()


def run_batch_hours(
    runtime: Runtime, table: str, hours: Sequence[str], *, now: datetime | None = None
) -> list[BatchHourResult]:
    """Compute `hours` of a batch table with its job and publish each hour (idempotent: the same
    hour always gets the same object, rewritten in one atomic put)."""
    warehouse = runtime.warehouse
    spec = warehouse.table(table)
    if spec.batch is None:
        raise ValueError(f"table {table!r} is not a batch table")
    check_hours_closed(warehouse, spec, hours, now or datetime.now(UTC))
    if runtime.catalog.get_table(warehouse.name, table) is None:
        sync_catalog(runtime)
    produced = spec.batch.job(BatchContext(warehouse, spec, tuple(hours), runtime))
    missing = [h for h in hours if h not in produced]
    if missing:
        raise RuntimeError(f"batch job of {table!r} returned no rows for hours {missing[:3]}")
    results = []
    for hour in hours:
        key = f"{spec.prefix}{hour}/{RESULT_OBJECT}"
        data = _json_lines(produced[hour], spec.column_names)
        runtime.lake.put_bytes(key, data)
        results.append(BatchHourResult(hour, key, len(produced[hour]), len(data)))
    runtime.catalog.register_partitions(
        warehouse.name, table, [Partition((h,), f"{spec.prefix}{h}/") for h in hours]
    )
    return results
