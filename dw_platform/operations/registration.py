"""Hourly partition registration: point each `inserted_at` hour at its folder in the lake."""

import dataclasses
import posixpath
from collections.abc import Sequence

from dw_platform.catalog import Partition, TableNotFoundError, table_definition
from dw_platform.catalog.sync import sync_catalog
from dw_platform.errors import PreconditionError
from dw_platform.lake.hours import require_inserted_at
from dw_platform.lake.layout import (
    compacted_prefix,
    delivery_ledger_prefix,
    error_hour_folder,
    hour_folder,
    hour_root,
)
from dw_platform.lake.stats import HourStats, hour_stats
from dw_platform.lake.store import Lake
from dw_platform.operations.compaction.versions import hour_versions, newest_complete
from dw_platform.runtime.backends import Runtime


@dataclasses.dataclass(frozen=True)
class RegistrationReport:
    table: str
    created: int
    hours: tuple[HourStats, ...]


def hour_partition(table: str, hour: str) -> Partition:
    """The partition of an `inserted_at` hour at its folder, as Firehose (or a batch job) writes it."""
    return Partition((require_inserted_at(hour),), hour_folder(table, hour))


def lake_partition(lake: Lake, table: str, hour: str) -> Partition:
    """Where an hour's rows are, by the lake alone: its newest complete compacted version if it has
    one (its raw folder may have been emptied by the cleanup), else its raw folder."""
    newest = newest_complete(hour_versions(lake, table, hour))
    return Partition((hour,), newest.location) if newest else hour_partition(table, hour)


def new_streaming_partitions(runtime: Runtime, table: str, hours: Sequence[str]) -> list[Partition]:
    """The hours not registered yet, each at its `lake_partition`: registering a lost catalog's
    hours again never points a compacted hour at its emptied raw folder."""
    database = runtime.database
    known = {p.values[0] for p in runtime.catalog.get_partitions(database, table, [(h,) for h in hours])}
    missing = [h for h in hours if h not in known]
    if not missing:
        return []
    # One listing for the whole range (a month of new hours: one call), then only hours with
    # version folders are looked into.
    roots = [hour_root(table, h) for h in missing]
    listed = runtime.lake.list_objects(
        f"{posixpath.commonpath([min(roots), max(roots)])}/", include_hidden=True
    )
    start = len(compacted_prefix(table))  # then the hour
    compacted = {"/".join(o.key[start:].split("/")[:4]) for o in listed}
    return [
        lake_partition(runtime.lake, table, h) if h in compacted else hour_partition(table, h)
        for h in missing
    ]


def add_partitions(runtime: Runtime, table: str, partitions: Sequence[Partition]) -> int:
    """Register partitions of a declared table, creating the catalog entries first if missing."""
    definition = table_definition(runtime.warehouse.table(table))
    try:
        return runtime.catalog.register_partitions(runtime.database, definition, partitions)
    except TableNotFoundError:
        sync_catalog(runtime)
        return runtime.catalog.register_partitions(runtime.database, definition, partitions)


def register_hours(
    runtime: Runtime, table: str, hours: Sequence[str], *, with_stats: bool = True
) -> RegistrationReport:
    """Register the given `inserted_at` hours of `table` (idempotent: existing partitions keep their
    location, which a compaction may have switched). Empty hours are registered too, so data is
    queryable the moment it lands."""
    spec = runtime.warehouse.table(table)
    if spec.partition_key is None:
        raise PreconditionError(f"table {table!r} is not partitioned")
    projected = spec.streaming is not None and spec.streaming.projection_start is not None
    created = 0
    if not projected:  # projection: nothing to add
        wanted = (
            new_streaming_partitions(runtime, table, hours)
            if spec.streaming
            else [hour_partition(table, hour) for hour in hours]
        )
        created = add_partitions(runtime, table, wanted) if wanted else 0
    errors = runtime.warehouse.errors_table(table)
    if errors is not None:  # the hour's isolated records, queryable as `<table>_errors`
        add_partitions(runtime, errors.name, [Partition((h,), error_hour_folder(table, h)) for h in hours])
    if runtime.lake.is_local:  # only local writes go through temporaries
        sweep_hour_temporaries(runtime, table, hours)
    stats = queried_hour_stats(runtime, table, hours) if with_stats else ()
    return RegistrationReport(table, created, stats)


def sweep_hour_temporaries(runtime: Runtime, table: str, hours: Sequence[str]) -> int:
    """Delete what writers killed mid-write (e.g. `dw send` under kill -9) left in the hours' data,
    error and ledger folders; readers never see these, this only reclaims the space."""
    prefixes = [hour_folder(table, hour) for hour in hours]
    prefixes += [error_hour_folder(table, hour) for hour in hours]
    prefixes += [delivery_ledger_prefix(table, hour) for hour in hours]
    return sum(runtime.lake.sweep_temporaries(prefix) for prefix in prefixes)


def queried_hour_stats(runtime: Runtime, table: str, hours: Sequence[str]) -> tuple[HourStats, ...]:
    """What queries see of each hour: a registered hour from its location (a compacted hour from its
    version), an unregistered one (or a projected table's) from its raw folder."""
    registered = runtime.catalog.get_partitions(runtime.database, table, [(h,) for h in hours])
    locations = {p.values[0]: p.location for p in registered}
    return tuple(hour_stats(runtime.lake, table, hour, locations.get(hour)) for hour in hours)
