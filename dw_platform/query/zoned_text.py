"""Text to `timestamp(p) with time zone` (TIMESTAMP '2020-05-10 12:34:56.12 Asia/Kathmandu' and casts
of a string literal), read at translation time as Trino's DateTimes does, and Trino's time-zone names.

Trino's form: `yyyy-M-d[ H:m[:s[.fraction]]]`, optional blanks, then an optional zone (an IANA name in
any case, UTC/Z/GMT/UT, or an offset +HH:mm / +HHmm / +HH, also after UTC, GMT or UT); no zone means
the session zone, UTC.
A local time a zone skips (a DST gap) moves later by the gap and an ambiguous one takes the earlier
offset, as java.time's ZonedDateTime.of does (Python's fold=0). The fraction is rounded half up to
the type's precision. Text that is not a timestamp fails when the statement runs (so TRY_CAST and
try() give NULL), with Trino's message.
"""

import functools
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from dw_platform.query.sql import QueryError, UnsupportedQuery

if TYPE_CHECKING:
    from dw_platform.query.operators import Typed

_TEXT = re.compile(
    r"\s*([+-]?\d{4,})-(\d{1,2})-(\d{1,2})(?: (\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?\s*(.+?)?\s*",
    re.ASCII,
)
_OFFSET = re.compile(r"(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?", re.ASCII | re.IGNORECASE)
_UTC_ALIASES = ("UTC", "GMT", "GMT0", "UT", "UCT", "ZULU", "GREENWICH", "UNIVERSAL")
_UTC_NAMES = frozenset(["Z", *_UTC_ALIASES, *(f"ETC/{name}" for name in _UTC_ALIASES)])
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def zone_name(zone: str) -> str:
    """Trino's name of a time zone written in SQL: 'UTC', '+05:45' or the canonical IANA name."""
    if zone.upper() in _UTC_NAMES:
        return "UTC"
    offset = _OFFSET.fullmatch(zone)
    if offset:
        sign, hours, minutes = offset.groups()
        if int(hours) > 14 or int(minutes or 0) > 59:
            raise QueryError(f"Invalid time zone offset: {zone}")
        if int(hours) == int(minutes or 0) == 0:
            return "UTC"
        return f"{sign}{int(hours):02d}:{minutes or '00'}"
    name = _zones_by_lower_name().get(zone.lower())
    if name is None:
        raise QueryError(f"Time zone not supported: {zone}")
    return name


def _offset_minutes(zone: str) -> int | None:
    found = re.fullmatch(r"([+-])(\d{2}):(\d{2})", zone)
    if not found:
        return None
    sign, hours, minutes = found.groups()
    return (-1 if sign == "-" else 1) * (int(hours) * 60 + int(minutes))


def tstz_literal(text: str, precision: int) -> str:
    """DuckDB text of the value (a dw_tstz struct) `text` casts to: the instant in microseconds."""
    found = _TEXT.fullmatch(text)
    if not found:
        return _failing(text)
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    if not re.fullmatch(r"\d{4}", year):
        raise UnsupportedQuery("a timestamp before the year 1 or after 9999")
    zone = zone_name(zone) if zone else "UTC"
    fraction = fraction or ""
    if len(fraction) > 12:
        raise UnsupportedQuery("a timestamp with more than 12 fraction digits")
    picos = int(fraction.ljust(12, "0")) if fraction else 0
    unit = 10 ** (12 - precision)
    picos = (picos + unit // 2) // unit * unit  # half up to the precision (a carry makes a second)
    try:
        local = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return _failing(text)
    local += timedelta(microseconds=picos // 1_000_000)
    minutes = _offset_minutes(zone)
    if zone == "UTC" or minutes is not None:
        instant = local.replace(tzinfo=UTC) - timedelta(minutes=minutes or 0)
    else:
        instant = local.replace(tzinfo=zoneinfo.ZoneInfo(zone), fold=0).astimezone(UTC)
    micros = (instant - _EPOCH) // timedelta(microseconds=1)
    return f"dw_tstz(make_timestamptz(CAST({micros} AS BIGINT)), '{zone}')"


def zoned_literal_type(text: str) -> str | None:
    """The type of `TIMESTAMP 'text'` if the text names a zone (Trino types such a literal
    `timestamp(p) with time zone`, p its fraction digits), else None."""
    found = _TEXT.fullmatch(text)
    if not found or not found.group(8):
        return None
    return f"TIMESTAMP({len(found.group(7) or '')}) WITH TIME ZONE"


def _failing(text: str) -> str:
    message = f"Value cannot be cast to timestamp with time zone: {text}".replace("'", "''")
    # A struct literal, not dw_tstz(): DuckDB's TRY does not catch the failure inside dw_tstz's CASE.
    return f"{{'i': CAST(dw_fail_text('{message}') AS TIMESTAMPTZ), 'z': 'UTC'}}"


def instant_guard(keys: list["Typed"]) -> str:
    """A QUALIFY clause for SELECT DISTINCT (its columns) that fails the statement when one instant
    is there in several zones: DuckDB tells the (instant, zone) structs apart where Trino compares
    the instants (and would keep one of the zones, whichever came first)."""
    zoned = [k for k in keys if k.type.name == "timestamptz"]
    if not zoned:
        return ""
    window = "PARTITION BY " + ", ".join(f"({k.sql}).i" if k in zoned else k.sql for k in keys)
    mixed = " OR ".join(
        f"min(({k.sql}).z) OVER ({window}) <> max(({k.sql}).z) OVER ({window})" for k in zoned
    )
    message = "not supported by the local engine: SELECT DISTINCT of one instant in several time zones"
    return f" QUALIFY CASE WHEN {mixed} THEN error('{message}') ELSE true END"
