"""Helpers shared by the benchmark scripts (scripts, not tests: run them with python -m benchmarks.X)."""

import resource
import statistics
import time
from collections.abc import Callable


def timed(function: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    """Median wall time of `repeats` runs, and every run's time."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spread(times: list[float]) -> str:
    """How noisy the runs were: (max - min) / median."""
    return f"{(max(times) - min(times)) / statistics.median(times):.0%}"
