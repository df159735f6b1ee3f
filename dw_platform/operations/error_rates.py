"""The error-rate verdict over hours of a streaming table: the share of records isolated as errors,
against the table's WARN and ERROR thresholds, with the worst hour's most frequent reasons."""

import dataclasses
from collections.abc import Sequence

from dw_platform.declaration.warehouse import TableSpec
from dw_platform.lake.stats import HourStats, top_errors
from dw_platform.lake.store import Lake

OK, WARN, ERROR = "ok", "warn", "error"


@dataclasses.dataclass(frozen=True)
class ErrorRateVerdict:
    level: str
    worst_hour: str | None
    worst_rate: float
    hours_over_warn: tuple[str, ...]
    hours_over_error: tuple[str, ...]
    top_errors: tuple[tuple[str, str, int], ...]  # (code, message, count) in the worst hour


def judge_error_rates(lake: Lake, spec: TableSpec, hours: Sequence[HourStats]) -> ErrorRateVerdict:
    if spec.streaming is None:
        raise ValueError(f"table {spec.name!r} is not a streaming table")
    warn, error = spec.streaming.error_rate_warn, spec.streaming.error_rate_error
    over_warn = tuple(h.inserted_at for h in hours if h.error_rate > warn)
    over_error = tuple(h.inserted_at for h in hours if h.error_rate > error)
    worst = max(hours, key=lambda h: h.error_rate, default=None)
    level = ERROR if over_error else WARN if over_warn else OK
    reasons = top_errors(lake, spec.name, worst.inserted_at) if worst and worst.error_records else []
    return ErrorRateVerdict(
        level,
        worst.inserted_at if worst else None,
        worst.error_rate if worst else 0.0,
        over_warn,
        over_error,
        tuple(reasons),
    )
