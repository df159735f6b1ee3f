"""Trino's JSON type, casts and functions as DuckDB text.

A Trino `json` value is held as its text, spelt as Trino spells it: json_parse and JSON literals give
compact text with object keys sorted (Jackson's sorted mapper), so equal documents are one value for
`=`, DISTINCT and GROUP BY; numbers are written as Java writes them (3.14, 1.0E20, NaN as "NaN");
json_extract keeps the document's key order, as Trino's does. DuckDB's own minified JSON already has
that spelling unless the text has a fraction or exponent, an escape, or (for sorting) a comma; only
those values go through the Python function json_text.canonical.

JSON paths are Trino's subset for json_extract and friends: `$`, `.key`, `["key"]` and `[n]`.
"""

import re

from dw_platform.query import trino_types as tt
from dw_platform.query.binding import bind, fresh_name
from dw_platform.query.functions.checks import _arity, _expect, _str
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed, cast, timestamp_text, to_varchar
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType

json_family = Family("json")
# The JSON path functions can refuse at run time, where DuckDB's reading and Jackson's differ.
_FAILS = {"fails_at_run_time": True}

_REFUSE = "error('not supported by the local engine: "
# Text DuckDB's minified JSON may spell differently from Jackson: a number with a fraction or an
# exponent, an escape sequence; and for sorted text, any object with two keys (any comma).
# (Separate tests: one regular expression with alternatives is four times slower.)
_NEEDS_JACKSON = "regexp_matches({0}, '[0-9][.eE]') OR contains({0}, '\\')"
_NEEDS_SORTING = "regexp_matches({0}, '[0-9][.eE]') OR contains({0}, '\\') OR contains({0}, ',')"


# ---- text -----------------------------------------------------------------------------------------
def parsed(text_sql: str, *, invalid: str) -> str:
    """Trino's json_parse of a varchar: `invalid` where the text is not one JSON value."""

    def body(s: str) -> str:
        return (
            f"CASE WHEN {s} IS NULL THEN NULL WHEN NOT dw_json_valid({s}) THEN {invalid} "
            f"WHEN {_NEEDS_SORTING.format(s)} THEN dw_json_sorted({s}) "
            f"ELSE CAST(json({s}) AS VARCHAR) END"
        )

    return bind([text_sql], body)


def _in_order(json_sql: str) -> str:
    """Minified JSON text (DuckDB's) spelt as Jackson copies a structure, keys in their order."""
    return bind(
        [json_sql],
        lambda j: (
            f"CASE WHEN {_NEEDS_JACKSON.format(j)} "
            f"THEN dw_json_in_order(CAST({j} AS VARCHAR)) ELSE CAST({j} AS VARCHAR) END"
        ),
    )


def string_literal_json(text_sql: str) -> str:
    """A varchar as a JSON string, escaped as Jackson escapes it."""
    return bind(
        [text_sql],
        lambda s: (
            f"CASE WHEN regexp_matches({s}, '[\\x00-\\x1f]') "
            f"THEN dw_json_in_order(CAST(to_json({s}) AS VARCHAR)) "
            f"ELSE '\"' || replace(replace({s}, '\\', '\\\\'), '\"', '\\\"') || '\"' END"
        ),
    )


def java_double(sql: str) -> str:
    """Java's Double.toString / Float.toString of a finite value (DuckDB's shortest digits)."""
    return f"dw_java_double({sql})"


# ---- CAST(x AS JSON) -------------------------------------------------------------------------------
def to_json(value: Typed) -> str:
    """VARCHAR text of Trino's CAST(value AS JSON); NULL for NULL."""
    t, v = value.type, value.sql
    if t.is_unknown:
        return "CAST(NULL AS VARCHAR)"
    if t.name == "boolean":
        return f"(CASE WHEN {v} THEN 'true' WHEN NOT {v} THEN 'false' END)"
    if t.is_integer:
        return f"CAST({v} AS VARCHAR)"
    if t.name == "decimal":
        return to_varchar(value)
    if t.name in ("double", "real"):
        return bind(
            [v],
            lambda x: (
                f"CASE WHEN isnan({x}) OR isinf({x}) THEN '\"' || {java_double(x)} || '\"' "
                f"ELSE {java_double(x)} END"
            ),
        )
    if t.is_string:
        return string_literal_json(v)
    if t.name == "date":
        return f"('\"' || strftime({v}, '%Y-%m-%d') || '\"')"
    if t.name == "timestamp":
        return f"('\"' || {timestamp_text(v, t.precision or 0)} || '\"')"
    if t.name == "json":
        return f"CAST({v} AS VARCHAR)"
    if t.name == "array":
        e = fresh_name("e")
        inner = to_json(Typed(e, t.element))
        return (
            f"(CASE WHEN {v} IS NULL THEN NULL ELSE '[' || array_to_string("
            f"list_transform({v}, lambda {e}: COALESCE({inner}, 'null')), ',') || ']' END)"
        )
    if t.name == "map":
        key, val = t.elements
        e = fresh_name("e")
        p = fresh_name("p")
        entry = (
            f"{{'k': {_key_text(Typed(f'{e}.key', key))}, "
            f"'v': COALESCE({to_json(Typed(f'{e}.value', val))}, 'null')}}"
        )
        # Trino orders the keys by their text (MapToJsonCast).
        return (
            f"(CASE WHEN {v} IS NULL THEN NULL ELSE '{{' || array_to_string(list_transform(list_sort("
            f"list_transform(map_entries({v}), lambda {e}: {entry})), lambda {p}: "
            f"{string_literal_json(f'{p}.k')} || ':' || {p}.v), ',') || '}}' END)"
        )
    if t.name == "row":
        parts = []
        for i, (name, ft) in enumerate(zip(t.field_names, t.elements, strict=True)):
            label = '"' + (name or "").replace("\\", "\\\\").replace('"', '\\"') + '"'
            field = f'({v})."{(name or f"field{i}").replace(chr(34), chr(34) * 2)}"'
            parts.append(
                f"'{label.replace(chr(39), chr(39) * 2)}:' || COALESCE({to_json(Typed(field, ft))}, 'null')"
            )
        body = " || ',' || ".join(parts)
        return f"(CASE WHEN {v} IS NULL THEN NULL ELSE '{{' || {body} || '}}' END)"
    raise UnsupportedQuery(f"CAST from {t.trino()} to json")


def _key_text(key: Typed) -> str:
    t = key.type
    if t.is_string:
        return key.sql
    if t.is_integer or t.name in ("decimal", "boolean", "date"):
        return to_varchar(key)
    if t.name in ("double", "real"):
        return java_double(key.sql)
    raise UnsupportedQuery(f"CAST of a map with {t.trino()} keys to json")


def cast_to_json(value: Typed) -> str:
    return to_json(value)


# ---- CAST(json AS x) -------------------------------------------------------------------------------
def _fail(target: TrinoType) -> str:
    return f"dw_fail('Cannot cast to {target.trino()}')"


def from_json(json_sql: str, target: TrinoType) -> str:
    """Trino's CAST(json AS target) (JsonToXCast): a JSON null is NULL; a number, a boolean or a
    string converts as its value does; an array casts to an array or a row, an object to a map."""

    def body(j: str) -> str:
        kind = f"json_type({j})"
        text = f"CAST({j} AS VARCHAR)"
        string = f"json_extract_string({j}, '$')"
        head = f"CASE WHEN {j} IS NULL OR {kind} = 'NULL' THEN NULL "
        d = target.duckdb()
        if target.is_integer:
            return (
                head + f"WHEN {kind} IN ('BIGINT', 'UBIGINT') THEN CAST({text} AS {d}) "
                f"WHEN {kind} = 'DOUBLE' AND regexp_full_match({text}, '-?[0-9]+') THEN CAST({text} AS {d}) "
                f"WHEN {kind} = 'DOUBLE' THEN CAST(round(CAST({text} AS DOUBLE)) AS {d}) "
                f"WHEN {kind} = 'BOOLEAN' THEN CAST({text} = 'true' AS {d}) "
                f"WHEN {kind} = 'VARCHAR' THEN CAST(dw_integer_text({string}) AS {d}) "
                f"ELSE CAST({_fail(target)} AS {d}) END"
            )
        if target.name in ("double", "real"):
            number = f"CAST({text} AS DOUBLE)"
            if target.name == "real":  # beyond real's range: an infinity, as Java's (float) gives
                number = (
                    f"(CASE WHEN abs({number}) > 3.4028235677973366e38 "
                    f"THEN {number} * 'Infinity'::DOUBLE ELSE {number} END)"
                )
            return (
                head + f"WHEN {kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST({number} AS {d}) "
                f"WHEN {kind} = 'BOOLEAN' THEN CAST({text} = 'true' AS {d}) "
                f"WHEN {kind} = 'VARCHAR' THEN CAST(dw_double_text({string}) AS {d}) "
                f"ELSE CAST({_fail(target)} AS {d}) END"
            )
        if target.name == "decimal":
            return (
                head + f"WHEN {kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN CAST({text} AS {d}) "
                f"WHEN {kind} = 'BOOLEAN' THEN CAST(CAST({text} = 'true' AS INTEGER) AS {d}) "
                f"WHEN {kind} = 'VARCHAR' THEN CAST(dw_decimal_text({string}) AS {d}) "
                f"ELSE CAST({_fail(target)} AS {d}) END"
            )
        if target.name == "boolean":
            return (
                head + f"WHEN {kind} IN ('BIGINT', 'UBIGINT') THEN CAST({text} AS BIGINT) <> 0 "
                f"WHEN {kind} = 'DOUBLE' AND isinf(CAST({text} AS DOUBLE)) "
                f"THEN CAST({_fail(target)} AS BOOLEAN) "
                f"WHEN {kind} = 'DOUBLE' THEN CAST({text} AS DOUBLE) <> 0 "
                f"WHEN {kind} = 'BOOLEAN' THEN {text} = 'true' "
                f"WHEN {kind} = 'VARCHAR' THEN dw_boolean_text({string}) "
                f"ELSE CAST({_fail(target)} AS BOOLEAN) END"
            )
        if target.is_string:
            return (
                head + f"WHEN {kind} IN ('BIGINT', 'UBIGINT') THEN {text} "
                f"WHEN {kind} = 'DOUBLE' AND regexp_full_match({text}, '-?[0-9]+') THEN {text} "
                f"WHEN {kind} = 'DOUBLE' THEN dw_trino_double_text(CAST({text} AS DOUBLE)) "
                f"WHEN {kind} = 'BOOLEAN' THEN {text} "
                f"WHEN {kind} = 'VARCHAR' THEN {string} "
                f"ELSE dw_fail_text('Cannot cast JSON to varchar') END"
            )
        if target.name == "json":
            return j
        if target.name == "array":
            i = fresh_name("i")
            # Element by element with json_extract, which keeps a JSON null (array(json) holds it).
            element = f"json_extract({j}, {i})"
            if target.element.name == "json":
                element = _in_order(element)
            inner = from_json(element, target.element)
            return (
                head
                + f"WHEN {kind} = 'ARRAY' THEN list_transform(range(CAST(json_array_length({j}) AS BIGINT)), "
                f"lambda {i}: {inner}) "
                f"ELSE CAST({_fail(target)} AS {d}) END"
            )
        if target.name == "map":
            key, value = target.elements
            if not (key.is_string or key.is_integer or key.name in ("double", "real", "decimal", "boolean")):
                raise QueryError(f"cannot cast json to {target.trino()}: map keys must be scalar")
            e = fresh_name("e")
            k = cast(Typed(f"{e}.key", tt.VARCHAR), key).sql
            v = from_json(f"{e}.value", value)
            entries = (
                f"list_transform(map_entries(CAST(CAST({j} AS JSON) AS MAP(VARCHAR, JSON))), "
                f"lambda {e}: {{'key': {k}, 'value': {v}}})"
            )
            return (
                head + f"WHEN {kind} = 'OBJECT' THEN map_from_entries({entries}) "
                f"ELSE CAST({_fail(target)} AS {d}) END"
            )
        if target.name == "row":
            n = len(target.elements)
            names = [name or f"field{i}" for i, name in enumerate(target.field_names)]
            fields = ", ".join(
                f"'{name.replace(chr(39), chr(39) * 2)}': {from_json(f'json_extract({j}, {i})', ft)}"
                for i, (name, ft) in enumerate(zip(names, target.elements, strict=True))
            )
            return (
                head
                + f"WHEN {kind} = 'ARRAY' AND json_array_length({j}) = {n} THEN CAST({{{fields}}} AS {d}) "
                f"WHEN {kind} = 'OBJECT' THEN {_REFUSE}CAST of a JSON object to a row') "
                f"ELSE CAST({_fail(target)} AS {d}) END"
            )
        raise UnsupportedQuery(f"CAST from json to {target.trino()}")

    return bind([json_sql], body)


def json_cast(value: Typed, target: TrinoType) -> str | None:
    """The DuckDB text of a cast to or from json, or None when neither side is json."""
    if target.name == "json":
        return cast_to_json(value)
    if value.type.name == "json":
        text = from_json(value.sql, target)
        if target.is_string and target.length is not None:
            return f"left({text}, {target.length})"
        return text
    return None


# ---- paths ----------------------------------------------------------------------------------------
_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\["([^"\\]*)"\]|\[(\d+)\]')


def duckdb_path(name: str, literal: str | None) -> str:
    """A Trino JSON path (its subset: $, .key, ["key"], [n]) as DuckDB's, quoted as a literal."""
    if literal is None:
        raise UnsupportedQuery(f"{name}() with a JSON path that is not a literal")
    text = literal.strip()
    if not text.startswith("$"):
        raise QueryError(f"Invalid JSON path: '{literal}'")
    steps, at = ["$"], 1
    while at < len(text):
        found = _STEP.match(text, at)
        if not found:
            raise UnsupportedQuery(f'{name}() with the JSON path {literal!r} (only $, .key, ["key"] and [n])')
        key, quoted, index = found.groups()
        steps.append(f"[{index}]" if index is not None else '."' + (key if key is not None else quoted) + '"')
        at = found.end()
    return "'" + "".join(steps).replace("'", "''") + "'"


def _document(value: Typed, name: str) -> tuple[str, bool]:
    """The JSON text of a json or varchar argument, and whether it is varchar (may be invalid)."""
    if value.type.name == "json":
        return value.sql, False
    _expect(name, value, lambda t: t.is_string, "json or varchar")
    return value.sql, True


def _valid_or_null(doc: str, is_text: bool, body: "callable") -> str:  # type: ignore[valid-type]
    """body(d) for a valid document; for text that is not JSON, NULL where Trino's parser fails at the
    first token (Trino stops reading once it has its answer, so later damage may not matter: refused)."""

    def guarded(d: str) -> str:
        if not is_text:
            return f"CASE WHEN {d} IS NULL THEN NULL ELSE {body(d)} END"
        return (
            f"CASE WHEN {d} IS NULL THEN NULL WHEN dw_json_valid({d}) THEN {body(d)} "
            f"WHEN NOT regexp_matches({d}, '^\\s*[\\[{{\"0-9tfn-]') THEN NULL "
            f"ELSE {_REFUSE}JSON functions over text that is not valid JSON') END"
        )

    return bind([doc], guarded)


def _null_path(args: list[Typed], t: TrinoType) -> Typed | None:
    if args[1].type.is_unknown:
        return Typed(f"CAST(NULL AS {t.duckdb()})", t)
    return None


def _json_extract(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("json_extract", args, 2)
    if (none := _null_path(args, tt.JSON)) is not None:
        return none
    path = duckdb_path("json_extract", literals[1])
    doc, is_text = _document(args[0], "json_extract")
    return Typed(_valid_or_null(doc, is_text, lambda d: _in_order(f"json_extract({d}, {path})")), tt.JSON)


def _json_extract_scalar(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("json_extract_scalar", args, 2)
    result = tt.varchar(args[0].type.length) if args[0].type.is_string else tt.VARCHAR
    if (none := _null_path(args, result)) is not None:
        return none
    path = duckdb_path("json_extract_scalar", literals[1])
    doc, is_text = _document(args[0], "json_extract_scalar")

    def body(d: str) -> str:
        kind = f"json_type({d}, {path})"
        value = f"json_extract({d}, {path})"
        return (
            f"CASE WHEN {kind} IS NULL OR {kind} IN ('OBJECT', 'ARRAY', 'NULL') THEN NULL "
            f"WHEN {kind} = 'VARCHAR' THEN json_extract_string({d}, {path}) "
            f"WHEN {kind} = 'DOUBLE' AND NOT regexp_full_match(CAST({value} AS VARCHAR), '-?[0-9]+') THEN "
            # Trino gives the number's text as written, which DuckDB does not keep.
            f"{_REFUSE}json_extract_scalar() of a number with a fraction or an exponent') "
            f"ELSE CAST({value} AS VARCHAR) END"
        )

    return Typed(_valid_or_null(doc, is_text, body), result)


def _json_size(args: list[Typed], literals: list[str | None]) -> Typed:
    _arity("json_size", args, 2)
    if (none := _null_path(args, tt.BIGINT)) is not None:
        return none
    path = duckdb_path("json_size", literals[1])
    doc, is_text = _document(args[0], "json_size")

    def body(d: str) -> str:
        kind = f"json_type({d}, {path})"
        return (
            f"CASE WHEN {kind} IS NULL THEN NULL "
            f"WHEN {kind} = 'ARRAY' THEN CAST(json_array_length({d}, {path}) AS BIGINT) "
            f"WHEN {kind} = 'OBJECT' THEN CAST(len(json_keys({d}, {path})) AS BIGINT) "
            "ELSE CAST(0 AS BIGINT) END"
        )

    return Typed(_valid_or_null(doc, is_text, body), tt.BIGINT)


json_family.literals("json_extract", args="json | varchar, json_path", returns="json", **_FAILS)(
    _json_extract
)
json_family.literals("json_extract_scalar", args="json | varchar, json_path", returns="varchar", **_FAILS)(
    _json_extract_scalar
)
json_family.literals("json_size", args="json | varchar, json_path", returns="bigint", **_FAILS)(_json_size)


# ---- functions -------------------------------------------------------------------------------------
@json_family.scalar("json_parse", args="varchar", returns="json")
def _json_parse(args: list[Typed]) -> Typed:
    _arity("json_parse", args, 1)
    text = _str("json_parse", args[0])
    invalid = "dw_fail_text('Cannot convert value to JSON')"
    return Typed(parsed(text.sql, invalid=invalid), tt.JSON)


def json_literal(text: str) -> Typed:
    """JSON '...': the literal's text parsed, or an error when it is not one JSON value."""
    quoted = "'" + text.replace("'", "''") + "'"
    invalid = f"CAST(error('Invalid JSON literal: ' || {quoted}) AS VARCHAR)"
    return Typed(parsed(quoted, invalid=invalid), tt.JSON)


@json_family.scalar("json_format", args="json", returns="varchar")
def _json_format(args: list[Typed]) -> Typed:
    _arity("json_format", args, 1)
    _expect("json_format", args[0], lambda t: t.name == "json", "json")
    return Typed(f"CAST({args[0].sql} AS VARCHAR)", tt.VARCHAR)


@json_family.scalar("json_array_length", args="json | varchar", returns="bigint", **_FAILS)
def _json_array_length(args: list[Typed]) -> Typed:
    _arity("json_array_length", args, 1)
    doc, is_text = _document(args[0], "json_array_length")
    return Typed(
        _valid_or_null(
            doc,
            is_text,
            lambda d: f"CASE WHEN json_type({d}) = 'ARRAY' THEN CAST(json_array_length({d}) AS BIGINT) END",
        ),
        tt.BIGINT,
    )


@json_family.scalar("is_json_scalar", args="json | varchar", returns="boolean")
def _is_json_scalar(args: list[Typed]) -> Typed:
    _arity("is_json_scalar", args, 1)
    doc, _ = _document(args[0], "is_json_scalar")
    return Typed(
        bind(
            [doc],
            lambda d: (
                f"CASE WHEN {d} IS NULL THEN NULL WHEN NOT dw_json_valid({d}) THEN "
                "CAST(dw_fail('Invalid JSON value') AS BOOLEAN) "
                f"ELSE json_type({d}) NOT IN ('OBJECT', 'ARRAY') END"
            ),
        ),
        tt.BOOLEAN,
    )


@json_family.scalar(
    "json_array_contains",
    args="json | varchar, value (boolean, bigint, double or varchar)",
    returns="boolean",
    **_FAILS,
)
def _json_array_contains(args: list[Typed]) -> Typed:
    _arity("json_array_contains", args, 2)
    doc, is_text = _document(args[0], "json_array_contains")
    value = args[1]
    e = fresh_name("e")
    kind = f"json_type({e})"
    text = f"CAST({e} AS VARCHAR)"
    t = value.type
    if t.is_unknown:
        return Typed("CAST(NULL AS BOOLEAN)", tt.BOOLEAN)
    if t.name == "boolean":
        match = f"{kind} = 'BOOLEAN' AND {text} = (CASE WHEN {{v}} THEN 'true' ELSE 'false' END)"
    elif t.is_integer:
        match = f"{kind} IN ('BIGINT', 'UBIGINT') AND {text} = CAST({{v}} AS VARCHAR)"
    elif t.name in ("double", "real", "decimal"):
        match = (
            f"CASE WHEN {kind} = 'DOUBLE' AND NOT regexp_full_match({text}, '-?[0-9]+') "
            f"THEN TRY_CAST({text} AS DOUBLE) = CAST({{v}} AS DOUBLE) ELSE false END"
        )
    elif t.is_string:
        match = f"{kind} = 'VARCHAR' AND json_extract_string({e}, '$') = {{v}}"
    else:
        raise QueryError(f"json_array_contains() does not take {t.trino()}")

    def body(d: str) -> str:
        found = match.format(v=value.sql)
        return (
            f"CASE WHEN ({value.sql}) IS NULL THEN NULL WHEN json_type({d}) <> 'ARRAY' THEN NULL "
            f"ELSE COALESCE(list_bool_or(list_transform(CAST(CAST({d} AS JSON) AS JSON[]), lambda {e}: "
            f"COALESCE({found}, false))), false) END"
        )

    return Typed(_valid_or_null(doc, is_text, body), tt.BOOLEAN)


@json_family.scalar("json_array_get", args="json | varchar, index bigint", returns="json", **_FAILS)
def _json_array_get(args: list[Typed]) -> Typed:
    _arity("json_array_get", args, 2)
    doc, is_text = _document(args[0], "json_array_get")
    index = args[1]
    if index.type.is_unknown:
        return Typed("CAST(NULL AS VARCHAR)", tt.JSON)
    _expect("json_array_get", index, lambda t: t.is_integer, "an integer index")

    def body(d: str) -> str:
        length = f"json_array_length({d})"
        position = f"(CASE WHEN {index.sql} < 0 THEN {length} + {index.sql} ELSE {index.sql} END)"
        element = f"json_extract({d}, CAST({position} AS BIGINT))"
        kind = f"json_type({element})"
        # Trino gives a scalar's own text (a string unquoted) and a structure copied compactly.
        return (
            f"CASE WHEN ({index.sql}) IS NULL OR json_type({d}) <> 'ARRAY' THEN NULL "
            f"WHEN {position} < 0 OR {position} >= {length} THEN NULL "
            f"WHEN {kind} = 'NULL' THEN NULL "
            f"WHEN {kind} = 'VARCHAR' THEN json_extract_string({element}, '$') "
            f"WHEN {kind} = 'DOUBLE' AND NOT regexp_full_match(CAST({element} AS VARCHAR), '-?[0-9]+') THEN "
            f"{_REFUSE}json_array_get() of a number with a fraction or an exponent') "
            f"ELSE {_in_order(element)} END"
        )

    return Typed(_valid_or_null(doc, is_text, body), tt.JSON)
