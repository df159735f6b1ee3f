"""When an hour is complete: Firehose may still flush a buffer into it until its flush interval has
passed after the hour ends (plus a margin for the write itself)."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.errors import DwError
from dw_platform.lake.hours import ONE_HOUR, hour_of_inserted_at

SETTLE_MARGIN = timedelta(minutes=1)


class HourNotClosedError(DwError):
    """Work was asked for an hour whose streaming inputs may still receive data."""


def settle_delay(warehouse: ServerlessDataWarehouse, streaming_tables: Iterable[str]) -> timedelta:
    intervals = [
        spec.streaming.flush_interval_s
        for spec in (warehouse.table(name) for name in streaming_tables)
        if spec.streaming is not None
    ]
    return timedelta(seconds=max(intervals, default=0)) + SETTLE_MARGIN


def check_hours_settled(table: str, hours: Sequence[str], delay: timedelta, now: datetime) -> None:
    open_hours = [h for h in hours if hour_of_inserted_at(h) + ONE_HOUR + delay > now]
    if open_hours:
        raise HourNotClosedError(
            f"table {table!r}: hours {open_hours[:3]}{'...' if len(open_hours) > 3 else ''} are still "
            f"filling; an hour is processed only {int(delay.total_seconds())} s after it ends"
        )
