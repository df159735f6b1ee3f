"""After a replay, the numbers follow: the arrival hour that received the replayed records is
registered (re-compacted if it already was, as the late-objects sensor does for a late object), and
every batch table reading the table is recomputed over the hours whose rows the new records change:
an arrival-hour table (`aggregates`) that hour, an event-time table (`lateness_hours` > 0) every
event hour whose window of arrival hours reaches it (the hour itself, `lateness_hours` before it,
and the next one, which can read a flush filed under it). Hours that have not settled yet are left
to their schedules, which compute them once they close."""

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

from dw_platform.declaration.warehouse import TableKind
from dw_platform.lake.hours import ONE_HOUR, hour_of_inserted_at, inserted_at
from dw_platform.lake.layout import version_of
from dw_platform.operations.batch_tables import inputs_settle_delay, run_batch_hours
from dw_platform.operations.compaction.compact import compact_hour
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime


@dataclasses.dataclass(frozen=True)
class NumbersRefresh:
    registered: tuple[str, ...]
    recompacted: tuple[str, ...]
    recomputed: dict[str, tuple[str, ...]]  # batch table -> hours computed again now
    left_to_schedule: dict[str, tuple[str, ...]]  # batch table -> hours still filling

    def to_json(self) -> dict[str, object]:
        return {
            k: (list(v) if isinstance(v, tuple) else {t: list(h) for t, h in v.items()})
            for k, v in dataclasses.asdict(self).items()
        }


def _reached_hours(landed: Sequence[str], lateness_hours: int) -> list[str]:
    hours = {
        inserted_at(hour_of_inserted_at(h) + offset * ONE_HOUR)
        for h in landed
        for offset in range(-lateness_hours, 2 if lateness_hours else 1)
    }
    return sorted(hours)


def refresh_numbers(
    runtime: Runtime,
    table: str,
    landed: Sequence[str],
    *,
    event_hours: Sequence[str] | None = None,
    now: datetime | None = None,
) -> NumbersRefresh:
    """`event_hours`: the hours the delivered rows happened in, if known; event-time tables are then
    recomputed only for those (within their window), not for every hour the window allows."""
    moment = now or datetime.now(UTC)
    hours = sorted(set(landed))
    if not hours:
        return NumbersRefresh((), (), {}, {})
    register_hours(runtime, table, hours, with_stats=False)
    partitions = runtime.catalog.get_partitions(runtime.database, table, [(h,) for h in hours])
    recompacted = tuple(p.values[0] for p in partitions if version_of(p.location) is not None)
    for hour in recompacted:  # a compacted hour shows new raw objects only once compacted again
        compact_hour(runtime, table, hour)
    recomputed: dict[str, tuple[str, ...]] = {}
    pending: dict[str, tuple[str, ...]] = {}
    warehouse = runtime.warehouse
    for spec in warehouse.tables_of(TableKind.BATCH):
        if spec.batch is None or table not in spec.batch.inputs:
            continue
        delay = inputs_settle_delay(warehouse, spec)
        reached = _reached_hours(hours, spec.batch.lateness_hours)
        if spec.batch.lateness_hours and event_hours is not None:
            reached = [h for h in reached if h in set(event_hours)]
        settled = tuple(h for h in reached if hour_of_inserted_at(h) + ONE_HOUR + delay <= moment)
        if settled:
            run_batch_hours(runtime, spec.name, settled, now=moment)
        recomputed[spec.name] = settled
        pending[spec.name] = tuple(h for h in reached if h not in settled)
    return NumbersRefresh(tuple(hours), recompacted, recomputed, pending)
