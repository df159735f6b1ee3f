"""After a replay, the numbers follow: the arrival hour that received the replayed records is
registered (re-compacted if it already was, as the late-objects sensor does for a late object), and
what is computed from it is recomputed (operations.dependents: the batch tables' hours the new
records reach; hours that have not settled yet are left to the automation sensor)."""

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

from dw_platform.lake.layout import version_of
from dw_platform.operations.batch_tables import BatchHourResult
from dw_platform.operations.compaction.compact import compact_hour
from dw_platform.operations.dependents import refresh_dependents
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime


@dataclasses.dataclass(frozen=True)
class NumbersRefresh:
    registered: tuple[str, ...]
    recompacted: tuple[str, ...]
    recomputed: dict[str, tuple[str, ...]]  # batch table -> hours computed again now
    left_to_schedule: dict[str, tuple[str, ...]]  # batch table -> hours still filling
    # The recomputed hours' results, for recording them on the Dagster instance (not printed).
    results: dict[str, tuple[BatchHourResult, ...]] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "results"}
        return {
            k: (list(v) if isinstance(v, tuple) else {t: list(h) for t, h in v.items()})
            for k, v in shown.items()
        }


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
    refreshed = refresh_dependents(runtime, {table: hours}, event_hours=event_hours, now=moment)
    return NumbersRefresh(
        tuple(hours), recompacted, refreshed.recomputed, refreshed.left_to_schedule, refreshed.results
    )
