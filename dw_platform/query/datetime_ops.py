"""Trino's date and time functions and operators as DuckDB text.

A `timestamp with time zone` is a DuckDB struct of the instant (`i`) and the zone's name (`z`), so
fields read in the value's own zone (`hour(from_iso8601_timestamp('...+02:00'))` is 10) and
`AT TIME ZONE` changes the zone and keeps the instant. Calendar arithmetic in a named zone (DST)
is refused at run time rather than computed on the instant.
"""

import re

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.operators import Typed, cast, coerce_all, round_timestamp, timestamp_text
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


# ---- functions ------------------------------------------------------------------------------------
def call(name: str, args: list[Typed]) -> Typed:
    if name in _FIELDS or name in _ZONE_FIELDS:
        if len(args) != 1:
            raise QueryError(f"{name}() takes 1 argument")
        return extract_field(name, args[0])
    handler = _HANDLERS.get(name)
    if handler is None:
        raise UnsupportedQuery(f"the function {name}()")
    return handler(args)


def _arity(name: str, args: list[Typed], *counts: int) -> None:
    if len(args) not in counts:
        raise UnsupportedQuery(f"{name}() with {len(args)} arguments")


def _date_diff(args: list[Typed]) -> Typed:
    _arity("date_diff", args, 3)
    unit = _unit("date_diff", args[0])
    (a, b), common = coerce_all(
        [_temporal("date_diff", args[1]), _temporal("date_diff", args[2])], "date_diff"
    )
    if common.name == "date" and unit not in _DATE_UNITS:
        raise QueryError(f"'{unit}' is not a valid DATE field")
    if common.name == "timestamptz":
        return Typed(f"dw_tstz_diff('{unit}', {a.sql}, {b.sql})", tt.BIGINT)
    # DuckDB's date_sub counts whole units elapsed, as Trino's date_diff does.
    return Typed(f"CAST(date_sub('{unit}', {a.sql}, {b.sql}) AS BIGINT)", tt.BIGINT)


def _interval(unit: str, amount: str) -> str:
    if unit == "week":
        return f"to_days(CAST(({amount}) * 7 AS INTEGER))"
    if unit == "quarter":
        return f"to_months(CAST(({amount}) * 3 AS INTEGER))"
    if unit == "millisecond":
        return f"to_milliseconds(CAST({amount} AS BIGINT))"
    return f"to_{unit}s(CAST({amount} AS {'INTEGER' if unit in ('day', 'month', 'year') else 'BIGINT'}))"


def _date_add(args: list[Typed]) -> Typed:
    _arity("date_add", args, 3)
    unit = _unit("date_add", args[0])
    amount, value = args[1], _temporal("date_add", args[2])
    if not (amount.type.is_integer or amount.type.is_unknown):
        raise QueryError(f"date_add() expects an integer amount, got {amount.type.trino()}")
    interval = _interval(unit, amount.sql)
    if value.type.name == "date":
        if unit not in _DATE_UNITS:
            raise QueryError(f"'{unit}' is not a valid DATE field")
        return Typed(f"CAST({value.sql} + {interval} AS DATE)", value.type)
    if value.type.name == "timestamp":
        if unit == "millisecond" and (value.type.precision or 0) < 3:
            raise UnsupportedQuery("date_add('millisecond', ...) on a timestamp with fewer than 3 digits")
        return Typed(f"({value.sql} + {interval})", value.type)
    return Typed(f"dw_tstz_plus({value.sql}, {interval})", value.type)


def _date_trunc(args: list[Typed]) -> Typed:
    _arity("date_trunc", args, 2)
    unit = _unit("date_trunc", args[0])
    value = _temporal("date_trunc", args[1])
    if value.type.name == "date":
        if unit not in _DATE_UNITS:
            raise QueryError(f"'{unit}' is not a valid DATE field")
        return Typed(f"CAST(date_trunc('{unit}', {value.sql}) AS DATE)", value.type)
    if value.type.name == "timestamp":
        return Typed(f"date_trunc('{unit}', {value.sql})", value.type)
    return Typed(f"dw_tstz_trunc('{unit}', {value.sql})", value.type)


def _from_iso8601_timestamp(args: list[Typed]) -> Typed:
    _arity("from_iso8601_timestamp", args, 1)
    _string("from_iso8601_timestamp", args[0])
    return Typed(f"dw_from_iso8601_timestamp({args[0].sql})", tt.timestamptz(3))


def _from_iso8601_date(args: list[Typed]) -> Typed:
    _arity("from_iso8601_date", args, 1)
    _string("from_iso8601_date", args[0])
    return Typed(f"dw_from_iso8601_date({args[0].sql})", tt.DATE)


def _string(name: str, value: Typed) -> None:
    if not (value.type.is_string or value.type.is_unknown):
        raise QueryError(f"{name}() expects varchar, got {value.type.trino()}")


def _to_iso8601(args: list[Typed]) -> Typed:
    _arity("to_iso8601", args, 1)
    value = _temporal("to_iso8601", args[0])
    if value.type.name == "date":
        return Typed(f"strftime({value.sql}, '%Y-%m-%d')", tt.varchar(16))
    precision = value.type.precision or 0
    text = timestamp_text(_local(value), precision).replace("'%Y-%m-%d %H:%M:%S", "'%Y-%m-%dT%H:%M:%S")
    # Trino's length bound: a signed 6-digit year, the fraction and (with a zone) a 6-character offset.
    length = (22 if value.type.name == "timestamp" else 28) + (precision + 1 if precision else 0)
    if value.type.name == "timestamp":
        return Typed(text, tt.varchar(length))
    return Typed(f"({text} || dw_tstz_offset_text({value.sql}))", tt.varchar(length))


def _with_timezone(args: list[Typed]) -> Typed:
    _arity("with_timezone", args, 2)
    value = args[0]
    if value.type.name != "timestamp":
        raise QueryError(f"with_timezone() expects a timestamp, got {value.type.trino()}")
    zone = _zone(args[1])
    return Typed(
        f"dw_tstz(dw_tstz_from_local({value.sql}, '{zone}').i, '{zone}')",
        tt.timestamptz(value.type.precision or 0),
    )


def _from_unixtime(args: list[Typed]) -> Typed:
    _arity("from_unixtime", args, 1)
    value = args[0]
    if not (value.type.is_numeric or value.type.is_unknown):
        raise QueryError(f"from_unixtime() expects a number, got {value.type.trino()}")
    return Typed(
        f"dw_tstz(make_timestamptz(CAST(round(CAST({value.sql} AS DOUBLE) * 1000) AS BIGINT) * 1000), 'UTC')",
        tt.timestamptz(3),
    )


def _to_unixtime(args: list[Typed]) -> Typed:
    _arity("to_unixtime", args, 1)
    value = _temporal("to_unixtime", args[0])
    if value.type.name == "date":
        raise QueryError("to_unixtime() expects a timestamp")
    instant = f"({value.sql}).i" if value.type.name == "timestamptz" else f"timezone('UTC', {value.sql})"
    return Typed(f"(epoch_us({instant}) / 1000000.0)", tt.DOUBLE)


def _last_day_of_month(args: list[Typed]) -> Typed:
    _arity("last_day_of_month", args, 1)
    value = _temporal("last_day_of_month", args[0])
    return Typed(f"last_day({_local(value)})", tt.DATE)


def _now(args: list[Typed]) -> Typed:
    _arity("now", args, 0)
    return Typed("dw_tstz(date_trunc('millisecond', get_current_timestamp()), 'UTC')", tt.timestamptz(3))


def _date(args: list[Typed]) -> Typed:
    _arity("date", args, 1)
    return cast(args[0], tt.DATE)


_HANDLERS = {
    "date_diff": _date_diff,
    "date_add": _date_add,
    "date_trunc": _date_trunc,
    "from_iso8601_timestamp": _from_iso8601_timestamp,
    "from_iso8601_date": _from_iso8601_date,
    "to_iso8601": _to_iso8601,
    "with_timezone": _with_timezone,
    "at_timezone": lambda args: (_arity("at_timezone", args, 2), at_timezone(args[0], args[1]))[1],
    "from_unixtime": _from_unixtime,
    "to_unixtime": _to_unixtime,
    "last_day_of_month": _last_day_of_month,
    "now": _now,
    "date": _date,
}


# ---- formatting ------------------------------------------------------------------------------------
_MYSQL_FORMAT = {
    "a": "%a",
    "b": "%b",
    "c": "%-m",
    "d": "%d",
    "e": "%-d",
    "H": "%H",
    "h": "%I",
    "I": "%I",
    "i": "%M",
    "j": "%j",
    "k": "%-H",
    "l": "%-I",
    "M": "%B",
    "m": "%m",
    "p": "%p",
    "r": "%I:%M:%S %p",
    "S": "%S",
    "s": "%S",
    "T": "%H:%M:%S",
    "W": "%A",
    "Y": "%Y",
    "y": "%y",
    "%": "%%",
}
_MYSQL_PARSE = {
    "d": "%d",
    "e": "%d",
    "H": "%H",
    "h": "%I",
    "I": "%I",
    "i": "%M",
    "m": "%m",
    "c": "%m",
    "p": "%p",
    "S": "%S",
    "s": "%S",
    "T": "%H:%M:%S",
    "Y": "%Y",
    "j": "%j",
    "k": "%H",
    "%": "%%",
    "b": "%b",
    "M": "%B",
}


def _mysql(pattern: str, table: dict[str, str], name: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%" and i + 1 < len(pattern):
            spec = pattern[i + 1]
            if spec not in table:
                raise UnsupportedQuery(f"{name}() with the specifier %{spec}")
            out.append(table[spec])
            i += 2
        elif char == "%":
            raise UnsupportedQuery(f"{name}() with a lone %")
        else:
            out.append(char)
            i += 1
    return "".join(out).replace("'", "''")


_JODA = {
    "yyyy": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSS": "%g",
    "a": "%p",
    "EEEE": "%A",
    "EEE": "%a",
    "DDD": "%j",
}


def _joda(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end == -1:
                raise QueryError(f"unterminated quote in the pattern {pattern!r}")
            out.append("'" if end == i + 1 else pattern[i + 1 : end].replace("%", "%%"))
            i = end + 1
        elif char.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == char:
                j += 1
            run = pattern[i:j]
            if run not in _JODA:
                raise UnsupportedQuery(f"format_datetime() with the pattern letters {run!r}")
            out.append(_JODA[run])
            i = j
        else:
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out).replace("'", "''")


def _literal(value: str | None, name: str) -> str:
    if value is None:
        raise UnsupportedQuery(f"{name}() with a pattern that is not a literal")
    return value


def format_datetime(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("format_datetime", args, 2)
    value = _temporal("format_datetime", args[0])
    pattern = _joda(_literal(literals[1], "format_datetime"))
    local = _local(value)
    if (value.type.precision or 0) > 3:
        local = round_timestamp(local, 3)  # Joda formats milliseconds: Trino rounds to them first
    return Typed(f"strftime({local}, '{pattern}')", tt.VARCHAR)


def date_format(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("date_format", args, 2)
    value = _temporal("date_format", args[0])
    pattern = _mysql(_literal(literals[1], "date_format"), _MYSQL_FORMAT, "date_format")
    return Typed(f"strftime({_local(value)}, '{pattern}')", tt.VARCHAR)


def date_parse(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("date_parse", args, 2)
    _string("date_parse", args[0])
    pattern = _mysql(_literal(literals[1], "date_parse"), _MYSQL_PARSE, "date_parse")
    text = args[0].sql
    if "%I" in pattern and "%p" not in pattern:
        # A 12-hour clock without %p is before noon (Joda's default half-day): 12 is hour 0.
        text, pattern = f"({text} || ' AM')", pattern + " %p"
    return Typed(round_timestamp(f"strptime({text}, '{pattern}')", 3), tt.timestamp(3))


def temporal_sequence(args: list[Typed]) -> Typed:
    """sequence() of dates (step 1 day by default, or whole days, or months) or timestamps (a
    day-to-second or year-to-month step), entries start + i * step, as an array of the start's type."""
    if len(args) == 2 and all(a.type.name == "date" or a.type.is_unknown for a in args):
        args = [*args, Typed("INTERVAL 1 DAY", tt.INTERVAL_DS)]
        default_step = True
    else:
        default_step = False
    if len(args) != 3:
        raise QueryError("sequence() of timestamps takes a step")
    (start, stop), common = coerce_all(args[:2], "sequence")
    step = args[2]
    if step.type.name not in ("interval_ds", "interval_ym"):
        raise QueryError(f"sequence() of {common.trino()} takes an interval step, got {step.type.trino()}")
    a, b = f"CAST({start.sql} AS TIMESTAMP)", f"CAST({stop.sql} AS TIMESTAMP)"
    if step.type.name == "interval_ym":
        months = f"CAST(datepart('year', {step.sql}) * 12 + datepart('month', {step.sql}) AS BIGINT)"
        entries = f"dw_sequence_months({a}, {b}, {months})"
    else:
        micros = f"CAST(round(epoch({step.sql}) * 1000000) AS BIGINT)"
        if default_step:
            micros = f"(CASE WHEN {a} <= {b} THEN 86400000000 ELSE -86400000000 END)"
        elif common.name == "date":
            micros = (
                f"(CASE WHEN {micros} % 86400000000 = 0 THEN {micros} ELSE "
                "error('sequence step must be a day interval if start and end values are dates') END)"
            )
        entries = f"dw_sequence_us({a}, {b}, {micros})"
    if common.name == "date":
        return Typed(f"list_transform({entries}, lambda __dw_d: CAST(__dw_d AS DATE))", tt.array(tt.DATE))
    if common.name != "timestamp":
        raise UnsupportedQuery(f"sequence() of {common.trino()}")
    return Typed(entries, tt.array(common))
