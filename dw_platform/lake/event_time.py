"""An `event_time` as Athena reads it: `from_iso8601_timestamp`, Joda's ISODateTimeFormat.dateTimeParser().

One grammar for the platform's Python side (a replay's event hours), the same the local engine's
macro (dw_platform/query/macros.py) and Athena parse: a date (yyyy, yyyy-MM or yyyy-MM-dd), then
optionally 'T', a time (HH, HH:mm or HH:mm:ss with 1 to 9 fraction digits after '.' or ',', kept
to the millisecond) and an offset (Z, +HH, +HHmm or +HH:mm), letters in either case. No offset means
the session zone, UTC. Text Athena would not read gives None, so it is left out as Athena leaves it.
"""

import re
from datetime import UTC, datetime, timedelta, timezone

_EVENT_TIME = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:T(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE | re.ASCII,
)


def parse_event_time(text: str) -> datetime | None:
    """The instant (aware, truncated to the millisecond) Athena's from_iso8601_timestamp gives, or None."""
    found = _EVENT_TIME.fullmatch(text)
    if not found:
        return None
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    try:
        return datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:3].ljust(3, "0")) * 1000,
            tzinfo=_offset(zone),
        )
    except ValueError:  # a day, hour or offset out of range: Athena fails on it too
        return None


def _offset(zone: str | None) -> timezone:
    if zone is None or zone.upper() == "Z":
        return UTC
    digits = zone[1:].replace(":", "")
    sign = -1 if zone[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0)))
