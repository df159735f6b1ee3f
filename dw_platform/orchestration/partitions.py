"""Hourly partitions over `inserted_at`: keys keep Dagster's default format, values come from the window."""

from collections.abc import Iterable, Sequence
from datetime import datetime

import dagster as dg

from dw_platform.lake.hours import BACKFILL_CHUNK_HOURS, ONE_HOUR, inserted_at, iter_hours, partition_key

# Hours per run of a long backfill, from `dw backfill` or the UI's backfills through the daemon (each
# hourly asset's backfill policy): a month. A failure repeats at most a month; a run's metadata
# stays readable; SQLite instance storage stays far below its per-run limit (4,095 hours upstream).
CHUNK_HOURS = BACKFILL_CHUNK_HOURS
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=CHUNK_HOURS)


def open_hours(start: datetime) -> dg.HourlyPartitionsDefinition:
    """Includes the hour in progress, so data can be registered (and queried) as soon as it lands."""
    return dg.HourlyPartitionsDefinition(start_date=start, end_offset=1)


def closed_hours(start: datetime) -> dg.HourlyPartitionsDefinition:
    """Only hours that have ended: for jobs that must not see a still-filling hour."""
    return dg.HourlyPartitionsDefinition(start_date=start, end_offset=0)


def run_hours(context: dg.AssetExecutionContext) -> list[tuple[str, str]]:
    """(partition key, inserted_at) of every hour in the run's partition range."""
    window = context.partition_time_window
    return [(partition_key(h), inserted_at(h)) for h in iter_hours(window.start, window.end - ONE_HOUR)]


def range_run_request(
    hours: Iterable[datetime], *, run_key: str | None, asset_keys: Sequence[dg.AssetKey]
) -> dg.RunRequest:
    """One run of the assets covering every hour from the first to the last given (single-run backfill)."""
    ordered = sorted(hours)
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=list(asset_keys),
        tags={
            "dagster/asset_partition_range_start": partition_key(ordered[0]),
            "dagster/asset_partition_range_end": partition_key(ordered[-1]),
        },
    )
