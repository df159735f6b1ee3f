"""Batch input tables: run the declared job for closed hours, write one object per hour, register it."""

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.errors import DwError, PreconditionError
from dw_platform.lake.layout import result_object
from dw_platform.operations.registration import add_partitions, hour_partition
from dw_platform.operations.settling import check_hours_settled, settle_delay
from dw_platform.runtime.backends import Runtime


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
        # The hours the run was given are the platform's choice (a month in one backfill run): the
        # guard rail's shape check applies, the per-query budget (for queries people write) does not.
        return self.runtime.engine.query(sql, budgeted=False).table


@dataclasses.dataclass(frozen=True)
class BatchHourResult:
    inserted_at: str
    key: str
    rows: int
    bytes: int
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)  # the declared `metrics(rows)`


class BatchJobError(DwError):
    """A batch table's job broke its contract (it must return rows for every hour it was given)."""


def inputs_settle_delay(warehouse: ServerlessDataWarehouse, table: TableSpec) -> timedelta:
    """How long after an hour ends the batch table's streaming inputs are complete."""
    return settle_delay(warehouse, table.batch.inputs if table.batch else ())


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
        raise PreconditionError(f"table {table!r} is not a batch table")
    check_hours_settled(table, hours, inputs_settle_delay(warehouse, spec), now or datetime.now(UTC))
    if any(runtime.catalog.get_table(runtime.database, t) is None for t in (table, *spec.batch.inputs)):
        sync_catalog(runtime)  # a fresh warehouse: the job's queries need its inputs' entries
    produced = spec.batch.job(BatchContext(warehouse, spec, tuple(hours), runtime))
    missing = [h for h in hours if h not in produced]
    if missing:
        raise BatchJobError(f"batch job of {table!r} returned no rows for hours {missing[:3]}")
    results = []
    for hour in hours:
        key = result_object(table, hour)
        data = _json_lines(produced[hour], spec.column_names)
        runtime.lake.put_bytes(key, data)
        metrics = dict(spec.batch.metrics(produced[hour])) if spec.batch.metrics else {}
        results.append(BatchHourResult(hour, key, len(produced[hour]), len(data), metrics))
    add_partitions(runtime, table, [hour_partition(table, h) for h in hours])
    return results
