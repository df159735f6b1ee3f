"""DuckDB macros the translated SQL calls: Trino's semantics where DuckDB's built-ins differ.

Pure SQL macros (no Python UDFs), created in an engine's database as the first statement calling
them needs them (with the macros they call): creating all of them takes a large share of a short
query's time, and `dw query` starts a new process each time. A macro that cannot give Athena's
answer for some input raises an error naming it instead (`not supported by the local engine: ...`).
"""

import re
import threading

import duckdb

from dw_platform.query.json_text import canonical_in_order, canonical_sorted, strictly_valid
from dw_platform.query.utf8 import from_utf8

_OFFSET = r"'^[+-]\d{2}:\d{2}$'"
_ISO_UTC = r"'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.]\d{1,3})?Z$'"
_ISO = r"'^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,3}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$'"
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
    "dw_tstz_text(v, p) AS list_transform([v], lambda w: list_transform([dw_tstz_local(w)], lambda l: "
    "CASE WHEN w IS NULL THEN NULL WHEN p = 0 THEN strftime(l, '%Y-%m-%d %H:%M:%S') || ' ' || w.z "
    "ELSE strftime(l, '%Y-%m-%d %H:%M:%S.') || substr(strftime(l, '%f'), 1, p) || ' ' || w.z END)[1])[1]",
    "dw_tstz_offset_text(v) AS CASE WHEN v.z = 'UTC' THEN 'Z' WHEN dw_offset_minutes(v.z) IS NOT NULL "
    "THEN v.z ELSE dw_minutes_text(CAST(epoch(dw_tstz_local(v) - timezone('UTC', v.i)) // 60 AS INTEGER)) END",
    "dw_minutes_text(m) AS (CASE WHEN m < 0 THEN '-' ELSE '+' END) || lpad(CAST(abs(m) // 60 AS VARCHAR), 2, '0') "
    "|| ':' || lpad(CAST(abs(m) % 60 AS VARCHAR), 2, '0')",
    "dw_tstz_plus(v, iv) AS CASE WHEN v IS NULL OR iv IS NULL THEN NULL "
    "WHEN dw_offset_minutes(v.z) IS NOT NULL THEN dw_tstz_from_local(dw_tstz_local(v) + iv, v.z) "
    "WHEN datepart('year', iv) <> 0 OR datepart('month', iv) <> 0 OR datepart('day', iv) <> 0 THEN "
    f"error({_REFUSE}calendar arithmetic on a timestamp in a named time zone') ELSE dw_tstz(v.i + iv, v.z) END",
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
    "dw_iso_local(p) AS CAST(p.y || '-' || p.mo || '-' || p.d || ' ' || COALESCE(NULLIF(p.h, ''), '00') || ':' "
    "|| COALESCE(NULLIF(p.mi, ''), '00') || ':' || COALESCE(NULLIF(p.sec, ''), '00') || '.' "
    "|| rpad(COALESCE(NULLIF(p.ms, ''), '0'), 3, '0') AS TIMESTAMP)",
    # The form events carry (JavaScript's toISOString(): all fields, UTC) first, cast natively: six
    # times faster than taking the text apart, which the other forms still need for their zone.
    f"dw_from_iso8601_timestamp(s) AS CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(s, {_ISO_UTC}) "
    f"THEN dw_tstz(CAST(s AS TIMESTAMPTZ), 'UTC') WHEN NOT regexp_full_match(s, {_ISO}) "
    "THEN dw_tstz_from_local(CAST(dw_fail_text('Invalid format: \"' || s || '\"') AS TIMESTAMP), 'UTC') "
    "ELSE list_transform([dw_iso_parts(s)], lambda p: dw_tstz_from_local(dw_iso_local(p), dw_iso_zone(p.zone)))[1] "
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
    # Jackson's JSON: DuckDB's json_valid also takes trailing commas, NaN and Infinity; text that may
    # hold one is checked again in Python.
    # (Separate tests: one regular expression with alternatives is four times slower.)
    r"dw_json_valid(s) AS json_valid(s) AND (NOT (regexp_matches(s, ',\s*[\]}]') OR contains(s, 'NaN') "
    "OR contains(s, 'Infinity')) OR dw_json_strictly_valid(s))",
    # Numbers as Java prints them.
    # The shortest digits of a finite, non-zero |x| (DuckDB's text of it) and the power of ten of the first.
    "dw_double_parts(s) AS CASE WHEN contains(s, 'e') THEN {'d': rtrim(replace(split_part(s, 'e', 1), '.', ''), '0'), "
    "'e': CAST(split_part(s, 'e', 2) AS INTEGER)} WHEN split_part(s, '.', 1) <> '0' THEN "
    "{'d': rtrim(split_part(s, '.', 1) || split_part(s, '.', 2), '0'), 'e': length(split_part(s, '.', 1)) - 1} "
    "ELSE {'d': trim(split_part(s, '.', 2), '0'), 'e': -(length(split_part(s, '.', 2)) "
    "- length(ltrim(split_part(s, '.', 2), '0')) + 1)} END",
    "dw_sci_text(x) AS (CASE WHEN x < 0 THEN '-' ELSE '' END) || list_transform([dw_double_parts("
    "CAST(abs(x) AS VARCHAR))], lambda p: p.d[1] || '.' || COALESCE(NULLIF(substr(p.d, 2), ''), '0') || 'E' "
    "|| p.e)[1]",
    # Java's Double.toString (Float.toString for a real): plain from 10^-3 to 10^7, else d.dddE<n>.
    "dw_java_double(x) AS CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'NaN' WHEN isinf(x) THEN "
    "(CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END) WHEN x = 0 OR (abs(x) >= 0.001 AND abs(x) < 10000000) "
    "THEN CAST(x AS VARCHAR) ELSE dw_sci_text(x) END",
    # Trino's CAST(double AS varchar): always d.dddE<n>.
    "dw_trino_double_text(x) AS CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'NaN' WHEN isinf(x) THEN "
    "(CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END) WHEN x = 0 THEN CAST(x AS VARCHAR) || 'E0' "
    "ELSE dw_sci_text(x) END",
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
# Python functions (utf8.py, json_text.py), registered as macros are created: name -> (function,
# argument type, result type).
_UDFS = {
    "dw_from_utf8": (from_utf8, "BLOB", "VARCHAR"),
    "dw_json_sorted": (canonical_sorted, "VARCHAR", "VARCHAR"),
    "dw_json_in_order": (canonical_in_order, "VARCHAR", "VARCHAR"),
    "dw_json_strictly_valid": (strictly_valid, "VARCHAR", "BOOLEAN"),
}
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
        the Python functions (_UDFS) they or those macros call."""
        wanted = set().union(*(macros_called(sql) for sql in statements))
        texts = [*statements, *(MACROS[_NAMES.index(n)] for n in wanted)]
        udfs = [name for name in _UDFS if any(name in text for text in texts)]
        with self._lock:
            for name in udfs:
                if name not in self.created:
                    function, argument, result = _UDFS[name]
                    self.connection.create_function(
                        name,
                        function,
                        [duckdb.sqltype(argument)],
                        duckdb.sqltype(result),
                        side_effects=False,
                    )
                    self.created.add(name)
            missing = [
                macro for name, macro in zip(_NAMES, MACROS, strict=True) if name in wanted - self.created
            ]
            if missing:
                self.connection.execute(";\n".join(f"CREATE OR REPLACE MACRO {m}" for m in missing))
                self.created |= wanted


def create_macros(connection: duckdb.DuckDBPyConnection) -> Macros:
    """Every macro at once (for callers that run SQL the engine did not translate)."""
    macros = Macros(connection)
    macros.ensure(" ".join([*_NAMES, *_UDFS]))
    return macros
