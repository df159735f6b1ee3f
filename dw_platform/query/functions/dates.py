"""Trino's date and time functions (functions/datetime.md): their translations and their specs.
EXTRACT, AT TIME ZONE, current_date and current_timestamp are syntax sqlglot reads into nodes of
their own (calls.py); the date and time operators, fields and zones are in query/datetime_ops.py."""

from dw_platform.query import trino_types as tt
from dw_platform.query.datetime_ops import (
    _DATE_UNITS,
    _FIELDS,
    _ZONE_FIELDS,
    _local,
    _temporal,
    _unit,
    _zone,
    at_timezone,
    extract_field,
)
from dw_platform.query.functions.checks import Scalar, _arity
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed, cast, coerce_all, round_timestamp, timestamp_text
from dw_platform.query.sql import QueryError, UnsupportedQuery

datetime = Family("datetime")


# ---- functions ------------------------------------------------------------------------------------
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


# ---- the functions, by name ----------------------------------------------------------------------
def _at_timezone(args: list[Typed]) -> Typed:
    _arity("at_timezone", args, 2)
    return at_timezone(args[0], args[1])


def _field(name: str) -> Scalar:
    """hour(x), year(x), ...: the field of EXTRACT (timezone_hour and timezone_minute are functions only)."""

    def translate(args: list[Typed]) -> Typed:
        if len(args) != 1:
            raise QueryError(f"{name}() takes 1 argument")
        return extract_field(name, args[0])

    return translate


_T = "date | time | timestamp(p) | timestamp(p) with time zone"
# name: (translation, argument types, return type)
_FUNCTIONS: dict[str, tuple[Scalar, str, str]] = {
    "date_diff": (_date_diff, "unit varchar, x, y (both date, time or timestamp)", "bigint"),
    "date_add": (_date_add, "unit varchar, value bigint, x (date, time or timestamp)", "the type of x"),
    "date_trunc": (_date_trunc, "unit varchar, x (date, time or timestamp)", "the type of x"),
    "from_iso8601_timestamp": (_from_iso8601_timestamp, "varchar", "timestamp(3) with time zone"),
    "from_iso8601_date": (_from_iso8601_date, "varchar", "date"),
    "to_iso8601": (_to_iso8601, "date | timestamp(p) | timestamp(p) with time zone", "varchar"),
    "at_timezone": (_at_timezone, "timestamp(p) with time zone, zone varchar", "timestamp(p) with time zone"),
    "with_timezone": (_with_timezone, "timestamp(p), zone varchar", "timestamp(p) with time zone"),
    "from_unixtime": (
        _from_unixtime,
        "double[, zone varchar | hours bigint, minutes bigint]",
        "timestamp(3) with time zone",
    ),
    "to_unixtime": (_to_unixtime, "timestamp(p) with time zone", "double"),
    "last_day_of_month": (_last_day_of_month, "date | timestamp(p) | timestamp(p) with time zone", "date"),
    "now": (_now, "()", "timestamp(3) with time zone"),
    "date": (_date, "varchar | timestamp(p) | timestamp(p) with time zone", "date"),
}
for _name in (*_FIELDS, *_ZONE_FIELDS):
    _of = "timestamp(p) with time zone" if _name in _ZONE_FIELDS else _T
    _FUNCTIONS[_name] = (_field(_name), f"x ({_of}): a field of it", "bigint")
for _name, (_translate, _args, _returns) in _FUNCTIONS.items():
    datetime.scalar(_name, args=_args, returns=_returns)(_translate)

datetime.literals(
    "format_datetime", args="timestamp(p) | timestamp(p) with time zone, format (Joda)", returns="varchar"
)(format_datetime)
datetime.literals(
    "date_format", args="timestamp(p) | timestamp(p) with time zone, format (MySQL)", returns="varchar"
)(date_format)
datetime.literals("date_parse", args="varchar, format (MySQL)", returns="timestamp(3)")(date_parse)

datetime.node("current_date", args="()", returns="date", via="CurrentDate")
datetime.node("current_timestamp", args="()", returns="timestamp(3) with time zone", via="CurrentTimestamp")
datetime.node("extract", args="field FROM x", returns="bigint", via="Extract")
