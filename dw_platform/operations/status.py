"""What each table holds: registered partitions, objects, rows and isolated error records."""

import dataclasses
from collections.abc import Sequence

from dw_platform.declaration.warehouse import TableKind
from dw_platform.lake.layout import error_prefix
from dw_platform.lake.stats import json_lines, parquet_rows
from dw_platform.operations.registration import queried_hour_stats
from dw_platform.runtime.backends import Runtime


@dataclasses.dataclass(frozen=True)
class TableStatus:
    table: str
    kind: str
    partitions: int | None
    objects: int
    bytes: int
    rows: int
    error_records: int | None
    replayed_records: int | None = None  # isolated records `dw replay` delivered since


@dataclasses.dataclass(frozen=True)
class HourReconciliation:
    """Per streaming table and hour: what was sent, what queries see, what was isolated."""

    table: str
    inserted_at: str
    sent: int | None  # None where delivery keeps no ledger (Firehose on AWS)
    rows: int
    error_records: int
    error_rate: float
    reconciled: bool | None
    # Of the hour's error records: delivered by `dw replay` (into a later arrival hour), and the rest.
    replayed: int = 0
    still_isolated: int = 0


def reconcile_hours(runtime: Runtime, hours: Sequence[str]) -> list[HourReconciliation]:
    """delivered + errors = sent, per hour, reading each hour from its registered location."""
    found = []
    for spec in runtime.warehouse.tables_of(TableKind.STREAMING):
        replayed = _replayed_per_hour(runtime, spec.name)
        for stats in queried_hour_stats(runtime, spec.name, hours):
            found.append(
                HourReconciliation(
                    spec.name,
                    stats.inserted_at,
                    stats.sent,
                    stats.rows,
                    stats.error_records,
                    stats.error_rate,
                    stats.reconciled,
                    replayed.get(stats.inserted_at, 0),
                    stats.error_records - replayed.get(stats.inserted_at, 0),
                )
            )
    return found


def warehouse_status(runtime: Runtime) -> list[TableStatus]:
    warehouse, lake = runtime.warehouse, runtime.lake
    statuses = []
    for spec in warehouse.tables:
        partitions = (
            runtime.catalog.get_partitions(runtime.database, spec.name) if spec.partition_keys else None
        )
        # What queries see: each registered partition's location (a compacted hour's version).
        if partitions is None:
            objects = lake.list_objects(spec.prefix)
        else:
            objects = [o for p in partitions for o in lake.list_objects(p.location)]
        rows = parquet_rows(lake, objects) if spec.data_format == "PARQUET" else json_lines(lake, objects)
        errors = replayed = None
        if spec.kind is TableKind.STREAMING:
            errors = json_lines(lake, lake.list_objects(error_prefix(spec.name)))
            replayed = sum(_replayed_per_hour(runtime, spec.name).values())
        statuses.append(
            TableStatus(
                spec.name,
                spec.kind.value,
                None if partitions is None else len(partitions),
                len(objects),
                sum(o.size for o in objects),
                rows,
                errors,
                replayed,
            )
        )
    return statuses


def _replayed_per_hour(runtime: Runtime, table: str) -> dict[str, int]:
    # The replay machinery reaches compaction (and pandas): imported only when status needs it.
    from dw_platform.operations.replay.run import replayed_per_hour

    return replayed_per_hour(runtime, table)
