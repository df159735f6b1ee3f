"""`dw backfill` of long ranges: the range split into chunks (a month of hours by default, the same
size as the UI's backfills through the daemon: `CHUNK_HOURS` is every hourly asset's
max_partitions_per_run), run in order, each one single Dagster run on the configured instance.

- Resumable: with `resume`, hours every selected asset has materialized already (asked of the
  instance) are skipped; what is left is grouped into contiguous ranges, then chunks.
- Progress: `on_progress` hears each materialization (asset, partition key) as the run reports it
  through Dagster's event log.
- A failed chunk stops the backfill: the chunks after it are not started (resume picks up there).
"""

import dataclasses
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.errors import UserInputError
from dw_platform.lake.hours import ONE_HOUR, hours_between, partition_key
from dw_platform.orchestration.backfill import (
    BackfillOutcome,
    check_range_is_partitioned,
    hourly_asset_keys,
    max_backfill_hours,
    run_backfill,
)
from dw_platform.orchestration.instance import Notify
from dw_platform.orchestration.partitions import CHUNK_HOURS

POLL_S = 0.5

Progress = Callable[[str, str], None]  # (asset key as a string, partition key)


@dataclasses.dataclass(frozen=True)
class Chunk:
    first: datetime
    last: datetime

    @property
    def hours(self) -> int:
        return int((self.last - self.first) / ONE_HOUR) + 1


@dataclasses.dataclass(frozen=True)
class ChunkedBackfill:
    hours: int  # in the range asked for
    skipped: int  # already materialized by every selected asset (resume)
    chunks: tuple[Chunk, ...]
    runs: tuple[BackfillOutcome, ...]  # in order; fewer than the chunks when one failed
    assets: tuple[str, ...]

    @property
    def success(self) -> bool:
        return len(self.runs) == len(self.chunks) and all(r.success for r in self.runs)


def plan_chunks(hours: Collection[datetime], chunk_hours: int) -> list[Chunk]:
    """Contiguous ranges of `hours`, each cut into chunks of at most `chunk_hours`."""
    if chunk_hours < 1:
        raise UserInputError(f"--chunk-hours must be at least 1, got {chunk_hours}")
    chunks: list[Chunk] = []
    for hour in sorted(hours):
        last = chunks[-1] if chunks else None
        if last and hour == last.last + ONE_HOUR and last.hours < chunk_hours:
            chunks[-1] = Chunk(last.first, hour)
        else:
            chunks.append(Chunk(hour, hour))
    return chunks


def materialized_hours(
    instance: dg.DagsterInstance, keys: Collection[dg.AssetKey], first: datetime, last: datetime
) -> set[datetime]:
    """The hours from `first` to `last` that every asset of `keys` has materialized."""
    hours = {partition_key(h): h for h in hours_between(first, last)}
    done = set(hours)
    for key in keys:
        done &= instance.get_materialized_partitions(key)
    return {hours[k] for k in done}


def check_chunk_fits(instance: dg.DagsterInstance, chunk_hours: int) -> None:
    bound = max_backfill_hours(instance)
    if bound is not None and chunk_hours > bound:
        raise UserInputError(
            f"--chunk-hours {chunk_hours:,} is more than one run can cover on this Dagster instance's "
            f"SQLite storage (at most {bound:,} hours)"
        )


def check_runs_can_run_here(instance: dg.DagsterInstance) -> None:
    """An instance whose daemon monitors run workers (run monitoring with a launcher such as ECS's or
    Kubernetes') would mark a run executing in this process failed: it has no worker to find."""
    ref = instance.get_ref()
    launcher = ref.run_launcher_data.class_name if ref.run_launcher_data else "DefaultRunLauncher"
    if instance.run_monitoring_enabled and launcher != "DefaultRunLauncher":
        raise UserInputError(
            f"this Dagster instance launches runs with {launcher} and monitors their workers, so it would "
            "fail runs that dw executes in its own process; backfill from the UI instead (its backfills "
            f"run in chunks of {CHUNK_HOURS} hours as well)"
        )


class _Materializations(threading.Thread):
    """Beside a run: tells `on_progress` of each materialization the run has stored."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, on_progress: Progress) -> None:
        super().__init__(daemon=True, name="dw-backfill-progress")
        self.instance, self.run_id, self.on_progress = instance, run_id, on_progress
        self.done = threading.Event()
        self.cursor: str | None = None

    def poll(self) -> None:
        while True:
            connection = self.instance.get_records_for_run(
                self.run_id, self.cursor, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1000
            )
            self.cursor = connection.cursor
            for record in connection.records:
                event = record.event_log_entry.dagster_event
                if event is not None and event.asset_key is not None:
                    self.on_progress(event.asset_key.to_user_string(), event.partition or "")
            if not connection.has_more:
                return

    def run(self) -> None:
        while not self.done.wait(POLL_S):
            try:
                self.poll()
            except Exception:  # a busy storage: the next poll catches up
                continue

    def finish(self) -> None:
        self.done.set()
        self.join()
        self.poll()  # what the run stored after the last poll


def run_chunked_backfill(
    defs: dg.Definitions,
    warehouse: ServerlessDataWarehouse,
    instance: dg.DagsterInstance,
    first: datetime,
    last: datetime,
    only: Collection[str] | None = None,
    *,
    chunk_hours: int = CHUNK_HOURS,
    resume: bool = False,
    log_level: str = "INFO",
    notify: Notify = lambda message: None,
    on_plan: Callable[[Sequence[Chunk], Sequence[str]], None] = lambda chunks, assets: None,
    on_chunk: Callable[[int, Chunk], None] = lambda index, chunk: None,
    on_progress: Progress = lambda asset, partition: None,
    on_run: Callable[[BackfillOutcome], None] = lambda outcome: None,
    exclude: Collection[str] = (),
) -> ChunkedBackfill:
    """Every selected hourly asset over `first` .. `last`, chunk after chunk; stops at the first
    failed chunk. `on_plan` hears the chunks and assets, `on_chunk` each chunk before it starts,
    `on_run` its outcome."""
    if last < first:
        raise UserInputError(f"--to ({last:%Y-%m-%dT%H}) is before --from ({first:%Y-%m-%dT%H})")
    keys = [k for k in hourly_asset_keys(warehouse, only) if k.to_user_string() not in exclude]
    check_range_is_partitioned(defs, keys, first, last)
    check_chunk_fits(instance, chunk_hours)
    check_runs_can_run_here(instance)
    hours = hours_between(first, last)
    done = materialized_hours(instance, keys, first, last) if resume else set()
    chunks = plan_chunks([h for h in hours if h not in done], chunk_hours)
    assets = tuple(k.to_user_string() for k in keys)
    on_plan(chunks, assets)
    runs: list[BackfillOutcome] = []
    for index, chunk in enumerate(chunks):
        on_chunk(index, chunk)
        outcome = run_backfill(
            defs,
            warehouse,
            instance,
            chunk.first,
            chunk.last,
            only,
            log_level=log_level,
            notify=notify,
            watch=lambda run_id: _Materializations(instance, run_id, on_progress),
            exclude=exclude,
        )
        runs.append(outcome)
        on_run(outcome)
        if not outcome.success:
            break
    return ChunkedBackfill(
        hours=len(hours),
        skipped=len(done),
        chunks=tuple(chunks),
        runs=tuple(runs),
        assets=assets,
    )
