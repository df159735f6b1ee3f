"""The time sensors decide by and assets run at: the wall clock, or a fixed one a test injects."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
