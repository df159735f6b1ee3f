"""Hourly partition registration: point each `inserted_at` hour at its folder in the lake."""

import dataclasses
from collections.abc import Sequence

from dw_platform.catalog import Partition, TableNotFoundError, table_definition
from dw_platform.delivery.firehose import ledger_prefix
from dw_platform.hours import is_inserted_at
from dw_platform.lake import hour_folder
from dw_platform.lake_stats import HourStats, hour_stats
from dw_platform.runtime import Runtime
from dw_platform.spec import error_prefix
from dw_platform.tables import sync_catalog


@dataclasses.dataclass(frozen=True)
class RegistrationReport:
    table: str
    created: int
    hours: tuple[HourStats, ...]


def hour_partition(table: str, hour: str) -> Partition:
    """The partition of an `inserted_at` hour at its folder, as Firehose (or a batch job) writes it."""
    if not is_inserted_at(hour):
        raise ValueError(f"not an inserted_at hour (YYYY/MM/DD/HH): {hour!r}")
    return Partition((hour,), hour_folder(table, hour))


def add_partitions(runtime: Runtime, table: str, partitions: Sequence[Partition]) -> int:
    """Register partitions of a declared table, creating the catalog entries first if missing."""
    definition = table_definition(runtime.warehouse.table(table))
    try:
        return runtime.catalog.register_partitions(runtime.warehouse.name, definition, partitions)
    except TableNotFoundError:
        sync_catalog(runtime)
        return runtime.catalog.register_partitions(runtime.warehouse.name, definition, partitions)


def register_hours(
    runtime: Runtime, table: str, hours: Sequence[str], *, with_stats: bool = True
) -> RegistrationReport:
    """Register the given `inserted_at` hours of `table` (idempotent: existing partitions keep their
    location, which a compaction may have switched). Empty hours are registered too, so data is
    queryable the moment it lands."""
    spec = runtime.warehouse.table(table)
    if spec.partition_key is None:
        raise ValueError(f"table {table!r} is not partitioned")
    wanted = [hour_partition(table, hour) for hour in hours]
    projected = spec.streaming is not None and spec.streaming.projection_start is not None
    created = 0 if projected else add_partitions(runtime, table, wanted)  # projection: nothing to add
    errors = runtime.warehouse.errors_table(table)
    if errors is not None:  # the hour's isolated records, queryable as `<table>_errors`
        add_partitions(runtime, errors.name, [Partition((h,), f"{errors.prefix}{h}/") for h in hours])
    if runtime.lake.is_local:  # only local writes go through temporaries
        sweep_hour_temporaries(runtime, table, hours)
    stats = queried_hour_stats(runtime, table, hours) if with_stats else ()
    return RegistrationReport(table, created, stats)


def sweep_hour_temporaries(runtime: Runtime, table: str, hours: Sequence[str]) -> int:
    """Delete what writers killed mid-write (e.g. `dw send` under kill -9) left in the hours' data,
    error and ledger folders; readers never see these, this only reclaims the space."""
    prefixes = [hour_folder(table, hour) for hour in hours]
    prefixes += [f"{error_prefix(table)}{hour}/" for hour in hours]
    prefixes += [ledger_prefix(table, hour) for hour in hours]
    return sum(runtime.lake.sweep_temporaries(prefix) for prefix in prefixes)


def queried_hour_stats(runtime: Runtime, table: str, hours: Sequence[str]) -> tuple[HourStats, ...]:
    """What queries see of each hour: a registered hour from its location (a compacted hour from its
    version), an unregistered one (or a projected table's) from its raw folder."""
    registered = runtime.catalog.get_partitions(runtime.warehouse.name, table, [(h,) for h in hours])
    locations = {p.values[0]: p.location for p in registered}
    return tuple(hour_stats(runtime.lake, table, hour, locations.get(hour)) for hour in hours)
