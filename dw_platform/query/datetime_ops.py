"""Trino's date and time operators, fields (EXTRACT) and zones as DuckDB text; the date and time
functions by name are in functions/dates.py.

A `timestamp with time zone` is a DuckDB struct of the instant (`i`) and the zone's name (`z`), so
fields read in the value's own zone (`hour(from_iso8601_timestamp('...+02:00'))` is 10) and
`AT TIME ZONE` changes the zone and keeps the instant. Calendar arithmetic in a named zone (DST)
is refused at run time rather than computed on the instant.
"""

import re

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.operators import Typed, cast
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.zoned_text import zone_name

_UNITS = ("millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year")
_DATE_UNITS = ("day", "week", "month", "quarter", "year")
_FIELDS = {
    "year": "year({x})",
    "quarter": "quarter({x})",
    "month": "month({x})",
    "week": "week({x})",
    "week_of_year": "week({x})",
    "day": "day({x})",
    "day_of_month": "day({x})",
    "day_of_week": "isodow({x})",
    "dow": "isodow({x})",
    "day_of_year": "dayofyear({x})",
    "doy": "dayofyear({x})",
    "year_of_week": "isoyear({x})",
    "yow": "isoyear({x})",
    "hour": "hour({x})",
    "minute": "minute({x})",
    "second": "second({x})",
    "millisecond": "(millisecond({x}) % 1000)",
}
_TIME_FIELDS = ("hour", "minute", "second", "millisecond")


def _local(value: Typed) -> str:
    """The wall-clock TIMESTAMP of a date/time value in its own zone."""
    if value.type.name == "timestamptz":
        return f"dw_tstz_local({value.sql})"
    return value.sql


def _temporal(name: str, value: Typed) -> Typed:
    if value.type.is_unknown:
        return Typed("CAST(NULL AS TIMESTAMP)", tt.timestamp(3))
    if not value.type.is_temporal:
        raise QueryError(f"{name}() expects a date or timestamp, got {value.type.trino()}")
    return value


# The zone's offset at the instant, truncated toward zero as Java divides (-05:30 is -5 and -30).
_ZONE_FIELDS = {
    "timezone_hour": "CAST(trunc({m} / 60) AS BIGINT)",
    "timezone_minute": "CAST({m} - trunc({m} / 60) * 60 AS BIGINT)",
}
# Fields Trino's EXTRACT does not take (they are functions only).
_NOT_EXTRACT = ("millisecond", "week_of_year")


# Fields of an interval (Trino's DateTimeFunctions on intervals: Java's truncating / and %).
_INTERVAL_FIELDS = {
    "interval_ds": {
        "day": "{ms} // 86400000",
        "hour": "{ms} // 3600000 % 24",
        "minute": "{ms} // 60000 % 60",
        "second": "{ms} // 1000 % 60",
        "millisecond": "{ms} % 1000",
    },
    "interval_ym": {"year": "{m} // 12", "month": "{m} % 12"},
}


def _interval_field(field: str, value: Typed) -> Typed:
    fields = _INTERVAL_FIELDS[value.type.name]
    if field not in fields:
        raise QueryError(f"cannot extract {field.upper()} from {value.type.trino()}")
    ms = f"CAST(round(epoch({value.sql}) * 1000) AS BIGINT)"
    months = f"CAST(datepart('year', {value.sql}) * 12 + datepart('month', {value.sql}) AS BIGINT)"
    return Typed(f"({fields[field].format(ms=ms, m=months)})", tt.BIGINT)


def extract_field(field: str, value: Typed, *, in_extract: bool = False) -> Typed:
    if value.type.name in _INTERVAL_FIELDS and not (in_extract and field in _NOT_EXTRACT):
        return _interval_field(field, value)
    value = _temporal(field, value)
    if in_extract and field in _NOT_EXTRACT:
        raise QueryError(f"Invalid EXTRACT field: {field.upper()}")
    if field in _ZONE_FIELDS:
        if value.type.name != "timestamptz":
            raise QueryError(f"{field}() expects a timestamp with time zone, got {value.type.trino()}")
        return Typed(_ZONE_FIELDS[field].format(m=f"dw_tstz_offset_minutes({value.sql})"), tt.BIGINT)
    if field not in _FIELDS:
        raise UnsupportedQuery(f"extract({field.upper()} FROM ...)")
    if value.type.name == "date" and field in _TIME_FIELDS:
        raise QueryError(f"cannot extract {field.upper()} from a date")
    return Typed(f"CAST({_FIELDS[field].format(x=_local(value))} AS BIGINT)", tt.BIGINT)


def _unit(name: str, value: Typed) -> str:
    found = re.fullmatch(r"'(\w+)'", value.sql)
    if not found or found.group(1).lower() not in _UNITS:
        raise UnsupportedQuery(f"{name}() with the unit {value.sql} (a literal such as 'hour' is needed)")
    return found.group(1).lower()


def _zone(value: Typed) -> str:
    found = re.fullmatch(r"'(.+)'", value.sql)
    if not found:
        raise UnsupportedQuery("a time zone that is not a literal")
    return zone_name(found.group(1))


def _as_tstz(value: Typed) -> Typed:
    if value.type.name == "timestamptz":
        return value
    return cast(value, tt.timestamptz(value.type.precision if value.type.name == "timestamp" else 3))


def at_timezone(value: Typed, zone: Typed) -> Typed:
    value = _as_tstz(_temporal("at_timezone", value))
    name = _zone(zone)
    return Typed(f"dw_tstz(({value.sql}).i, '{name}')", value.type)


def interval_literal(node: exp.Interval) -> Typed:
    unit = node.args.get("unit")
    text = node.this.name if isinstance(node.this, exp.Literal) else None
    unit_name = unit.name.upper() if unit is not None else ""
    if text is None or unit_name not in ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"):
        raise UnsupportedQuery(f"the interval {node.sql('trino')}")
    if not re.fullmatch(r"-?\d+" + (r"(\.\d{1,3})?" if unit_name == "SECOND" else ""), text.strip()):
        raise UnsupportedQuery(f"the interval {node.sql('trino')}")
    kind = tt.INTERVAL_YM if unit_name in ("YEAR", "MONTH") else tt.INTERVAL_DS
    return Typed(f"INTERVAL '{text.strip()}' {unit_name}", kind)


def temporal_arithmetic(op: str, left: Typed, right: Typed) -> Typed:
    a, b = left.type, right.type
    if op == "+" and a.name.startswith("interval") and b.is_temporal:
        left, right, a, b = right, left, b, a
    if a.is_temporal and b.name.startswith("interval") and op in ("+", "-"):
        if a.name != "date" and b.name == "interval_ds" and (a.precision or 0) < 3:
            # a day-to-second interval has milliseconds: Trino's sum is timestamp(max(p, 3))
            a = tt.timestamp(3) if a.name == "timestamp" else tt.timestamptz(3)
        if a.name == "timestamp":
            return Typed(f"({left.sql} {op} {right.sql})", a)
        if a.name == "date":
            if b.name == "interval_ds":
                return Typed(f"dw_date_plus_days({left.sql}, {'-' if op == '-' else ''}({right.sql}))", a)
            return Typed(f"CAST({left.sql} {op} {right.sql} AS DATE)", a)
        return Typed(f"dw_tstz_plus({left.sql}, {'-' if op == '-' else ''}({right.sql}))", a)
    if a.name == b.name and a.name.startswith("interval") and op in ("+", "-"):
        return Typed(f"({left.sql} {op} {right.sql})", a)
    if op == "-" and a.name == b.name == "timestamp":
        return Typed(f"({left.sql} - {right.sql})", tt.INTERVAL_DS)
    if op == "-" and a.name == b.name == "timestamptz":
        return Typed(f"(({left.sql}).i - ({right.sql}).i)", tt.INTERVAL_DS)
    raise UnsupportedQuery(f"{a.trino()} {op} {b.trino()}")
