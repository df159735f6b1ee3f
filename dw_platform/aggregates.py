"""The `aggregates` batch job: events per input table per `inserted_at` hour."""

from collections.abc import Mapping

from dw_platform.batch import BatchContext
from dw_platform.identifiers import sql_string_literal, validate_identifier


def count_events_per_hour(context: BatchContext) -> Mapping[str, list[dict]]:
    """One row per input table and hour: `event_type` (the table), `count`, `time` (the hour).
    One query per input table covers every hour of the run."""
    hours = list(context.hours)
    in_list = ", ".join(sql_string_literal(h) for h in hours)
    rows: dict[str, list[dict]] = {h: [] for h in hours}
    for table in context.inputs:
        validate_identifier(table, what="table")
        counted = context.query(
            f"SELECT inserted_at, count(*) AS n FROM {table} "
            f"WHERE inserted_at IN ({in_list}) GROUP BY inserted_at"
        ).to_pylist()
        counts = {r["inserted_at"]: r["n"] for r in counted}
        for hour in hours:
            rows[hour].append({"event_type": table, "count": counts.get(hour, 0), "time": hour})
    return rows
