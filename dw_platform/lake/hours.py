"""Hourly partitions: Dagster keys (`%Y-%m-%d-%H:%M`, UTC) <-> `inserted_at` values (`YYYY/MM/DD/HH`)."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from dw_platform.errors import UserInputError

DAGSTER_KEY_FORMAT = "%Y-%m-%d-%H:%M"
INSERTED_AT_FORMAT = "%Y/%m/%d/%H"
ONE_HOUR = timedelta(hours=1)
# A month of hours: how many hours one backfill run covers (dw backfill and the UI's backfills).
BACKFILL_CHUNK_HOURS = 720
HOUR_FORMATS_HINT = "use 2026-11-20T10, 2026-11-20-10:00 or 2026/11/20/10 (UTC), or an ISO-8601 instant"

_INSERTED_AT = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{2}$")
_HOUR_INPUTS = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}$"), "%Y-%m-%dT%H"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}:\d{2}$"), DAGSTER_KEY_FORMAT),
    (_INSERTED_AT, INSERTED_AT_FORMAT),
)


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour containing `moment` (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def inserted_at(moment: datetime) -> str:
    """The `inserted_at` partition value (and folder) of the hour containing `moment`."""
    return floor_hour(moment).strftime(INSERTED_AT_FORMAT)


def partition_key(moment: datetime) -> str:
    """The Dagster hourly partition key of the hour containing `moment`."""
    return floor_hour(moment).strftime(DAGSTER_KEY_FORMAT)


def is_inserted_at(value: str) -> bool:
    if not _INSERTED_AT.match(value):
        return False
    try:
        datetime.strptime(value, INSERTED_AT_FORMAT)
    except ValueError:
        return False
    return True


class InvalidHourError(UserInputError):
    """An hour value that is not `YYYY/MM/DD/HH` (a real UTC hour)."""


def require_inserted_at(value: str, what: str = "hour") -> str:
    """`value` if it is an `inserted_at` hour (`YYYY/MM/DD/HH`, a real date); the one check of it."""
    if not isinstance(value, str) or not is_inserted_at(value):
        raise InvalidHourError(f"{what} must be an hour written YYYY/MM/DD/HH, got {value!r}")
    return value


def hour_of_inserted_at(value: str) -> datetime:
    return datetime.strptime(require_inserted_at(value), INSERTED_AT_FORMAT).replace(tzinfo=UTC)


def parse_hour(text: str) -> datetime:
    """Parse an hour given as `2026-11-20T10`, `2026-11-20-10:00`, `2026/11/20/10` or full ISO-8601."""
    text = text.strip()
    try:
        for pattern, fmt in _HOUR_INPUTS:
            if pattern.match(text):
                return floor_hour(datetime.strptime(text, fmt))
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        # A date that does not exist (2026-02-30) says so; anything else is not an hour at all.
        reason = f" ({error})" if "out of range" in str(error) else ""
        raise InvalidHourError(f"cannot read hour {text!r}{reason}: {HOUR_FORMATS_HINT}") from None
    return floor_hour(moment)


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant (naive means UTC)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hours_between(first: datetime, last: datetime) -> list[datetime]:
    """Every hour start from `first` to `last`, both included."""
    return list(iter_hours(floor_hour(first), floor_hour(last)))


def iter_hours(first: datetime, last: datetime) -> Iterator[datetime]:
    hour = floor_hour(first)
    while hour <= last:
        yield hour
        hour += ONE_HOUR
