"""One Dagster run materializing the hourly assets over a range of hours (a chunk of `dw backfill`:
see chunked_backfill.py)."""

import contextlib
import dataclasses
import sqlite3
import uuid
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Protocol

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.errors import UserInputError
from dw_platform.lake.hours import hours_between, partition_key
from dw_platform.orchestration.asset_keys import compaction_key, table_asset_key
from dw_platform.orchestration.instance import PROCESS_TAG, Notify, RunWatch, process_tag, wait_for_pools

STEPS = ("register", "compact", "aggregate")


def pool_tags(pools: Collection[str]) -> dict[str, str]:
    """The run tags of runs using `pools` (<warehouse>_compaction_<table>): deploy/dagster.yaml limits
    runs per tag, so that a second compaction of a table waits in the queue, not in a run worker."""
    return {f"dw/{pool}": "true" for pool in sorted(pools)}


class RunObserver(Protocol):
    def start(self) -> None: ...
    def finish(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class BackfillOutcome:
    run_id: str
    success: bool
    hours: int
    assets: tuple[str, ...]


def hourly_asset_keys(
    warehouse: ServerlessDataWarehouse, only: Collection[str] | None = None
) -> list[dg.AssetKey]:
    """`register` and `compact` select the streaming tables' registration and compaction,
    `aggregate` the batch tables."""
    unknown = set(only or ()) - set(STEPS)
    if unknown:
        raise UserInputError(f"unknown --only step(s) {sorted(unknown)}; choose from {list(STEPS)}")
    steps = set(only or STEPS)
    keys = []
    for table in warehouse.tables:
        if table.kind is TableKind.STREAMING and "register" in steps:
            keys.append(table_asset_key(warehouse, table.name))
        if table.kind is TableKind.STREAMING and "compact" in steps:
            keys.append(compaction_key(warehouse, table.name))
        if table.kind is TableKind.BATCH and "aggregate" in steps:
            keys.append(table_asset_key(warehouse, table.name))
    return keys


def check_range_is_partitioned(
    defs: dg.Definitions, keys: Collection[dg.AssetKey], first: datetime, last: datetime
) -> None:
    """Refuse hours before the partitions start or not yet partitions (aggregates only has closed hours)."""
    asset_graph = defs.resolve_asset_graph()
    for key in keys:
        partitions = asset_graph.get(key).partitions_def
        assert isinstance(partitions, dg.TimeWindowPartitionsDefinition)
        first_key, last_key = partitions.get_first_partition_key(), partitions.get_last_partition_key()
        if first_key is None or last_key is None:
            raise UserInputError(f"{key.to_user_string()} has no partitions yet")
        if partition_key(first) < first_key or partition_key(last) > last_key:
            raise UserInputError(
                f"{key.to_user_string()} has partitions {first_key} .. {last_key} (UTC); "
                f"the range {partition_key(first)} .. {partition_key(last)} is not within them"
            )


# Creating a run records each planned asset-check evaluation (one per hour of a checked asset) in one
# INSERT of 8 bound variables per hour: on SQLite instance storage a range past the library's
# variable limit (250,000 on Debian's build: 31,250 hours; 32,766 upstream: 4,095) cannot even be
# created ("too many SQL variables"). `dw backfill` cuts long ranges into chunks well below it.
PLANNED_CHECK_VARIABLES_PER_HOUR = 8


def max_backfill_hours(instance: dg.DagsterInstance) -> int | None:
    """The most hours one run can cover on `instance`'s storage; None where SQLite's limit does not
    apply (e.g. PostgreSQL storage)."""
    if "sqlite" not in type(instance.event_log_storage).__module__:
        return None
    with contextlib.closing(sqlite3.connect(":memory:")) as connection:
        variables = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return variables // PLANNED_CHECK_VARIABLES_PER_HOUR


def check_range_fits(instance: dg.DagsterInstance, first: datetime, last: datetime) -> None:
    bound = max_backfill_hours(instance)
    hours = len(hours_between(first, last))
    if bound is not None and hours > bound:
        raise UserInputError(
            f"{hours:,} hours is more than one run can cover on this Dagster instance's SQLite storage "
            f"(at most {bound:,} hours, about {bound / 8766:.1f} years); backfill it in chunks"
        )


def run_backfill(
    defs: dg.Definitions,
    warehouse: ServerlessDataWarehouse,
    instance: dg.DagsterInstance,
    first: datetime,
    last: datetime,
    only: Collection[str] | None = None,
    *,
    log_level: str = "INFO",
    notify: Notify = lambda message: None,
    watch: Callable[[str], RunObserver] | None = None,
    exclude: Collection[str] = (),
) -> BackfillOutcome:
    """One run over every selected hourly asset and every hour from `first` to `last` inclusive.
    The run is recorded on `instance`, so it shows in the UI like any backfill. It starts once the
    pools it needs are free (slots of runs whose process died are freed first); `notify` hears what
    it waits for. `watch(run_id)` makes an observer started beside the run and finished after it;
    `exclude` leaves out assets (user strings) the steps would select."""
    if last < first:
        raise UserInputError(f"--to ({last:%Y-%m-%dT%H}) is before --from ({first:%Y-%m-%dT%H})")
    keys = [k for k in hourly_asset_keys(warehouse, only) if k.to_user_string() not in exclude]
    check_range_is_partitioned(defs, keys, first, last)
    check_range_fits(instance, first, last)
    pools = {pool for key in keys if (pool := defs.resolve_assets_def(key).op.pool)}
    wait_for_pools(instance, pools, notify)
    job = defs.resolve_implicit_global_asset_job_def()
    run_id = str(uuid.uuid4())
    slots = RunWatch(instance, run_id, pools, notify)  # another run may take a slot before ours
    slots.start()
    observer = watch(run_id) if watch else None
    if observer:
        observer.start()
    try:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=keys,
            run_id=run_id,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            tags={
                "dagster/asset_partition_range_start": partition_key(first),
                "dagster/asset_partition_range_end": partition_key(last),
                "dw/command": "backfill",
                **pool_tags(pools),  # the queue's per-table limits (deploy/dagster.yaml) count this run
                PROCESS_TAG: process_tag(),  # lets a later dw tell that this run's process died
            },
            raise_on_error=False,
        )
    finally:
        slots.done.set()
        slots.join()
        if observer:
            observer.finish()
    return BackfillOutcome(
        run_id=result.run_id,
        success=result.success,
        hours=len(hours_between(first, last)),
        assets=tuple(k.to_user_string() for k in keys),
    )
