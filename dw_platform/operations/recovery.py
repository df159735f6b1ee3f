"""Rebuilding the catalog from the lake (`dw catalog rebuild`): the lake is the source of truth.

Table definitions come from the declaration. Each hour of a streaming table is pointed at its newest
complete compacted version (described by its manifest or its files' footers), and raw objects that
arrived after that version are folded in by compacting the hour; an hour never compacted is pointed
at its raw folder. Batch tables' hours are their result folders; an errors table's hours are its
streaming table's plus any holding error records. Existing partitions are switched where they
differ: the command is idempotent and also repairs a catalog that points at the wrong place.

Every registered partition ends at its own hour: one of an hour with nothing in the lake (registered
ahead of its data, as the registration sensor does) is kept, pointed at its own (empty) folder, as
registration would have made it, so data landing there is seen at once; pointing elsewhere it read
another hour's rows. A partition whose value is not an hour is reported and left alone.

What is computed from a streaming hour whose rows the rebuild changed (late objects folded in, a
partition switched) is recomputed before it returns (operations.dependents): no derived number is
left stale.
"""

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from dw_platform.catalog import Partition
from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import TableKind, TableSpec
from dw_platform.errors import DwError
from dw_platform.lake.hours import is_inserted_at
from dw_platform.lake.layout import compacted_prefix, hour_folder, hour_folder_at, hour_root
from dw_platform.lake.store import Lake
from dw_platform.operations.batch_tables import BatchHourResult
from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour, unique_raw
from dw_platform.operations.compaction.versions import VersionUndescribedError, hour_versions, newest_complete
from dw_platform.operations.dependents import refresh_dependents
from dw_platform.operations.registration import add_partitions, hour_partition
from dw_platform.runtime.backends import Runtime
from dw_platform.state_files import StateError


@dataclasses.dataclass(frozen=True)
class HourRebuilt:
    table: str
    hour: str
    location: str
    source: str  # version | raw | results | errors | empty (nothing in the lake for the hour)
    action: str  # created | switched | unchanged | kept (left where it was: see problem)
    late_objects_folded: int = 0
    problem: str = ""  # an hour left for a person to look at (nothing was deleted)


@dataclasses.dataclass(frozen=True)
class RebuildReport:
    tables: tuple[str, ...]
    hours: tuple[HourRebuilt, ...]
    recomputed: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # batch table -> hours
    left_to_schedule: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # still filling
    numbers_problem: str = ""  # derived numbers that could not be recomputed: the hours to backfill
    # The recomputed hours' results, for recording them on the Dagster instance.
    results: dict[str, tuple[BatchHourResult, ...]] = dataclasses.field(default_factory=dict)

    @property
    def problems(self) -> list[HourRebuilt]:
        return [h for h in self.hours if h.problem]

    @property
    def changed(self) -> dict[str, list[str]]:
        """Per table, the hours whose rows queries see changed: late objects folded in, or the
        partition moved to another location."""
        found: dict[str, list[str]] = {}
        for hour in self.hours:
            if hour.late_objects_folded or hour.action == "switched":
                found.setdefault(hour.table, []).append(hour.hour)
        return found


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
        partition = Partition((hour,), hour_folder_at(spec.prefix, hour))
        rebuilt.append(
            HourRebuilt(spec.name, hour, partition.location, source, _point(runtime, spec.name, partition))
        )
    return rebuilt


def _registered_elsewhere(runtime: Runtime, spec: TableSpec, seen: set[str]) -> list[HourRebuilt]:
    """The table's registered partitions the lake has nothing for (not in `seen`): each pointed at
    its own hour's folder, where registration puts it and its data will land."""
    rebuilt = []
    for partition in runtime.catalog.get_partitions(runtime.database, spec.name):
        value = partition.values[0]
        if value in seen:
            continue
        if len(partition.values) != 1 or not is_inserted_at(value):
            problem = f"partition {partition.values} is not an hour of {spec.name}; left as it was"
            rebuilt.append(HourRebuilt(spec.name, value, partition.location, "empty", "kept", 0, problem))
            continue
        rebuilt += _simple_hours(runtime, spec, [value], "empty")
    return rebuilt


def rebuild_catalog(
    runtime: Runtime, options: CompactionOptions | None = None, *, now: datetime | None = None
) -> RebuildReport:
    """Make the catalog say what the lake holds (see the module docstring); `options` for the
    compactions that fold late raw objects in; `now` decides which hours have settled."""
    options = options or CompactionOptions()
    warehouse = runtime.warehouse
    sync_catalog(runtime)
    hours: list[HourRebuilt] = []
    for spec in warehouse.tables:
        if spec.kind is TableKind.STREAMING:
            errors = warehouse.errors_table(spec.name)
            projected = spec.streaming is not None and spec.streaming.projection_start is not None
            versions = _hours_under(runtime.lake, compacted_prefix(spec.name), include_hidden=True)
            table_hours = sorted({*_hours_under(runtime.lake, spec.prefix), *versions})
            if not projected:
                hours += [_streaming_hour(runtime, spec, h, options) for h in table_hours]
                hours += _registered_elsewhere(runtime, spec, set(table_hours))
            if errors is not None:
                error_hours = sorted({*table_hours, *_hours_under(runtime.lake, errors.prefix)})
                hours += _simple_hours(runtime, errors, error_hours, "errors")
                hours += _registered_elsewhere(runtime, errors, set(error_hours))
        elif spec.kind is TableKind.BATCH:
            result_hours = _hours_under(runtime.lake, spec.prefix)
            hours += _simple_hours(runtime, spec, result_hours, "results")
            hours += _registered_elsewhere(runtime, spec, set(result_hours))
    report = RebuildReport(tuple(t.name for t in warehouse.tables), tuple(hours))
    streaming = {s.name for s in warehouse.tables_of(TableKind.STREAMING)}
    changed = {table: found for table, found in report.changed.items() if table in streaming}
    try:
        refreshed = refresh_dependents(runtime, changed, now=now)
    except DwError as error:
        spans = ", ".join(f"{table} {min(found)}..{max(found)}" for table, found in changed.items())
        problem = f"derived tables not recomputed ({error}); backfill them over {spans}"
        return dataclasses.replace(report, numbers_problem=problem)
    return dataclasses.replace(
        report,
        recomputed=refreshed.recomputed,
        left_to_schedule=refreshed.left_to_schedule,
        results=refreshed.results,
    )
