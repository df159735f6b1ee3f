"""Trino's date and time functions (functions/datetime.md), translated in query/datetime_ops.py
(imported when one is first called). EXTRACT, AT TIME ZONE, current_date and current_timestamp are
syntax sqlglot reads into nodes of their own (calls.py)."""

from collections.abc import Callable

from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed

datetime = Family("datetime")


def _datetime(name: str) -> Callable[..., Typed]:
    from dw_platform.query import datetime_ops

    return getattr(datetime_ops, name)


def _by_name(name: str) -> Callable[[list[Typed]], Typed]:
    return lambda args: _datetime("call")(name, args)


_T = "date | time | timestamp(p) | timestamp(p) with time zone"
_FIELD = f"x ({_T}): a field of it"
# name: (argument types, return type); datetime_ops.call translates each.
_FUNCTIONS = {
    "date_diff": ("unit varchar, x, y (both date, time or timestamp)", "bigint"),
    "date_add": ("unit varchar, value bigint, x (date, time or timestamp)", "the type of x"),
    "date_trunc": ("unit varchar, x (date, time or timestamp)", "the type of x"),
    "from_iso8601_timestamp": ("varchar", "timestamp(3) with time zone"),
    "from_iso8601_date": ("varchar", "date"),
    "to_iso8601": ("date | timestamp(p) | timestamp(p) with time zone", "varchar"),
    "at_timezone": ("timestamp(p) with time zone, zone varchar", "timestamp(p) with time zone"),
    "with_timezone": ("timestamp(p), zone varchar", "timestamp(p) with time zone"),
    "from_unixtime": ("double[, zone varchar | hours bigint, minutes bigint]", "timestamp(3) with time zone"),
    "to_unixtime": ("timestamp(p) with time zone", "double"),
    "last_day_of_month": ("date | timestamp(p) | timestamp(p) with time zone", "date"),
    "now": ("()", "timestamp(3) with time zone"),
    "date": ("varchar | timestamp(p) | timestamp(p) with time zone", "date"),
    "timezone_hour": ("timestamp(p) with time zone", "bigint"),
    "timezone_minute": ("timestamp(p) with time zone", "bigint"),
}
for _name in ("hour", "minute", "second", "millisecond", "day", "day_of_month", "day_of_week", "dow"):
    _FUNCTIONS[_name] = (_FIELD, "bigint")
for _name in (
    "day_of_year",
    "doy",
    "week",
    "week_of_year",
    "month",
    "quarter",
    "year",
    "year_of_week",
    "yow",
):
    _FUNCTIONS[_name] = (_FIELD, "bigint")
for _name, (_args, _returns) in _FUNCTIONS.items():
    datetime.scalar(_name, args=_args, returns=_returns)(_by_name(_name))


@datetime.literals(
    "format_datetime", args="timestamp(p) | timestamp(p) with time zone, format (Joda)", returns="varchar"
)
def _format_datetime(args: list[Typed], literals: list[str | None]) -> Typed:
    return _datetime("format_datetime")(args, literals)


@datetime.literals(
    "date_format", args="timestamp(p) | timestamp(p) with time zone, format (MySQL)", returns="varchar"
)
def _date_format(args: list[Typed], literals: list[str | None]) -> Typed:
    return _datetime("date_format")(args, literals)


@datetime.literals("date_parse", args="varchar, format (MySQL)", returns="timestamp(3)")
def _date_parse(args: list[Typed], literals: list[str | None]) -> Typed:
    return _datetime("date_parse")(args, literals)


datetime.node("current_date", args="()", returns="date", via="CurrentDate")
datetime.node("current_timestamp", args="()", returns="timestamp(3) with time zone", via="CurrentTimestamp")
datetime.node("extract", args="field FROM x", returns="bigint", via="Extract")
