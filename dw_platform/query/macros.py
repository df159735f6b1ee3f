"""DuckDB macros the translated SQL calls: Trino's semantics where DuckDB's built-ins differ.

Pure SQL macros (no Python UDFs), created in an engine's database as the first statement calling
them needs them (with the macros they call): creating all of them takes a large share of a short
query's time, and `dw query` starts a new process each time. A macro that cannot give Athena's
answer for some input raises an error naming it instead (`not supported by the local engine: ...`).
"""

import re
import threading

import duckdb

from dw_platform.query.utf8 import from_utf8

_OFFSET = r"'^[+-]\d{2}:\d{2}$'"
# Athena's from_iso8601_timestamp is Joda's ISODateTimeFormat.dateTimeParser(): a date (yyyy, yyyy-MM
# or yyyy-MM-dd), optionally 'T', a time (HH, HH:mm or HH:mm:ss with 1 to 9 fraction digits after '.'
# or ',', kept to the millisecond by truncation) and an offset (Z, +HH, +HHmm or +HH:mm), letters in
# either case. _ISO_UTC is the common UTC subset (JavaScript, Java, Python, .NET, Go), cast natively.
_ISO_UTC = r"'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.]\d{1,9})?(?:Z|[+]00:?00)$'"
_ISO = (
    r"'^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:T(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$'"
)
_REFUSE = "'not supported by the local engine: "
FAILURE_MARK = "dw-failure: "

MACROS = [
    # A failure Trino's try() catches (a bad argument, a division by zero): a cast that cannot succeed,
    # which DuckDB's TRY catches too. error() is kept for refusals: DuckDB will not put a volatile
    # function under TRY, so a refusal can never turn into a NULL.
    f"dw_fail(message) AS CAST('{FAILURE_MARK}' || message AS INTEGER)",
    "dw_fail_text(message) AS CAST(dw_fail(message) AS VARCHAR)",
    "dw_checked(v, ok, msg) AS CASE WHEN v IS NULL THEN NULL WHEN ok THEN v ELSE dw_fail_text(msg) END",
    r"dw_integer_text(s) AS CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(s, '[+-]?\d+') THEN s "
    r"ELSE dw_fail_text('Cannot cast ''' || s || ''' to an integer type') END",
    r"dw_decimal_text(s) AS CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(s, '\s*[+-]?(\d+\.?\d*|\.\d+)\s*') "
    r"THEN trim(s) ELSE dw_fail_text('Cannot cast VARCHAR ''' || s || ''' to DECIMAL') END",
    r"dw_double_text(s) AS CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(s, "
    r"'\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|NaN|[+-]?Infinity)\s*') THEN trim(s) "
    r"ELSE dw_fail_text('Cannot cast ''' || s || ''' to DOUBLE') END",
    "dw_boolean_text(s) AS CASE WHEN s IS NULL THEN NULL WHEN lower(s) = 'true' THEN true "
    "WHEN lower(s) = 'false' THEN false ELSE error('Cannot cast ''' || s || ''' to BOOLEAN') END",
    # Half-up rounding of a timestamp to `unit` microseconds (floor-based, so also before 1970).
    "dw_round_timestamp(ts, unit) AS make_timestamp((epoch_us(ts) + unit // 2) - "
    "(((epoch_us(ts) + unit // 2) % unit) + unit) % unit)",
    # ---- timestamp with time zone: {i: instant, z: zone name} ----
    "dw_tstz(instant, zone) AS CASE WHEN instant IS NULL THEN NULL ELSE {'i': instant, 'z': zone} END",
    # Macros expand textually: `list_transform([x], lambda y: ...)[1]` binds x once where a body
    # would repeat it, so nested calls stay linear in size instead of multiplying.
    f"dw_offset_minutes(z) AS list_transform([z], lambda y: CASE WHEN y = 'UTC' THEN 0 "
    f"WHEN regexp_full_match(y, {_OFFSET}) THEN (CASE WHEN y[1] = '-' THEN -1 ELSE 1 END) "
    "* (CAST(y[2:3] AS INTEGER) * 60 + CAST(y[5:6] AS INTEGER)) END)[1]",
    "dw_tstz_local(v) AS list_transform([v], lambda w: list_transform([dw_offset_minutes(w.z)], lambda o: "
    "CASE WHEN o IS NOT NULL THEN timezone('UTC', w.i) + to_minutes(o) ELSE timezone(w.z, w.i) END)[1])[1]",
    "dw_tstz_from_local(ts, zone) AS list_transform([{'t': ts, 'z': zone}], lambda a: "
    "list_transform([dw_offset_minutes(a.z)], lambda o: dw_tstz(CASE WHEN o IS NOT NULL THEN "
    "timezone('UTC', a.t - to_minutes(o)) ELSE timezone(a.z, a.t) END, a.z))[1])[1]",
    # date_trunc in the value's zone; in UTC (every event-time form) straight on the instant, a
    # third cheaper than the round trip through the wall-clock time.
    "dw_tstz_trunc(unit, v) AS CASE WHEN v.z = 'UTC' THEN "
    "dw_tstz(timezone('UTC', CAST(date_trunc(unit, CAST(timezone('UTC', v.i) AS TIMESTAMP)) AS TIMESTAMP)), 'UTC') "
    "ELSE dw_tstz_from_local(date_trunc(unit, dw_tstz_local(v)), v.z) END",
    "dw_tstz_text(v, p) AS list_transform([v], lambda w: list_transform([dw_tstz_local(w)], lambda l: "
    "CASE WHEN w IS NULL THEN NULL WHEN p = 0 THEN strftime(l, '%Y-%m-%d %H:%M:%S') || ' ' || w.z "
    "ELSE strftime(l, '%Y-%m-%d %H:%M:%S.') || substr(strftime(l, '%f'), 1, p) || ' ' || w.z END)[1])[1]",
    "dw_tstz_offset_text(v) AS CASE WHEN v.z = 'UTC' THEN 'Z' WHEN dw_offset_minutes(v.z) IS NOT NULL "
    "THEN v.z ELSE dw_minutes_text(CAST(epoch(dw_tstz_local(v) - timezone('UTC', v.i)) // 60 AS INTEGER)) END",
    "dw_tstz_offset_minutes(v) AS CAST(trunc(epoch(dw_tstz_local(v) - timezone('UTC', v.i)) / 60) AS BIGINT)",
    "dw_minutes_text(m) AS (CASE WHEN m < 0 THEN '-' ELSE '+' END) || lpad(CAST(abs(m) // 60 AS VARCHAR), 2, '0') "
    "|| ':' || lpad(CAST(abs(m) % 60 AS VARCHAR), 2, '0')",
    # Trino adds an interval to the instant, months by the UTC calendar (TimestampWithTimeZoneOperators:
    # MONTH_OF_YEAR_UTC), whatever the value's zone.
    "dw_tstz_plus(v, iv) AS dw_tstz(timezone('UTC', timezone('UTC', v.i) + iv), v.z)",
    "dw_tstz_diff(unit, a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL "
    "WHEN dw_offset_minutes(a.z) IS NOT NULL AND a.z = b.z THEN "
    "CAST(date_sub(unit, dw_tstz_local(a), dw_tstz_local(b)) AS BIGINT) "
    "WHEN unit IN ('millisecond', 'second', 'minute', 'hour') THEN "
    "CAST(date_sub(unit, timezone('UTC', a.i), timezone('UTC', b.i)) AS BIGINT) "
    f"ELSE error({_REFUSE}date_diff of timestamps in different or named time zones') END",
    f"dw_iso_parts(s) AS regexp_extract(s, {_ISO}, ['y', 'mo', 'd', 'h', 'mi', 'sec', 'ms', 'zone'])",
    "dw_iso_zone(z) AS CASE WHEN z = '' OR z = 'Z' THEN 'UTC' "
    "WHEN substr(z, 2, 2) = '00' AND right(z, 2) IN ('00', z) AND length(z) >= 3 AND "
    "(length(z) = 3 OR right(z, 2) = '00') THEN 'UTC' "
    "ELSE z[1] || substr(z, 2, 2) || ':' || (CASE WHEN length(z) = 3 THEN '00' ELSE right(z, 2) END) END",
    "dw_iso_local(p) AS CAST(p.y || '-' || COALESCE(NULLIF(p.mo, ''), '01') || '-' || COALESCE(NULLIF(p.d, ''), '01') "
    "|| ' ' || COALESCE(NULLIF(p.h, ''), '00') || ':' "
    "|| COALESCE(NULLIF(p.mi, ''), '00') || ':' || COALESCE(NULLIF(p.sec, ''), '00') || '.' "
    "|| left(rpad(COALESCE(NULLIF(p.ms, ''), '0'), 3, '0'), 3) AS TIMESTAMP)",
    # A TIMESTAMPTZ cut to the millisecond (floor, also before 1970; date_trunc costs 3 times more).
    "dw_floor_ms(t) AS make_timestamptz(epoch_us(t) - ((epoch_us(t) % 1000) + 1000) % 1000)",
    # The forms events carry (all fields, UTC) first, cast natively: six times faster than taking the
    # text apart, which the other forms still need for their zone. The cast keeps microseconds (it
    # truncates the rest), Athena milliseconds: JavaScript's form (up to 24 characters) needs no cut.
    f"dw_from_iso8601_timestamp(s) AS CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(s, {_ISO_UTC}) "
    "THEN dw_tstz(CASE WHEN length(s) <= 24 THEN CAST(s AS TIMESTAMPTZ) "
    "ELSE dw_floor_ms(CAST(s AS TIMESTAMPTZ)) END, 'UTC') "
    f"WHEN NOT regexp_full_match(upper(s), {_ISO}) "
    "THEN dw_tstz_from_local(CAST(dw_fail_text('Invalid format: \"' || s || '\"') AS TIMESTAMP), 'UTC') "
    "ELSE list_transform([dw_iso_parts(upper(s))], lambda p: dw_tstz_from_local(dw_iso_local(p), dw_iso_zone(p.zone)))[1] "
    "END",
    r"dw_from_iso8601_date(s) AS CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(s, '\d{4}-(W\d{2}(-?\d)?|\d{3})') "
    f"THEN error({_REFUSE}week and ordinal dates in from_iso8601_date') "
    r"WHEN regexp_full_match(s, '\d{4}-\d{2}-\d{2}') "
    "THEN CAST(s AS DATE) ELSE CAST(dw_fail_text('Invalid format: \"' || s || '\"') AS DATE) END",
    "dw_date_plus_days(d, iv) AS CASE WHEN d IS NULL OR iv IS NULL THEN NULL "
    "WHEN epoch(iv) % 86400 <> 0 THEN error('Cannot add hour, minutes or seconds to a date') "
    "ELSE CAST(d + iv AS DATE) END",
    # ---- intervals as Trino prints them ----
    "dw_interval_text_ds(iv) AS CASE WHEN iv IS NULL THEN NULL ELSE "
    "(CASE WHEN epoch(iv) < 0 THEN '-' ELSE '' END) || dw_ms_text(abs(CAST(round(epoch(iv) * 1000) AS BIGINT))) END",
    "dw_ms_text(ms) AS CAST(ms // 86400000 AS VARCHAR) || ' ' || lpad(CAST(ms // 3600000 % 24 AS VARCHAR), 2, '0') "
    "|| ':' || lpad(CAST(ms // 60000 % 60 AS VARCHAR), 2, '0') || ':' || lpad(CAST(ms // 1000 % 60 AS VARCHAR), 2, '0') "
    "|| '.' || lpad(CAST(ms % 1000 AS VARCHAR), 3, '0')",
    "dw_interval_text_ym(iv) AS CASE WHEN iv IS NULL THEN NULL ELSE dw_months_text("
    "datepart('year', iv) * 12 + datepart('month', iv)) END",
    "dw_months_text(m) AS (CASE WHEN m < 0 THEN '-' ELSE '' END) || CAST(abs(m) // 12 AS VARCHAR) || '-' "
    "|| CAST(abs(m) % 12 AS VARCHAR)",
    # ---- numbers ----
    "dw_decimal_quotient(n, d) AS CASE WHEN d = 0 THEN dw_fail('Division by zero') ELSE "
    "sign(n) * sign(d) * ((2 * abs(n) + abs(d)) // (2 * abs(d))) END",
    "dw_remainder(n, d) AS CASE WHEN d = 0 THEN dw_fail('Division by zero') ELSE n % d END",
    "dw_ln(x) AS CASE WHEN x = 0 THEN CAST('-Infinity' AS DOUBLE) WHEN x < 0 OR isnan(x) "
    "THEN CAST('NaN' AS DOUBLE) ELSE ln(x) END",
    "dw_log10(x) AS CASE WHEN x = 0 THEN CAST('-Infinity' AS DOUBLE) WHEN x < 0 OR isnan(x) "
    "THEN CAST('NaN' AS DOUBLE) ELSE log10(x) END",
    "dw_single_row(rows) AS CASE WHEN len(rows) > 1 THEN error('Scalar sub-query has returned multiple rows') "
    "ELSE rows[1] END",
    # ---- strings ----
    "dw_substr(s, p) AS CASE WHEN s IS NULL OR p IS NULL THEN NULL WHEN p = 0 OR p > length(s) "
    "OR -p > length(s) THEN '' WHEN p > 0 THEN substring(s, p) ELSE substring(s, length(s) + p + 1) END, "
    "(s, p, n) AS CASE WHEN s IS NULL OR p IS NULL OR n IS NULL THEN NULL WHEN p = 0 OR n <= 0 "
    "OR p > length(s) OR -p > length(s) THEN '' WHEN p > 0 THEN substring(s, p, n) "
    "ELSE substring(s, length(s) + p + 1, n) END",
    "dw_split_part(s, d, n) AS CASE WHEN s IS NULL OR d IS NULL OR n IS NULL THEN NULL "
    "WHEN n <= 0 THEN dw_fail_text('Index must be greater than zero') "
    f"WHEN d = '' THEN error({_REFUSE}split_part() on an empty delimiter') "
    "WHEN n > len(string_split(s, d)) THEN NULL ELSE string_split(s, d)[n] END",
    # ---- JSON ----
    f"dw_json_checked(j) AS CASE WHEN j IS NULL OR json_valid(j) THEN j ELSE error({_REFUSE}JSON functions "
    "over text that is not valid JSON') END",
    "dw_json_scalar(j, p) AS CASE WHEN dw_json_checked(j) IS NULL THEN NULL "
    "WHEN json_type(j, p) IS NULL OR json_type(j, p) IN ('OBJECT', 'ARRAY', 'NULL') THEN NULL "
    f"WHEN json_type(j, p) = 'DOUBLE' THEN error({_REFUSE}json_extract_scalar() of a non-integer number') "
    "ELSE json_extract_string(j, p) END",
    "dw_json_extract(j, p) AS CASE WHEN dw_json_checked(j) IS NULL THEN NULL ELSE json_extract(j, p) END",
    "dw_json_size(j, p) AS CASE WHEN dw_json_checked(j) IS NULL OR json_type(j, p) IS NULL THEN NULL "
    "WHEN json_type(j, p) = 'ARRAY' THEN CAST(json_array_length(j, p) AS BIGINT) "
    "WHEN json_type(j, p) = 'OBJECT' THEN CAST(len(json_keys(j, p)) AS BIGINT) ELSE CAST(0 AS BIGINT) END",
    "dw_json_array_length(j) AS CASE WHEN dw_json_checked(j) IS NULL THEN NULL "
    "WHEN json_type(j) = 'ARRAY' THEN CAST(json_array_length(j) AS BIGINT) END",
    "dw_json_parse(s) AS CASE WHEN s IS NULL THEN NULL WHEN json_valid(s) THEN json(s) "
    "ELSE error('Cannot convert value to JSON: ''' || s || '''') END",
    # Athena's JSON text orders object keys and prints numbers its own way: refuse what may differ.
    "dw_json_text(j) AS CASE WHEN j IS NULL THEN NULL "
    r"WHEN regexp_matches(CAST(j AS VARCHAR), '[0-9][.eE]|\{[^{}]*,') THEN "
    f"error({_REFUSE}printing this JSON value exactly as Athena does') ELSE CAST(j AS VARCHAR) END",
    # ---- arrays and maps ----
    "dw_array_subscript(a, i) AS CASE WHEN a IS NULL OR i IS NULL THEN NULL "
    "WHEN i < 1 THEN error('SQL array indices start at 1') "
    "WHEN i > len(a) THEN error('Array subscript must be less than or equal to array length: ' || i || ' > ' "
    "|| len(a)) ELSE a[i] END",
    "dw_element_at(a, i) AS CASE WHEN a IS NULL OR i IS NULL THEN NULL "
    "WHEN i = 0 THEN error('SQL array indices start at 1') WHEN abs(i) > len(a) THEN NULL "
    "WHEN i > 0 THEN a[i] ELSE a[len(a) + i + 1] END",
    "dw_map_subscript(m, k) AS CASE WHEN m IS NULL OR k IS NULL THEN NULL "
    "WHEN NOT list_contains(map_keys(m), k) THEN error('Key not present in map') "
    "ELSE map_values(m)[list_position(map_keys(m), k)] END",
    "dw_map_element_at(m, k) AS CASE WHEN m IS NULL OR k IS NULL THEN NULL "
    "WHEN list_contains(map_keys(m), k) THEN map_values(m)[list_position(map_keys(m), k)] END",
    "dw_has_null(a) AS list_contains(list_transform(a, lambda e: e IS NULL), true)",
    "dw_contains(a, x) AS CASE WHEN a IS NULL OR x IS NULL THEN NULL WHEN list_contains(a, x) THEN true "
    "WHEN dw_has_null(a) THEN NULL ELSE false END",
    "dw_array_position(a, x) AS CASE WHEN a IS NULL OR x IS NULL THEN NULL "
    "ELSE CAST(COALESCE(list_position(a, x), 0) AS BIGINT) END",
    "dw_sequence(a, b, step) AS CASE WHEN a IS NULL OR b IS NULL OR step IS NULL THEN NULL "
    "WHEN step = 0 THEN error('step must not be zero') "
    "WHEN (step > 0 AND a > b) OR (step < 0 AND a < b) THEN error('sequence stop value should be greater "
    "than or equal to start value if step is greater than zero otherwise stop should be less than or equal "
    "to start') WHEN (b - a) // step + 1 > 10000 THEN "
    "error('result of sequence function must not have more than 10000 entries') "
    "ELSE generate_series(a, b, step) END",
    # sequence() over dates and timestamps (as TIMESTAMPs): a day-to-second step in microseconds `s`,
    # a year-to-month step in months `m` (each entry start + i * step, as Trino computes it).
    "dw_sequence_us(a, b, s) AS CASE WHEN a IS NULL OR b IS NULL OR s IS NULL THEN NULL "
    "WHEN s = 0 THEN error('step must not be zero') "
    "WHEN (s > 0 AND a > b) OR (s < 0 AND a < b) THEN error('sequence stop value should be greater "
    "than or equal to start value if step is greater than zero otherwise stop should be less than or equal "
    "to start') WHEN (epoch_us(b) - epoch_us(a)) // s + 1 > 10000 THEN "
    "error('result of sequence function must not have more than 10000 entries') "
    "ELSE list_transform(range((epoch_us(b) - epoch_us(a)) // s + 1), lambda i: make_timestamp(epoch_us(a) + i * s)) "
    "END",
    "dw_sequence_months(a, b, m) AS CASE WHEN a IS NULL OR b IS NULL OR m IS NULL THEN NULL "
    "WHEN m = 0 THEN error('step must not be zero') "
    "WHEN (m > 0 AND a > b) OR (m < 0 AND a < b) THEN error('sequence stop value should be greater "
    "than or equal to start value if step is greater than zero otherwise stop should be less than or equal "
    "to start') WHEN abs(dw_months_between(a, b)) // abs(m) + 1 > 10000 THEN "
    "error('result of sequence function must not have more than 10000 entries') "
    "ELSE list_filter(list_transform(range(abs(dw_months_between(a, b)) // abs(m) + 1), "
    "lambda i: a + to_months(CAST(i * m AS INTEGER))), lambda x: (m > 0 AND x <= b) OR (m < 0 AND x >= b)) END",
    "dw_months_between(a, b) AS (year(b) - year(a)) * 12 + month(b) - month(a)",
    "dw_slice(a, start, n) AS CASE WHEN a IS NULL OR start IS NULL OR n IS NULL THEN NULL "
    "WHEN start = 0 THEN error('SQL array indices start at 1') "
    "WHEN n < 0 THEN error('length must be greater than or equal to 0') "
    "WHEN (CASE WHEN start > 0 THEN start ELSE len(a) + start + 1 END) < 1 THEN list_slice(a, 1, 0) "
    "ELSE list_slice(a, CASE WHEN start > 0 THEN start ELSE len(a) + start + 1 END, "
    "(CASE WHEN start > 0 THEN start ELSE len(a) + start + 1 END) + n - 1) END",
    "dw_map(k, v) AS CASE WHEN k IS NULL OR v IS NULL THEN NULL WHEN len(k) <> len(v) THEN "
    "error('Key and value arrays must be the same length') ELSE map(k, v) END",
    "dw_any_match(r) AS CASE WHEN r IS NULL THEN NULL WHEN list_contains(r, true) THEN true "
    "WHEN dw_has_null(r) THEN NULL ELSE false END",
    "dw_all_match(r) AS CASE WHEN r IS NULL THEN NULL WHEN list_contains(r, false) THEN false "
    "WHEN dw_has_null(r) THEN NULL ELSE true END",
    "dw_none_match(r) AS CASE WHEN r IS NULL THEN NULL WHEN list_contains(r, true) THEN false "
    "WHEN dw_has_null(r) THEN NULL ELSE true END",
]


_CALLED = re.compile(r"\bdw_\w+")
_UDF = "dw_from_utf8"  # a Python function (see utf8.py), registered as macros are created
_NAMES = [macro.split("(", 1)[0] for macro in MACROS]
# The macros each macro calls, by name (a macro is created after those it calls, as MACROS lists them).
_CALLS = {
    name: {n for n in _CALLED.findall(macro.split(" AS ", 1)[1]) if n in _NAMES and n != name}
    for name, macro in zip(_NAMES, MACROS, strict=True)
}


def macros_called(sql: str) -> set[str]:
    """The macros `sql` calls, directly or through other macros."""
    wanted = {name for name in _CALLED.findall(sql) if name in _CALLS}
    pending = list(wanted)
    while pending:
        for called in _CALLS[pending.pop()] - wanted:
            wanted.add(called)
            pending.append(called)
    return wanted


class Macros:
    """The macros of one DuckDB database, each created the first time a statement calls it."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection
        self.created: set[str] = set()
        self._lock = threading.Lock()

    def ensure(self, *statements: str) -> None:
        """Create the macros the statements call that this database lacks (in one round trip), and
        the one Python function, dw_from_utf8, if they call it."""
        wanted = set().union(*(macros_called(sql) for sql in statements))
        calls_udf = any(_UDF in sql for sql in statements) or any(
            _UDF in MACROS[_NAMES.index(n)] for n in wanted
        )
        with self._lock:
            if calls_udf and _UDF not in self.created:
                self.connection.create_function(
                    _UDF, from_utf8, [duckdb.sqltype("BLOB")], duckdb.sqltype("VARCHAR"), side_effects=False
                )
                self.created.add(_UDF)
            missing = [
                macro for name, macro in zip(_NAMES, MACROS, strict=True) if name in wanted - self.created
            ]
            if missing:
                self.connection.execute(";\n".join(f"CREATE OR REPLACE MACRO {m}" for m in missing))
                self.created |= wanted


def create_macros(connection: duckdb.DuckDBPyConnection) -> Macros:
    """Every macro at once (for callers that run SQL the engine did not translate)."""
    macros = Macros(connection)
    macros.ensure(" ".join([*_NAMES, _UDF]))
    return macros
