"""The error-rate verdict over hours of a streaming table: the share of records isolated as errors,
against the table's WARN and ERROR thresholds, with the worst hour's most frequent reasons.

An hour is judged on what its records can tell: it is over a threshold only when the lower bound of
the Wilson score interval (95 %) of its error rate is. One malformed record among an hour's first 300
(0.33 %) says nothing about a 0.1 % threshold (the bound is 0.06 %); 10 among 1,000 does (0.54 %).
"""

import dataclasses
import math
from collections.abc import Sequence
from statistics import NormalDist

from dw_platform.declaration.warehouse import TableSpec
from dw_platform.errors import PreconditionError
from dw_platform.lake.stats import HourStats, top_errors
from dw_platform.lake.store import Lake

OK, WARN, ERROR = "ok", "warn", "error"
CONFIDENCE = 0.95
_Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)  # two-sided interval: 1.96


def wilson_lower_bound(errors: int, records: int) -> float:
    """The lower end of the Wilson score interval (CONFIDENCE) of the proportion errors / records
    (0 for no records)."""
    if records <= 0:
        return 0.0
    p, n, z2 = errors / records, records, _Z * _Z
    centre = p + z2 / (2 * n)
    spread = _Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


@dataclasses.dataclass(frozen=True)
class HourRate:
    """One hour's error rate and what its records let us say about it."""

    inserted_at: str
    records: int
    errors: int
    rate: float
    lower_bound: float  # of the rate, at CONFIDENCE

    @classmethod
    def of(cls, stats: HourStats) -> "HourRate":
        return cls(
            stats.inserted_at,
            stats.records,
            stats.error_records,
            stats.error_rate,
            wilson_lower_bound(stats.error_records, stats.records),
        )


@dataclasses.dataclass(frozen=True)
class ErrorRateVerdict:
    level: str
    worst: HourRate | None  # the hour judged worst: highest bound, then highest rate
    hours_over_warn: tuple[str, ...]
    hours_over_error: tuple[str, ...]
    # Hours whose observed rate is above the WARN threshold, but too few records to say the true
    # rate is (its bound is not): passed, and named in the check's metadata.
    too_few_records: tuple[HourRate, ...]
    top_errors: tuple[tuple[str, str, int], ...]  # (code, message, count) in the worst hour

    @property
    def worst_hour(self) -> str | None:
        return self.worst.inserted_at if self.worst else None


def judge_error_rates(lake: Lake, spec: TableSpec, hours: Sequence[HourStats]) -> ErrorRateVerdict:
    if spec.streaming is None:
        raise PreconditionError(f"table {spec.name!r} is not a streaming table")
    warn, error = spec.streaming.error_rate_warn, spec.streaming.error_rate_error
    rates = [HourRate.of(h) for h in hours]
    over_warn = tuple(r.inserted_at for r in rates if r.lower_bound > warn)
    over_error = tuple(r.inserted_at for r in rates if r.lower_bound > error)
    too_few = tuple(r for r in rates if r.rate > warn and r.lower_bound <= warn)
    worst = max(rates, key=lambda r: (r.lower_bound, r.rate), default=None)
    level = ERROR if over_error else WARN if over_warn else OK
    reasons = top_errors(lake, spec.name, worst.inserted_at) if worst and worst.errors else []
    return ErrorRateVerdict(level, worst, over_warn, over_error, too_few, tuple(reasons))
