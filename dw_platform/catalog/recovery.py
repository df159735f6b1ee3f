"""Rebuilding the catalog from the lake (`dw catalog rebuild`): the lake is the source of truth.

Table definitions come from the declaration. Each hour of a streaming table is pointed at its newest
complete compacted version (described by its manifest or its files' footers), and raw objects that
arrived after that version are folded in by compacting the hour; an hour never compacted is pointed
at its raw folder. Batch tables' hours are their result folders; an errors table's hours are its
streaming table's plus any holding error records. Existing partitions are switched where they
differ: the command is idempotent and also repairs a catalog that points at the wrong place.
"""

import dataclasses
from collections.abc import Iterable

from dw_platform.catalog import Partition
from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import TableKind, TableSpec
from dw_platform.lake.hours import is_inserted_at
from dw_platform.lake.layout import COMPACTED_ROOT, hour_folder, hour_root
from dw_platform.lake.store import Lake
from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour, unique_raw
from dw_platform.operations.compaction.versions import VersionUndescribedError, hour_versions, newest_complete
from dw_platform.operations.registration import add_partitions, hour_partition
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.state_files import StateError


@dataclasses.dataclass(frozen=True)
class HourRebuilt:
    table: str
    hour: str
    location: str
    source: str  # version | raw | results | errors
    action: str  # created | switched | unchanged | kept (left where it was: see problem)
    late_objects_folded: int = 0
    problem: str = ""  # an hour left for a person to look at (nothing was deleted)


@dataclasses.dataclass(frozen=True)
class RebuildReport:
    tables: tuple[str, ...]
    hours: tuple[HourRebuilt, ...]

    @property
    def problems(self) -> list[HourRebuilt]:
        return [h for h in self.hours if h.problem]


def _hours_under(lake: Lake, prefix: str, *, include_hidden: bool = False) -> list[str]:
    """The `YYYY/MM/DD/HH` folders under `prefix` holding at least one object."""
    found = set()
    for obj in lake.list_objects(prefix, include_hidden=include_hidden):
        parts = obj.key[len(prefix) :].split("/")
        if len(parts) > 4 and is_inserted_at("/".join(parts[:4])):
            found.add("/".join(parts[:4]))
    return sorted(found)


def _point(runtime: Runtime, table: str, partition: Partition, *, keep_existing: bool = False) -> str:
    """Register `partition`, or switch the existing one to its location (unless `keep_existing`);
    returns what was done."""
    database = runtime.database
    existing = runtime.catalog.get_partitions(database, table, [partition.values])
    if not existing:
        add_partitions(runtime, table, [partition])
        return "created"
    if existing[0].location == partition.location:
        return "unchanged"
    if keep_existing:
        return "kept"
    switched = runtime.catalog.switch_partition_location(
        database, table, partition.values, partition.location, expected_location=existing[0].location
    )
    if not switched:
        raise StateError(f"{table} hour {partition.values[0]} changed during the rebuild; run it again")
    return "switched"


def _streaming_hour(runtime: Runtime, spec: TableSpec, hour: str, options: CompactionOptions) -> HourRebuilt:
    lake, table = runtime.lake, spec.name
    states = hour_versions(lake, table, hour)
    newest = newest_complete(states)
    raw = lake.list_objects(hour_folder(table, hour))
    # Folders that may hold rows the chosen location lacks: they are kept, and a person decides.
    doubtful = [
        s
        for s in states
        if (newest is None or s.location != newest.location)
        and (s.claimed_raw is None or unique_raw(s, newest, raw))
    ]
    problem = (
        f"{len(doubtful)} version folders under {hour_root(table, hour)} may hold rows the hour's "
        f"{'version' if newest else 'raw folder'} lacks (undescribed or incomplete); kept: restore "
        "their manifests and rebuild again"
        if doubtful
        else ""
    )
    if newest is None:
        partition = hour_partition(table, hour)
        action = _point(runtime, table, partition, keep_existing=bool(problem))
        return HourRebuilt(table, hour, partition.location, "raw", action, 0, problem)
    # In doubt, an existing partition keeps its location: a switch could hide rows.
    action = _point(runtime, table, Partition((hour,), newest.location), keep_existing=bool(problem))
    contained = set(newest.raw_objects)
    late = [o for o in raw if o.key not in contained]
    if not late or problem:
        return HourRebuilt(table, hour, newest.location, "version", action, 0, problem)
    dedupe = newest.dedupe_key if newest.dedupe_key in spec.column_names else None
    try:  # raw objects that arrived after the version: folded in, so every row is visible again
        report = compact_hour(runtime, table, hour, dataclasses.replace(options, dedupe_key=dedupe))
    except VersionUndescribedError as error:
        return HourRebuilt(table, hour, newest.location, "version", action, 0, str(error))
    location = runtime.catalog.get_partitions(runtime.database, table, [(hour,)])[0].location
    problem = report.reason if report.status not in ("compacted", "unchanged") else ""
    return HourRebuilt(table, hour, location, "version", action, report.late_objects, problem)


def _simple_hours(runtime: Runtime, spec: TableSpec, hours: Iterable[str], source: str) -> list[HourRebuilt]:
    rebuilt = []
    for hour in hours:
        partition = Partition((hour,), f"{spec.prefix}{hour}/")
        rebuilt.append(
            HourRebuilt(spec.name, hour, partition.location, source, _point(runtime, spec.name, partition))
        )
    return rebuilt


def rebuild_catalog(runtime: Runtime, options: CompactionOptions | None = None) -> RebuildReport:
    """Make the catalog say what the lake holds (see the module docstring); `options` for the
    compactions that fold late raw objects in."""
    options = options or CompactionOptions()
    warehouse = runtime.warehouse
    sync_catalog(runtime)
    hours: list[HourRebuilt] = []
    for spec in warehouse.tables:
        if spec.kind is TableKind.STREAMING:
            errors = warehouse.errors_table(spec.name)
            projected = spec.streaming is not None and spec.streaming.projection_start is not None
            versions = _hours_under(runtime.lake, f"{COMPACTED_ROOT}/{spec.name}/", include_hidden=True)
            table_hours = sorted({*_hours_under(runtime.lake, spec.prefix), *versions})
            if not projected:
                hours += [_streaming_hour(runtime, spec, h, options) for h in table_hours]
            if errors is not None:
                error_hours = {*table_hours, *_hours_under(runtime.lake, errors.prefix)}
                hours += _simple_hours(runtime, errors, sorted(error_hours), "errors")
        elif spec.kind is TableKind.BATCH:
            hours += _simple_hours(runtime, spec, _hours_under(runtime.lake, spec.prefix), "results")
    return RebuildReport(tuple(t.name for t in warehouse.tables), tuple(hours))
