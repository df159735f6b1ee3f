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
# Athena's from_iso8601_timestamp is Joda's ISODateTimeFormat.dateTimeParser(): a date (yyyy, yyyy-MM
# or yyyy-MM-dd), optionally 'T', a time (HH, HH:mm or HH:mm:ss with 1 to 9 fraction digits after '.'
# or ',', kept to the millisecond by truncation) and an offset (Z, +HH, +HHmm or +HH:mm), letters in
# either case. _ISO_UTC is the common UTC subset (JavaScript, Java, Python, .NET, Go), cast natively.
_ISO_UTC = r"'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.]\d{1,9})?(?:Z|[+]00:?00)$'"
_ISO = (
    r"'^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:T(?:(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$'"
)
_JS_ISO = "%Y-%m-%dT%H:%M:%S.%gZ"  # JavaScript's toISOString(), as strptime reads it
_REFUSE = "'not supported by the local engine: "
FAILURE_MARK = "dw-failure: "


def _crc32_table() -> list[int]:
    """The CRC-32 (IEEE 802.3, reflected) table Java's java.util.zip.CRC32 uses."""
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else c >> 1
        table.append(c)
    return table


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
    r"'\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?NaN|[+-]?Infinity)\s*') "
    r"THEN CASE WHEN contains(s, 'NaN') THEN 'NaN' ELSE trim(s) END "  # Java reads -NaN as NaN
    r"ELSE dw_fail_text('Cannot cast ''' || s || ''' to DOUBLE') END",
    # Trino also reads t, f, 1 and 0 (any case), and nothing else.
    "dw_boolean_text(s) AS CASE WHEN s IS NULL THEN NULL WHEN lower(s) IN ('true', 't', '1') THEN true "
    "WHEN lower(s) IN ('false', 'f', '0') THEN false "
    "ELSE CAST(dw_fail('Cannot cast ''' || s || ''' to BOOLEAN') AS BOOLEAN) END",
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
    # date_trunc in the value's zone; in UTC (every event-time form) on the instant's UTC wall clock,
    # reached through epoch_us: timezone('UTC', ...) and date_trunc of a TIMESTAMPTZ go through ICU's
    # calendar, five times the cost of the whole truncation over plain microseconds.
    "dw_tstz_trunc(unit, v) AS CASE WHEN v.z = 'UTC' THEN "
    "{'i': make_timestamptz(epoch_us(date_trunc(unit, make_timestamp(epoch_us(v.i))))), 'z': 'UTC'} "
    "ELSE list_transform([v], lambda w: dw_tstz_from_local(date_trunc(unit, dw_tstz_local(w)), w.z))[1] END",
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
    f"dw_from_iso8601_general(s) AS CASE WHEN s IS NULL THEN NULL WHEN regexp_full_match(s, {_ISO_UTC}) "
    "THEN dw_tstz(CASE WHEN length(s) <= 24 THEN CAST(s AS TIMESTAMPTZ) "
    "ELSE dw_floor_ms(CAST(s AS TIMESTAMPTZ)) END, 'UTC') "
    f"WHEN NOT regexp_full_match(upper(s), {_ISO}) "
    "THEN dw_tstz_from_local(CAST(dw_fail_text('Invalid format: \"' || s || '\"') AS TIMESTAMP), 'UTC') "
    "ELSE list_transform([dw_iso_parts(upper(s))], lambda p: dw_tstz_from_local(dw_iso_local(p), dw_iso_zone(p.zone)))[1] "
    "END",
    # JavaScript's own form (toISOString: 2026-03-01T12:34:56.789Z) ahead of those, read by strptime
    # without the regular expression, which costs more than the whole cast: LIKE places the separators
    # and strptime reads each field's digits (ASCII digits only, the full width up to the next
    # separator) and the date's validity. Text it does not read (a sign or a space in the year, an
    # invalid date) takes the general way above, with its answer or error.
    # The general way is written once (COALESCE evaluates it only for the rows the first way left
    # NULL): the macro's body is expanded wherever it is called, and DuckDB binds every copy.
    f"dw_from_iso8601_timestamp(s) AS coalesce(CASE WHEN s LIKE '____-__-__T__:__:__.___Z' "
    f"AND s >= '0' AND s < ':' THEN dw_tstz(make_timestamptz(epoch_us(try_strptime(s, '{_JS_ISO}'))), 'UTC') "
    "END, dw_from_iso8601_general(s))",
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
    "sign(n) * sign(d) * (abs(n) // abs(d) + CASE WHEN abs(n) % abs(d) >= abs(d) - abs(n) % abs(d) "
    "THEN 1 ELSE 0 END) END",  # half up, without doubling n (which may be near the 128-bit limit)
    "dw_binary_exponent(a) AS CASE WHEN a < 1 THEN 0 WHEN pow(2.0, floor(log2(a))) > a "
    "THEN CAST(floor(log2(a)) AS INTEGER) - 1 ELSE CAST(floor(log2(a)) AS INTEGER) END",
    "dw_insignificant_digits(p2) AS CASE WHEN p2 > 1 AND p2 < 64 THEN "
    "[0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19][p2 + 1] ELSE 0 END",
    "dw_drop_digits(n, k) AS list_transform([CAST(pow(10, k) AS HUGEINT)], lambda p: "
    "sign(n) * ((abs(n) + p // 2) // p) * p)[1]",
    # Java's text of a float or double (Float/Double.toString, which Trino's casts to decimal read):
    # the shortest digits that read back, except for an integer of 2^nsig or more below 2^63, where
    # Java keeps the integer's digits and rounds away only as many as its binary exponent allows.
    "dw_java_float_text(x, nsig) AS CASE WHEN x IS NULL THEN NULL WHEN isfinite(x) AND x = trunc(x) "
    "AND abs(x) < 9.223372036854775807e18 THEN list_transform([CASE WHEN isfinite(x) AND abs(x) < 1e38 "
    "THEN x ELSE 0 END], lambda f: CAST(dw_drop_digits(CAST(f AS HUGEINT), "  # safe when folded
    "dw_insignificant_digits(dw_binary_exponent(abs(f)) - nsig - 1)) AS VARCHAR))[1] ELSE CAST(x AS VARCHAR) END",
    # Trino's text of a double (real): java.text.DecimalFormat "0.0##############E0" ("0.0#####E0")
    # over Java's digits: at most n significant digits, rounded half even; an exact tie is refused.
    "dw_sci_parts(t) AS list_transform([{'m': regexp_extract(t, '^-?([0-9.]+)', 1), "
    "'e': coalesce(TRY_CAST(regexp_extract(t, '[eE]([+-]?[0-9]+)$', 1) AS INTEGER), 0)}], lambda p: "
    "list_transform([{'i': split_part(p.m, '.', 1), 'd': replace(p.m, '.', '')}], lambda q: "
    "{'digits': rtrim(ltrim(q.d, '0'), '0'), 'exp': length(q.i) - 1 + p.e - (length(q.d) - length(ltrim(q.d, '0')))})[1])[1]",
    "dw_sci_round(d, e, n) AS CASE WHEN length(d) <= n THEN {'digits': d, 'exp': e} "
    "WHEN substr(d, n + 1, 1) = '5' AND ltrim(substr(d, n + 2), '0') = '' THEN "
    f"error({_REFUSE}a double or real whose text ends in a rounding tie') "
    "WHEN substr(d, n + 1, 1) < '5' THEN {'digits': rtrim(left(d, n), '0'), 'exp': e} "
    "ELSE list_transform([CAST(CAST(left(d, n) AS HUGEINT) + 1 AS VARCHAR)], lambda u: "
    "{'digits': rtrim(u, '0'), 'exp': e + length(u) - n})[1] END",
    "dw_java_sci(t, n) AS CASE WHEN t IS NULL THEN NULL ELSE list_transform([dw_sci_parts(t)], lambda p: "
    "list_transform([dw_sci_round(p.digits, p.exp, n)], lambda r: (CASE WHEN t[1] = '-' THEN '-' ELSE '' END) "
    "|| CASE WHEN r.digits = '' THEN '0.0E0' ELSE r.digits[1] || '.' || coalesce(nullif(substr(r.digits, 2), ''), '0') "
    "|| 'E' || CAST(r.exp AS VARCHAR) END)[1])[1] END",
    "dw_double_varchar(x, n) AS CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'NaN' "
    "WHEN isinf(x) THEN (CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END) "
    "ELSE (CASE WHEN signbit(x) THEN '-' ELSE '' END) || dw_java_sci(dw_java_float_text(abs(x), 53), n) END",
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
    # DuckDB's levenshtein and hamming count bytes, Trino's code points: the strings' distinct
    # characters are mapped one to one onto ASCII first (refused past 127 distinct characters).
    "dw_as_ascii(s, cs) AS translate(s, array_to_string(cs, ''), "
    "array_to_string(list_transform(range(1, len(cs) + 1), lambda i: chr(CAST(i AS INTEGER))), ''))",
    "dw_levenshtein(a, b) AS CASE WHEN octet_length(encode(a || b)) = length(a || b) THEN levenshtein(a, b) "
    "ELSE list_transform([list_distinct(string_split(a || b, ''))], lambda cs: CASE WHEN len(cs) > 127 THEN "
    f"error({_REFUSE}levenshtein_distance() of strings with more than 127 distinct characters') "
    "ELSE levenshtein(dw_as_ascii(a, cs), dw_as_ascii(b, cs)) END)[1] END",
    "dw_hamming(a, b) AS CASE WHEN octet_length(encode(a || b)) = length(a || b) THEN hamming(a, b) "
    "ELSE list_transform([list_distinct(string_split(a || b, ''))], lambda cs: CASE WHEN len(cs) > 127 THEN "
    f"error({_REFUSE}hamming_distance() of strings with more than 127 distinct characters') "
    "ELSE hamming(dw_as_ascii(a, cs), dw_as_ascii(b, cs)) END)[1] END",
    # strpos(s, sub, n): the n-th (overlapping) occurrence, counted from the end when n < 0.
    "dw_strpos(s, sub, n) AS CASE WHEN s IS NULL OR sub IS NULL OR n IS NULL THEN NULL "
    "WHEN n = 0 THEN CAST(dw_fail('instance must be a positive or negative number.') AS BIGINT) "
    "WHEN sub = '' THEN CAST(1 AS BIGINT) ELSE list_transform([list_filter(range(1, length(s) - length(sub) + 2), "
    "lambda i: substr(s, i, length(sub)) = sub)], lambda p: CAST(coalesce(CASE WHEN n > 0 THEN p[n] "
    "WHEN len(p) + n + 1 >= 1 THEN p[len(p) + n + 1] END, 0) AS BIGINT))[1] END",
    # split(s, d[, limit]): at most `limit` pieces, the last one holding the rest.
    "dw_split(s, d, lim, limited) AS CASE WHEN s IS NULL OR d IS NULL OR (limited AND lim IS NULL) THEN NULL "
    "WHEN d = '' THEN CAST(dw_fail_text('The delimiter may not be the empty string') AS VARCHAR[]) "
    "WHEN limited AND lim <= 0 THEN CAST(dw_fail_text('Limit must be positive') AS VARCHAR[]) "
    "WHEN limited AND lim > 2147483647 THEN CAST(dw_fail_text('Limit is too large') AS VARCHAR[]) "
    "ELSE list_transform([string_split(s, d)], lambda p: CASE WHEN NOT limited OR len(p) <= lim THEN p "
    "ELSE list_concat(p[1:lim - 1], [array_to_string(p[lim:], d)]) END)[1] END",
    "dw_reverse(s) AS array_to_string(list_reverse(string_split(s, '')), '')",
    "dw_split_part(s, d, n) AS CASE WHEN s IS NULL OR d IS NULL OR n IS NULL THEN NULL "
    "WHEN n <= 0 THEN dw_fail_text('Index must be greater than zero') "
    "WHEN d = '' THEN (CASE WHEN n > length(s) THEN NULL ELSE substr(s, CAST(n AS BIGINT), 1) END) "
    "WHEN n > len(string_split(s, d)) THEN NULL ELSE string_split(s, d)[n] END",
    # ---- varbinary ----
    # A BLOB as text with one character per byte (U+0100 + byte), so string functions work bytewise.
    "dw_bytes_text(b) AS array_to_string(list_transform(regexp_extract_all(hex(b), '..'), "
    "lambda h: chr(256 + CAST('0x' || h AS INTEGER))), '')",
    "dw_text_bytes(s) AS CASE WHEN s IS NULL THEN NULL WHEN s = '' THEN CAST('' AS BLOB) ELSE "
    "unhex(array_to_string(list_transform(string_split(s, ''), lambda c: lpad(hex(unicode(c) - 256), 2, '0')), '')) END",
    # RFC 4648 base32 (Guava's BaseEncoding.base32(), Trino's): 5 bits a character, '=' padding.
    "dw_bits(b) AS array_to_string(list_transform(regexp_extract_all(hex(b), '..'), "
    "lambda h: lpad(bin(CAST('0x' || h AS INTEGER)), 8, '0')), '')",
    "dw_bits_value(bits) AS list_reduce(string_split(bits, ''), lambda v, d: v * 2 + CAST(d AS INTEGER), 0)",
    "dw_to_base32(b) AS CASE WHEN b IS NULL THEN NULL ELSE list_transform([array_to_string(list_transform("
    "regexp_extract_all(dw_bits(b), '.{1,5}'), lambda c: substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', "
    "dw_bits_value(rpad(c, 5, '0')) + 1, 1)), '')], lambda t: t || repeat('=', (8 - length(t) % 8) % 8))[1] END",
    "dw_from_base32(s) AS CASE WHEN s IS NULL THEN NULL ELSE list_transform([rtrim(s, '=')], lambda t: CASE "
    "WHEN regexp_matches(t, '[^A-Z2-7]') THEN unhex(dw_fail_text('Unrecognized character: ' "
    "|| regexp_extract(t, '[^A-Z2-7]'))) "
    "WHEN length(t) % 8 IN (1, 3, 6) THEN unhex(dw_fail_text('Invalid input length ' || length(t))) "
    "ELSE list_transform([array_to_string(list_transform(string_split(t, ''), lambda c: "
    "lpad(bin(strpos('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', c) - 1), 5, '0')), '')], lambda bits: "
    "unhex(array_to_string(list_transform(regexp_extract_all(left(bits, length(bits) // 8 * 8), '.{8}'), "
    "lambda o: lpad(hex(dw_bits_value(o)), 2, '0')), '')))[1] END)[1] END",
    "dw_crc32(b) AS CAST(xor(list_reduce(list_transform(regexp_extract_all(hex(b), '..'), "
    f"lambda h: CAST('0x' || h AS BIGINT)), lambda c, x: xor({_crc32_table()}[(xor(c, x) & 255) + 1], c >> 8), "
    "CAST(4294967295 AS BIGINT)), 4294967295) AS BIGINT)",
    # IEEE 754 bits of a double (eb exponent and fb fraction bits: 11/52, or 8/23 for a real's value).
    "dw_log2_floor(a) AS CASE WHEN pow(2.0, floor(log2(a))) > a THEN floor(log2(a)) - 1 "
    "WHEN pow(2.0, floor(log2(a)) + 1) <= a THEN floor(log2(a)) + 1 ELSE floor(log2(a)) END",
    "dw_ieee754_bits(x, eb, fb) AS CASE WHEN x IS NULL THEN NULL "
    "WHEN isnan(x) THEN CAST((pow(2, eb) - 1) * pow(2, fb) + pow(2, fb - 1) AS UBIGINT) "
    "ELSE CAST((CASE WHEN signbit(x) THEN CAST(pow(2, eb + fb) AS HUGEINT) ELSE CAST(0 AS HUGEINT) END) "
    "+ list_transform([abs(x)], lambda a: CASE WHEN isinf(a) THEN CAST((pow(2, eb) - 1) * pow(2, fb) AS HUGEINT) "
    "WHEN a = 0 THEN CAST(0 AS HUGEINT) "
    "WHEN a < pow(2.0, 2 - pow(2, eb - 1)) THEN CAST(a / pow(2.0, 2 - pow(2, eb - 1) - fb) AS HUGEINT) "
    "ELSE list_transform([dw_log2_floor(a)], lambda e: CAST(e + pow(2, eb - 1) - 1 AS HUGEINT) "
    "* CAST(pow(2, fb) AS HUGEINT) + CAST((a / pow(2.0, e) - 1) * pow(2.0, fb) AS HUGEINT))[1] END)[1] AS UBIGINT) END",
    "dw_ieee754_value(u, eb, fb) AS list_transform([{'s': u >> (eb + fb), "
    "'e': (u >> fb) & CAST(pow(2, eb) - 1 AS UBIGINT), 'm': u & CAST(pow(2, fb) - 1 AS UBIGINT)}], lambda p: "
    "(CASE WHEN p.s = 1 THEN -1.0 ELSE 1.0 END) * CASE "
    "WHEN p.e = pow(2, eb) - 1 THEN (CASE WHEN p.m = 0 THEN CAST('Infinity' AS DOUBLE) ELSE CAST('NaN' AS DOUBLE) END) "
    "WHEN p.e = 0 THEN p.m * pow(2.0, 2 - pow(2, eb - 1) - fb) "
    "ELSE (1 + p.m / pow(2.0, fb)) * pow(2.0, p.e - (pow(2, eb - 1) - 1)) END)[1]",
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
