"""What is computed from a streaming table's hours follows when a command changes them.

A command that changes what an hour of a streaming table holds outside the scheduled pipeline (`dw
catalog rebuild` folding late objects in or switching a partition, `dw replay` delivering into an
arrival hour) recomputes, before it returns, every batch table reading that table over the hours
whose rows the change reaches: an arrival-hour table (`aggregates`) the hour itself, an event-time
table (`lateness_hours` > 0) every event hour whose window of arrival hours holds it (the hour,
`lateness_hours` before it, and the next one, which can read a flush filed under it). Hours whose
inputs have not settled are left to the automation sensor, which computes them after their
registration refresh. Nothing is left silently stale: no run follows a change made outside Dagster.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from dw_platform.declaration.warehouse import TableKind
from dw_platform.lake.hours import ONE_HOUR, hour_of_inserted_at, inserted_at
from dw_platform.operations.batch_tables import BatchHourResult, inputs_settle_delay, run_batch_hours
from dw_platform.runtime.backends import Runtime


@dataclasses.dataclass(frozen=True)
class DependentsRefresh:
    recomputed: dict[str, tuple[str, ...]]  # batch table -> hours computed again now
    left_to_schedule: dict[str, tuple[str, ...]]  # batch table -> hours still filling
    results: dict[str, tuple[BatchHourResult, ...]] = dataclasses.field(default_factory=dict)


def reached_hours(changed: Sequence[str], lateness_hours: int) -> list[str]:
    """The batch table's hours whose result reads any of the `changed` arrival hours."""
    hours = {
        inserted_at(hour_of_inserted_at(h) + offset * ONE_HOUR)
        for h in changed
        for offset in range(-lateness_hours, 2 if lateness_hours else 1)
    }
    return sorted(hours)


def refresh_dependents(
    runtime: Runtime,
    changed: Mapping[str, Sequence[str]],
    *,
    event_hours: Sequence[str] | None = None,
    now: datetime | None = None,
) -> DependentsRefresh:
    """Recompute the settled hours of every batch table reading the `changed` hours (streaming table
    -> arrival hours). `event_hours`: the hours the changed rows happened in, if known; event-time
    tables are then recomputed only for those."""
    moment = now or datetime.now(UTC)
    warehouse = runtime.warehouse
    recomputed: dict[str, tuple[str, ...]] = {}
    pending: dict[str, tuple[str, ...]] = {}
    results: dict[str, tuple[BatchHourResult, ...]] = {}
    for spec in warehouse.tables_of(TableKind.BATCH):
        if spec.batch is None:
            continue
        arrival = sorted({h for table in spec.batch.inputs for h in changed.get(table, ())})
        if not arrival:
            continue
        reached = reached_hours(arrival, spec.batch.lateness_hours)
        if spec.batch.lateness_hours and event_hours is not None:
            reached = [h for h in reached if h in set(event_hours)]
        delay = inputs_settle_delay(warehouse, spec)
        settled = tuple(h for h in reached if hour_of_inserted_at(h) + ONE_HOUR + delay <= moment)
        if settled:
            results[spec.name] = tuple(run_batch_hours(runtime, spec.name, settled, now=moment))
        recomputed[spec.name] = settled
        pending[spec.name] = tuple(h for h in reached if h not in settled)
    return DependentsRefresh(recomputed, pending, results)
