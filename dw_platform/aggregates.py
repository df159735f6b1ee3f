"""The aggregates batch jobs: events per input table per arrival hour (`inserted_at`), and per
event hour (`event_time`)."""

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from dw_platform.batch import BatchContext
from dw_platform.hours import inserted_at, is_inserted_at, parse_hour
from dw_platform.identifiers import sql_string_literal, validate_identifier

# `event_time` is UTC ISO-8601 (`2026-03-01T10:15:02.123Z`): its first 13 characters name its hour.
EVENT_HOUR = "replace(replace(substr(event_time, 1, 13), '-', '/'), 'T', '/')"


def _counts_per_hour(
    context: BatchContext, hours: Sequence[str], count_sql: Callable[[str], str]
) -> dict[str, list[dict]]:
    """One row per input table and hour; `count_sql(table)` returns (`hour_key`, `n`) rows, one query
    per input table covering every hour of the run."""
    if not all(is_inserted_at(h) for h in hours):
        raise ValueError(f"not inserted_at hours: {list(hours)[:3]}")
    rows: dict[str, list[dict]] = {h: [] for h in hours}
    for table in context.inputs:
        counted = context.query(count_sql(validate_identifier(table, what="table"))).to_pylist()
        counts = {r["hour_key"]: r["n"] for r in counted}
        for hour in hours:
            rows[hour].append({"event_type": table, "count": counts.get(hour, 0), "time": hour})
    return rows


def count_events_per_hour(context: BatchContext) -> Mapping[str, list[dict]]:
    """`event_type` (the table), `count`, `time` (the arrival hour)."""
    hours = list(context.hours)
    in_list = ", ".join(sql_string_literal(h) for h in hours)
    return _counts_per_hour(
        context,
        hours,
        lambda table: (
            f"SELECT inserted_at AS hour_key, count(*) AS n FROM {table} "
            f"WHERE inserted_at IN ({in_list}) GROUP BY inserted_at"
        ),
    )


def count_events_per_event_hour(context: BatchContext) -> Mapping[str, list[dict]]:
    """Per event hour H: events whose `event_time` falls in H, read from the arrival hours
    H .. H + lateness (a late event lands in a later arrival hour, never an earlier one). Rows whose
    `event_time` is not a UTC ISO-8601 time are not counted here."""
    hours = sorted(context.hours)
    lateness = timedelta(hours=context.table.batch.lateness_hours if context.table.batch else 0)
    last_arrival = inserted_at(parse_hour(hours[-1]) + lateness)
    arrivals = f"{sql_string_literal(hours[0])} AND {sql_string_literal(last_arrival)}"
    in_list = ", ".join(sql_string_literal(h) for h in hours)
    return _counts_per_hour(
        context,
        hours,
        lambda table: (
            f"SELECT hour_key, count(*) AS n FROM (SELECT {EVENT_HOUR} AS hour_key FROM {table} "
            f"WHERE inserted_at BETWEEN {arrivals}) AS arrived "
            f"WHERE hour_key IN ({in_list}) GROUP BY hour_key"
        ),
    )
