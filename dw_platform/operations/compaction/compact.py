"""Compacting one hour without ever losing or doubling a row.

1. Inputs: the hour's raw objects not yet in a version, plus the current version's files if any.
2. Rewrite them into a new version prefix nobody reads yet, and write its manifest.
3. Switch the partition to the new prefix in one conditional catalog write. Before it, readers see
   the old location; after it, the new one: each row exactly once at every instant.
4. After a grace period (for queries planned against the old location), delete what the current
   version supersedes: raw objects it contains, older versions, and leftovers of crashed runs.

A crash at any step leaves the catalog on a complete version; re-running redoes or finishes the
work. Two concurrent compactions of an hour both write, but only one switch succeeds.
"""

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Literal

import pyarrow as pa

from dw_platform.catalog import Partition
from dw_platform.declaration.column_types import ARROW_TYPES
from dw_platform.declaration.identifiers import quoted_identifier, sql_string_literal
from dw_platform.errors import UserInputError
from dw_platform.lake.hours import require_inserted_at
from dw_platform.lake.layout import hour_folder, hour_root, new_version_prefix, version_of
from dw_platform.lake.stats import parquet_rows
from dw_platform.lake.store import Lake, LakeObject
from dw_platform.operations.compaction.manifest import Manifest, write_manifest
from dw_platform.operations.compaction.rewrite import RewriteOptions, RewriteResult, rewrite
from dw_platform.operations.compaction.unload import unload_plan
from dw_platform.operations.compaction.versions import (
    FileStamp,
    VersionState,
    VersionUndescribedError,
    describe_version,
    hour_versions,
)
from dw_platform.operations.registration import add_partitions, lake_partition
from dw_platform.runtime.backends import Runtime

FaultHook = Callable[[str], None]
STEPS = ("after_output", "before_switch", "after_switch", "during_cleanup")


def _no_fault(step: str) -> None:
    return None


CompactionEngine = Literal["pyarrow", "athena_unload"]


@dataclasses.dataclass(frozen=True)
class CompactionOptions:
    rewrite: RewriteOptions = dataclasses.field(default_factory=RewriteOptions)
    grace: timedelta = timedelta(hours=1)
    dedupe_key: str | None = None  # e.g. "id": at-least-once delivery can repeat an event
    # pyarrow on the worker; Athena UNLOAD (AWS profile) for hours too large for one worker.
    engine: CompactionEngine = "pyarrow"
    unload_compression: str = "SNAPPY"


@dataclasses.dataclass(frozen=True)
class CompactionReport:
    table: str
    inserted_at: str
    status: str  # compacted | unchanged | empty | lost_race | deferred | refused
    version: int | None  # the hour's current version after this run
    rows: int
    files_before: int = 0
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    duplicates_removed: int = 0
    late_objects: int = 0  # raw objects not yet in a version
    deleted_objects: int = 0
    reason: str = ""  # why a refused or deferred hour was left as it was

    def metadata(self) -> dict[str, int | str]:
        numbers = dataclasses.asdict(self)
        numbers.pop("table")
        if not self.reason:
            numbers.pop("reason")
        numbers["version"] = self.version or 0
        return numbers


def _partition(runtime: Runtime, table: str, hour: str) -> Partition:
    database = runtime.database
    found = runtime.catalog.get_partitions(database, table, [(hour,)])
    if found:
        return found[0]
    add_partitions(runtime, table, [lake_partition(runtime.lake, table, hour)])
    return runtime.catalog.get_partitions(database, table, [(hour,)])[0]


def _schema(runtime: Runtime, table: str) -> pa.Schema:
    spec = runtime.warehouse.table(table)
    return pa.schema([(c.name, ARROW_TYPES[c.type]) for c in spec.columns])


def compact_hours(
    runtime: Runtime,
    table: str,
    hours: Sequence[str],
    options: CompactionOptions = CompactionOptions(),
    *,
    parallel: int = 2,
) -> Iterator[CompactionReport]:
    """`compact_hour` for each hour, `parallel` hours at a time (hours share nothing but the catalog;
    pyarrow and the AWS calls release the GIL), reports in the order of `hours`. Peak memory is
    `parallel` times one hour's. An hour whose version cannot be described is reported as `refused`
    (with the reason) and the others go on."""
    if parallel < 1:
        raise UserInputError(f"parallel must be at least 1, got {parallel}")
    if not hours:
        return

    def one(hour: str) -> CompactionReport:
        try:
            return compact_hour(runtime, table, hour, options)
        except VersionUndescribedError as error:
            return CompactionReport(table, hour, "refused", None, 0, reason=str(error))

    yield one(hours[0])  # alone: it may create catalog entries
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=f"compact-{table}") as pool:
        yield from pool.map(one, hours[1:])


def compact_hour(
    runtime: Runtime,
    table: str,
    hour: str,
    options: CompactionOptions = CompactionOptions(),
    *,
    now: datetime | None = None,
    fault: FaultHook = _no_fault,
    attempts: int = 3,
) -> CompactionReport:
    """Compact one hour. If objects land in the raw folder while the hour is rewritten (the raw
    folder is listed again right before the switch), the rewrite starts over with them, up to
    `attempts` times; a first compaction (readers see the raw folder) then gives up without
    switching rather than hide them, a re-compaction switches and leaves them late."""
    require_inserted_at(hour)
    now = now or datetime.now(UTC)
    spec = runtime.warehouse.table(table)
    if options.dedupe_key is not None and options.dedupe_key not in spec.column_names:
        raise UserInputError(f"table {table!r} has no column {options.dedupe_key!r} to de-duplicate on")
    current = _partition(runtime, table, hour).location
    _check_own_version(table, hour, current)
    previous = _current_manifest(runtime.lake, current)
    raw = runtime.lake.list_objects(hour_folder(table, hour))
    _check_no_stranded_version(runtime.lake, table, hour, previous, raw)
    for attempt in range(1, attempts + 1):
        outcome = _attempt(
            runtime, table, hour, current, previous, raw, options, now, fault, attempt == attempts
        )
        if isinstance(outcome, CompactionReport):
            return outcome
        raw = outcome  # objects arrived during the rewrite: again, with them
    raise AssertionError("unreachable: the last attempt always reports")


def _attempt(
    runtime: Runtime,
    table: str,
    hour: str,
    current: str,
    previous: Manifest | None,
    raw: list[LakeObject],
    options: CompactionOptions,
    now: datetime,
    fault: FaultHook,
    last_attempt: bool,
) -> CompactionReport | list[LakeObject]:
    """One rewrite and switch; returns the new raw listing instead if objects arrived meanwhile."""
    lake, database = runtime.lake, runtime.database
    late = _uncontained(raw, previous)
    current_version, current_rows = (previous.version, previous.rows) if previous else (None, 0)
    if not late:
        deleted = _delete_superseded(lake, table, hour, previous, raw, options.grace, now=now, fault=fault)
        status = "unchanged" if previous else "empty"
        return CompactionReport(table, hour, status, current_version, current_rows, deleted_objects=deleted)

    inputs: list[LakeObject] = (lake.list_objects(current) if previous else []) + late
    version = (previous.version if previous else 0) + 1
    prefix = new_version_prefix(table, hour, version)
    # Cumulative: what earlier versions contained (even if since deleted) plus the late objects.
    contained = tuple(sorted({*(previous.raw_objects if previous else ()), *(o.key for o in late)}))
    stamp = FileStamp(
        table, hour, version, prefix, contained, options.dedupe_key, now.isoformat(), 1, 0, 0, False
    )
    if options.engine == "athena_unload":
        result = _unload(runtime, table, hour, prefix, late if previous else [], options)
    else:
        result = rewrite(
            lake,
            inputs,
            prefix,
            _schema(runtime, table),
            dataclasses.replace(options.rewrite, dedupe_key=options.dedupe_key),
            stamp,
        )
    fault("after_output")
    manifest = Manifest(
        table=table,
        inserted_at=hour,
        version=version,
        location=prefix,
        raw_objects=contained,
        files=result.files,
        rows=result.rows,
        duplicates_removed=result.input_rows - result.rows,
        deduplicated=options.dedupe_key is not None,
        created_at=now,  # the switch follows at once; the grace period counts from here
        dedupe_key=options.dedupe_key,
    )
    write_manifest(lake, manifest)
    fault("before_switch")
    # Objects delivered since the listing: a switch now would hide them from readers of the raw folder.
    relisted = lake.list_objects(hour_folder(table, hour))
    arrived = _uncontained(relisted, manifest)
    if arrived and (not last_attempt or previous is None):
        _drop(lake, prefix)
        if not last_attempt:
            return relisted
        return CompactionReport(
            table,
            hour,
            "deferred",
            current_version,
            current_rows,
            late_objects=len(late) + len(arrived),
            reason=f"{len(arrived)} objects kept landing during the rewrite; the hour stays as it was",
        )
    if not runtime.catalog.switch_partition_location(
        database, table, (hour,), prefix, expected_location=current
    ):
        _drop(lake, prefix)
        return CompactionReport(
            table, hour, "lost_race", current_version, current_rows, late_objects=len(late)
        )
    fault("after_switch")
    deleted = _delete_superseded(lake, table, hour, manifest, relisted, options.grace, now=now, fault=fault)
    return CompactionReport(
        table,
        hour,
        "compacted",
        version,
        result.rows,
        files_before=len(inputs),
        files_after=len(result.files),
        bytes_before=sum(o.size for o in inputs),
        bytes_after=result.bytes,
        duplicates_removed=manifest.duplicates_removed,
        late_objects=len(late),
        deleted_objects=deleted,
    )


def _drop(lake: Lake, prefix: str) -> None:
    for obj in lake.list_objects(prefix, include_temporaries=True):  # never visible: safe to drop now
        lake.delete(obj.key)


def _unload(
    runtime: Runtime, table: str, hour: str, prefix: str, late: list[LakeObject], options: CompactionOptions
) -> RewriteResult:
    athena = runtime.athena  # a clear error on the local profile
    lake, database = runtime.lake, runtime.database
    key = runtime.warehouse.table(table).partition_key or "inserted_at"
    hour_rows = athena.query(
        f"SELECT count(*) AS n FROM {quoted_identifier(table)} "
        f"WHERE {quoted_identifier(key)} = {sql_string_literal(hour)}",
        budgeted=False,  # the platform's own: one hour, whatever its size
    ).table
    before = hour_rows.column("n")[0].as_py() + parquet_rows(lake, late)
    plan = unload_plan(
        database,
        runtime.warehouse.table(table),
        hour,
        lake.uri(prefix),
        raw_folder_uri=lake.uri(hour_folder(table, hour)),
        late_object_uris=[lake.uri(o.key) for o in late],
        compression=options.unload_compression,
        dedupe_key=options.dedupe_key,
    )
    for statement in plan.statements:
        athena.execute(statement)
    files = lake.list_objects(prefix)
    return RewriteResult(
        tuple(o.key for o in files), before, parquet_rows(lake, files), sum(o.size for o in files)
    )


class HourRegisteredElsewhere(VersionUndescribedError):
    """An hour's partition points at a version of another hour: a compaction would build on that
    version and copy its rows into this hour (each row then counted in two hours). Refused, like an
    undescribable version, until `dw catalog rebuild` points the hour at its own data."""


def _check_own_version(table: str, hour: str, location: str) -> None:
    """A version location must be one of this hour's. (A raw folder elsewhere is harmless: a first
    compaction reads only this hour's raw objects and switches the partition to them.)"""
    if version_of(location) is not None and not location.startswith(hour_root(table, hour)):
        raise HourRegisteredElsewhere(
            f"{table} hour {hour} is registered at {location}, a version of another hour; not compacted "
            "(it would copy that hour's rows into this one): run dw catalog rebuild"
        )


def _current_manifest(lake: Lake, location: str) -> Manifest | None:
    """The description of the version a partition points at (recovered from its files' footers if
    its manifest is lost, VersionUndescribedError if neither describes it); None for a raw hour."""
    return describe_version(lake, location, repair=True) if version_of(location) else None


def _uncontained(raw: Sequence[LakeObject], manifest: Manifest | None) -> list[LakeObject]:
    """Raw objects the version does not contain yet: all of them for an hour never compacted."""
    contained = set(manifest.raw_objects) if manifest else set()
    return [o for o in raw if o.key not in contained]


def unique_raw(state: VersionState, current: Manifest | None, raw: Sequence[LakeObject]) -> set[str]:
    """Raw objects a version claims that exist nowhere else (not in the current version, not in the
    raw folder): the version holds the only copy of their rows."""
    elsewhere = set(current.raw_objects if current else ()) | {o.key for o in raw}
    return set(state.claimed_raw or ()) - elsewhere


def _check_no_stranded_version(
    lake: Lake, table: str, hour: str, current: Manifest | None, raw: Sequence[LakeObject]
) -> None:
    """Refuse to build on the current location while another version holds rows nowhere else (the
    catalog points at an older version or the raw folder, e.g. after it was lost and rebuilt by
    hand): a new version from the current location would leave them out."""
    for state in hour_versions(lake, table, hour):
        if current is not None and state.location == current.location:
            continue
        unique = unique_raw(state, current, raw)
        if unique:
            raise VersionUndescribedError(
                f"cannot compact {table} hour {hour}: version {state.location} holds {len(unique)} raw "
                "objects that neither the current location nor the raw folder has; point the catalog "
                "at the lake's versions first (`dw catalog rebuild`)"
            )


def _delete_superseded(
    lake: Lake,
    table: str,
    hour: str,
    manifest: Manifest | None,
    raw: Sequence[LakeObject],
    grace: timedelta,
    *,
    now: datetime,
    fault: FaultHook,
) -> int:
    """Delete what the hour's current version (`manifest`) supersedes, once it has been current for
    `grace`: the raw objects it contains, and other version folders (older versions, leftovers of
    crashed or losing runs) whose every row is also elsewhere and which nobody wrote to for `grace`.
    An undescribed folder, or one holding the only copy of some rows, is kept."""
    if manifest is None or now - manifest.created_at < grace:
        return 0
    contained = set(manifest.raw_objects)
    doomed = [o for o in raw if o.key in contained]
    for state in hour_versions(lake, table, hour):
        if state.location == manifest.location:
            continue
        newest = state.newest_write
        recent = newest is None or now - newest < grace  # a run may still be writing or switching
        if state.claimed_raw is None or recent or unique_raw(state, manifest, raw):
            continue
        doomed += state.objects
    for count, obj in enumerate(doomed, start=1):
        lake.delete(obj.key)
        if count == 1:
            fault("during_cleanup")
    return len(doomed)


def late_objects(
    runtime: Runtime, table: str, hours: Sequence[str], problems: dict[str, str] | None = None
) -> dict[str, list[LakeObject]]:
    """For each compacted hour whose raw folder holds objects its current version does not
    contain, those objects. An hour whose version cannot be described is skipped, its reason put
    in `problems`: one bad hour does not hide the others' late objects."""
    found = {}
    for partition in runtime.catalog.get_partitions(runtime.database, table, [(h,) for h in hours]):
        hour = partition.values[0]
        try:
            _check_own_version(table, hour, partition.location)
            manifest = _current_manifest(runtime.lake, partition.location)
        except VersionUndescribedError as error:
            if problems is not None:
                problems[hour] = str(error)
            continue
        if manifest is None:
            continue
        late = _uncontained(runtime.lake.list_objects(hour_folder(table, hour)), manifest)
        if late:
            found[hour] = late
    return found


def hours_with_late_objects(runtime: Runtime, table: str, hours: Sequence[str]) -> list[str]:
    return sorted(late_objects(runtime, table, hours))
