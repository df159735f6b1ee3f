"""Trino's array and map functions beyond the basic ones in arrays.py: set operations, repeat,
trim_array, ngrams, combinations, map_concat, map_from_entries and the lambda functions over maps
(transform_keys, transform_values, map_filter, map_zip_with) and zip_with.

Set operations (array_distinct, array_union, array_intersect, array_except) keep elements by
IS NOT DISTINCT FROM, as Trino's do (NULL equals NULL, NaN equals NaN), which is DuckDB's
list_position; they keep the first occurrence, in Trino's order. Maps are built in key order (see
complex_compare).
"""

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import complex_compare
from dw_platform.query import trino_types as tt
from dw_platform.query.binding import bind, fresh_name
from dw_platform.query.functions.arrays import _lambda, _lambda_text
from dw_platform.query.functions.checks import _arity, _array_arg, _expect, _str
from dw_platform.query.functions.registry import Family
from dw_platform.query.operators import Typed, coerce, coerce_all, holds_tstz
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery

arrays = Family("arrays")
maps = Family("maps")

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator


def _distinct(a: str) -> str:
    """The array's elements without repeats (IS NOT DISTINCT FROM), first occurrences in order."""
    i = fresh_name("i")
    return bind(
        [a],
        lambda x: (
            f"list_transform(list_filter(range(1, len({x}) + 1), lambda {i}: "
            f"list_position({x}, {x}[{i}]) = {i}), lambda {i}: {x}[{i}])"
        ),
    )


def _arrays(name: str, args: list[Typed]) -> tuple[list[Typed], tt.TrinoType]:
    for a in args:
        _array_arg(name, a)
    values, common = coerce_all(args, name)
    _refuse_zoned(name, common)
    return values, common if not common.is_unknown else tt.array(tt.UNKNOWN)


def _refuse_zoned(name: str, t: tt.TrinoType) -> None:
    """list_position and DISTINCT tell a timestamp with time zone apart by its zone too; Trino's
    `=` by its instant alone (and keeps one of the writings): refused."""
    if holds_tstz(t):
        raise UnsupportedQuery(f"{name}() over values of type {t.trino()}")


def _null_if_any(values: list[Typed], text: str) -> str:
    nulls = " OR ".join(f"({v.sql}) IS NULL" for v in values)
    return f"(CASE WHEN {nulls} THEN NULL ELSE {text} END)"


@arrays.scalar("array_distinct", args="array(E)", returns="array(E)")
def _array_distinct(args: list[Typed]) -> Typed:
    _arity("array_distinct", args, 1)
    a = _array_arg("array_distinct", args[0])
    _refuse_zoned("array_distinct", a.type)
    return Typed(_null_if_any([a], _distinct(a.sql)), a.type)


@arrays.scalar("array_union", args="array(E), array(E)", returns="array(E)")
def _array_union(args: list[Typed]) -> Typed:
    _arity("array_union", args, 2)
    (a, b), t = _arrays("array_union", args)
    return Typed(_null_if_any([a, b], _distinct(f"list_concat({a.sql}, {b.sql})")), t)


@arrays.scalar("array_intersect", args="array(E), array(E)", returns="array(E)")
def _array_intersect(args: list[Typed]) -> Typed:
    _arity("array_intersect", args, 2)
    (a, b), t = _arrays("array_intersect", args)
    e = fresh_name("e")

    # Trino walks the longer array (the first on a tie) and keeps what the shorter one holds.
    def body(x: str, y: str) -> str:
        def kept(longer: str, shorter: str) -> str:
            return _distinct(f"list_filter({longer}, lambda {e}: list_position({shorter}, {e}) IS NOT NULL)")

        return f"CASE WHEN len({x}) >= len({y}) THEN {kept(x, y)} ELSE {kept(y, x)} END"

    return Typed(_null_if_any([a, b], bind([a.sql, b.sql], body)), t)


@arrays.scalar("array_except", args="array(E), array(E)", returns="array(E)")
def _array_except(args: list[Typed]) -> Typed:
    _arity("array_except", args, 2)
    (a, b), t = _arrays("array_except", args)
    e = fresh_name("e")
    kept = f"list_filter({a.sql}, lambda {e}: list_position({b.sql}, {e}) IS NULL)"
    return Typed(_null_if_any([a, b], _distinct(kept)), t)


@arrays.scalar("arrays_overlap", args="array(E), array(E)", returns="boolean")
def _arrays_overlap(args: list[Typed]) -> Typed:
    _arity("arrays_overlap", args, 2)
    (a, b), _ = _arrays("arrays_overlap", args)
    e = fresh_name("e")

    def body(x: str, y: str) -> str:
        common = f"list_filter({x}, lambda {e}: {e} IS NOT NULL AND list_position({y}, {e}) IS NOT NULL)"
        return (
            f"CASE WHEN {x} IS NULL OR {y} IS NULL THEN NULL WHEN len({common}) > 0 THEN true "
            f"WHEN len({x}) > 0 AND len({y}) > 0 AND (list_position({x}, NULL) IS NOT NULL "
            f"OR list_position({y}, NULL) IS NOT NULL) THEN NULL ELSE false END"
        )

    return Typed(bind([a.sql, b.sql], body), tt.BOOLEAN)


@arrays.scalar("array_remove", args="array(E), element E", returns="array(E)")
def _array_remove(args: list[Typed]) -> Typed:
    _arity("array_remove", args, 2)
    a = _array_arg("array_remove", args[0])
    element = a.type.element
    x = coerce(args[1], element) if not element.is_unknown else args[1]
    e = fresh_name("e")
    compared = element if not element.is_unknown else x.type
    # Trino removes the elements `=` to x (not NaN); a comparison it cannot decide is an error.
    undecided = "error('array_remove does not support arrays with elements that are null or contain null')"

    def body(arr: str, val: str) -> str:
        equal = complex_compare.equal(e, val, compared)
        keep = f"CASE WHEN {e} IS NULL THEN true WHEN ({equal}) IS NULL THEN {undecided} ELSE NOT {equal} END"
        kept = f"list_filter({arr}, lambda {e}: {keep})"
        return f"CASE WHEN {arr} IS NULL OR {val} IS NULL THEN NULL ELSE {kept} END"

    return Typed(bind([a.sql, x.sql], body), a.type)


@arrays.scalar("repeat", args="element T, count bigint", returns="array(T)", fails_at_run_time=True)
def _repeat(args: list[Typed]) -> Typed:
    _arity("repeat", args, 2)
    value, count = args
    _expect("repeat", count, lambda t: t.is_integer, "an integer count")
    i = fresh_name("i")

    def body(x: str, n: str) -> str:
        def fail(message: str, function: str = "dw_fail") -> str:
            return f"list_transform([{function}('{message}')], lambda {i}: {x})"

        count_is = "count argument of repeat function must be"
        checks = [
            f"WHEN {n} < 0 THEN {fail(f'{count_is} greater than or equal to 0')}",
            f"WHEN {n} > 10000 THEN {fail(f'{count_is} less than or equal to 10000')}",
        ]
        if value.type.is_string:
            # Trino also bounds the result's size: the text and 5 bytes per element, 1,000,000 in all.
            too_big = fail("result of repeat function must not take more than 1000000 bytes")
            checks.append(f"WHEN (octet_length(CAST({x} AS BLOB)) + 5) * {n} > 1000000 THEN {too_big}")
        elif complex_compare.is_complex(value.type):
            refused = fail(
                "not supported by the local engine: repeat() of arrays, maps or rows more than 1000 times "
                "(Athena bounds the result''s size in bytes)",
                "error",
            )
            checks.append(f"WHEN {n} > 1000 THEN {refused}")
        return (
            f"CASE WHEN {n} IS NULL THEN NULL {' '.join(checks)} "
            f"ELSE list_transform(range({n}), lambda {i}: {x}) END"
        )

    t = value.type if not value.type.is_unknown else tt.UNKNOWN
    return Typed(bind([value.sql, count.sql], body), tt.array(t))


@arrays.scalar("trim_array", args="array(E), n bigint", returns="array(E)")
def _trim_array(args: list[Typed]) -> Typed:
    _arity("trim_array", args, 2)
    a = _array_arg("trim_array", args[0])
    _expect("trim_array", args[1], lambda t: t.is_integer, "an integer size")

    def body(x: str, n: str) -> str:
        negative = f"list_slice({x}, 1, dw_fail('size must not be negative: ' || {n}))"
        message = f"'size must not exceed array cardinality ' || len({x}) || ': ' || {n}"
        too_big = f"list_slice({x}, 1, dw_fail({message}))"
        return (
            f"CASE WHEN {x} IS NULL OR {n} IS NULL THEN NULL WHEN {n} < 0 THEN {negative} "
            f"WHEN {n} > len({x}) THEN {too_big} ELSE list_slice({x}, 1, len({x}) - {n}) END"
        )

    return Typed(bind([a.sql, args[1].sql], body), a.type)


@arrays.scalar("contains_sequence", args="array(E), array(E)", returns="boolean", fails_at_run_time=True)
def _contains_sequence(args: list[Typed]) -> Typed:
    _arity("contains_sequence", args, 2)
    (a, s), _ = _arrays("contains_sequence", args)
    i = fresh_name("i")

    def body(x: str, y: str) -> str:
        window = f"list_slice({x}, {i}, {i} + len({y}) - 1)"
        return (
            f"CASE WHEN {x} IS NULL OR {y} IS NULL THEN NULL "
            f"WHEN list_position({x}, NULL) IS NOT NULL OR list_position({y}, NULL) IS NOT NULL THEN "
            "error('not supported by the local engine: contains_sequence() over NULL elements') "
            f"WHEN len({y}) = 0 THEN true "
            f"ELSE list_contains(list_transform(range(1, len({x}) - len({y}) + 2), "
            f"lambda {i}: {window} = {y}), true) END"
        )

    return Typed(bind([a.sql, s.sql], body), tt.BOOLEAN)


@arrays.scalar("ngrams", args="array(E), n bigint", returns="array(array(E))")
def _ngrams(args: list[Typed]) -> Typed:
    _arity("ngrams", args, 2)
    a = _array_arg("ngrams", args[0])
    _expect("ngrams", args[1], lambda t: t.is_integer, "an integer n")
    i = fresh_name("i")

    def body(x: str, n: str) -> str:
        return (
            f"CASE WHEN {x} IS NULL OR {n} IS NULL THEN NULL "
            f"WHEN {n} <= 0 THEN [list_slice({x}, 1, dw_fail('N must be positive'))] "
            f"WHEN {n} >= len({x}) THEN [{x}] "
            f"ELSE list_transform(range(1, len({x}) - {n} + 2), "
            f"lambda {i}: list_slice({x}, {i}, {i} + {n} - 1)) END"
        )

    return Typed(bind([a.sql, args[1].sql], body), tt.array(a.type))


@arrays.scalar("combinations", args="array(E), n bigint", returns="array(array(E))")
def _combinations(args: list[Typed]) -> Typed:
    _arity("combinations", args, 2)
    a = _array_arg("combinations", args[0])
    _expect("combinations", args[1], lambda t: t.is_integer, "an integer n")
    if not re.fullmatch(r"\d+", args[1].sql):
        raise UnsupportedQuery("combinations() with a size that is not a literal")
    n = int(args[1].sql)
    if n > 5:
        raise QueryError(f"combination size must not exceed 5: {n}")
    result = tt.array(a.type)
    if n == 0:
        return Typed(f"(CASE WHEN {a.sql} IS NULL THEN NULL ELSE [{a.sql}[1:0]] END)", result)

    # Trino lists them in colexicographic order of the positions: the last position varies slowest.
    def body(x: str) -> str:
        names = [fresh_name("i") for _ in range(n)]
        inner = "[" + ", ".join(f"{x}[{p}]" for p in names) + "]"
        text = f"[{inner}]"
        for depth in range(n):
            position = names[depth]
            upper = f"{names[depth + 1]} - 1" if depth + 1 < n else f"len({x})"
            text = f"flatten(list_transform(range({depth + 1}, {upper} + 1), lambda {position}: {text}))"
        return f"CASE WHEN {x} IS NULL THEN NULL ELSE {text} END"

    return Typed(bind([a.sql], body), result)


def element_concat(values: list[Typed]) -> Typed | None:
    """array || element and element || array (Trino's concatenation with one element)."""
    if len(values) != 2:
        return None
    left, right = values
    if left.type.name == "array" and tt.common_super_type(left.type.element, right.type) is not None:
        element = tt.common_super_type(left.type.element, right.type)
        assert element is not None
        array = coerce(left, tt.array(element))
        item = coerce(right, element).sql
        text = (
            f"(CASE WHEN {array.sql} IS NULL OR {item} IS NULL THEN NULL "
            f"ELSE list_append({array.sql}, {item}) END)"
        )
        return Typed(text, tt.array(element))
    if right.type.name == "array" and tt.common_super_type(right.type.element, left.type) is not None:
        element = tt.common_super_type(right.type.element, left.type)
        assert element is not None
        array = coerce(right, tt.array(element))
        item = coerce(left, element).sql
        text = (
            f"(CASE WHEN {array.sql} IS NULL OR {item} IS NULL THEN NULL "
            f"ELSE list_prepend({item}, {array.sql}) END)"
        )
        return Typed(text, tt.array(element))
    return None


# ---- maps ------------------------------------------------------------------------------------------
def _map_arg(name: str, value: Typed) -> Typed:
    _expect(name, value, lambda t: t.name == "map", "a map")
    return value


def _map_of(entries: str) -> str:
    """A map from a list of {key, value} structs, in their order (DuckDB refuses a NULL or repeated
    key, as Trino does)."""
    return f"map_from_entries({entries})"


@maps.scalar("map_concat", args="map(K, V), ...", returns="map(K, V)")
def _map_concat(args: list[Typed]) -> Typed:
    if not args:
        raise QueryError("map_concat() needs at least one map")
    for a in args:
        _map_arg("map_concat", a)
    maps, t = coerce_all(args, "map_concat")
    i = fresh_name("i")

    # The last map's value wins: the entries from last to first, the first of each key kept.
    def body(entries: str) -> str:
        kept = (
            f"list_filter(range(1, len({entries}) + 1), lambda {i}: "
            f"list_position(list_transform({entries}, lambda __dw_k: __dw_k.key), {entries}[{i}].key) = {i})"
        )
        return _map_of(f"list_transform({kept}, lambda {i}: {entries}[{i}])")

    reversed_entries = "list_concat(" + ", ".join(f"map_entries({m.sql})" for m in reversed(maps)) + ")"
    return Typed(_null_if_any(maps, bind([reversed_entries], body)), t)


@maps.scalar("map_from_entries", args="array(row(K, V))", returns="map(K, V)")
def _map_from_entries(args: list[Typed]) -> Typed:
    _arity("map_from_entries", args, 1)
    a = _array_arg("map_from_entries", args[0])
    row = a.type.element
    if row.is_unknown:  # ARRAY[NULL, ...]: every entry is NULL
        return Typed(
            f"(CASE WHEN len({a.sql}) > 0 "
            "THEN CAST(error('map entry cannot be null') AS MAP(INTEGER, INTEGER)) "
            f"WHEN {a.sql} IS NOT NULL THEN MAP {{}} END)",
            tt.map_of(tt.UNKNOWN, tt.UNKNOWN),
        )
    if row.name != "row" or len(row.elements) != 2:
        raise QueryError(f"map_from_entries() expects an array of rows of two fields, got {a.type.trino()}")
    key, value = row.elements
    names = complex_compare.field_names(row)
    e = fresh_name("e")

    def body(x: str) -> str:
        entries = (
            f"list_transform({x}, lambda {e}: {{'key': {e}.\"{names[0]}\", 'value': {e}.\"{names[1]}\"}})"
        )
        return (
            f"CASE WHEN {x} IS NULL THEN NULL WHEN list_position({x}, NULL) IS NOT NULL THEN "
            f"CAST(error('map entry cannot be null') AS MAP({key.duckdb()}, {value.duckdb()})) "
            f"ELSE {_map_of(entries)} END"
        )

    return Typed(bind([a.sql], body), tt.map_of(key, value))


def _pair_lambda(
    tr: "Translator", node: exp.Expression, scope: Scope, params: list[tt.TrinoType], values: list[str]
) -> Typed:
    """A lambda of several parameters applied to `values` (DuckDB's list lambdas take one)."""
    names, body = _lambda(tr, node, scope, params)
    text = body.sql
    for name, value in reversed(list(zip(names, values, strict=True))):
        text = f"list_transform([{value}], {_lambda_text([name], Typed(text, body.type))})[1]"
    return Typed(text, body.type)


def _transform_keys(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("transform_keys", raw, 2)
    m = _map_arg("transform_keys", tr.expr(raw[0], scope))
    key, value = m.type.elements
    e = fresh_name("e")
    new_key = _pair_lambda(tr, raw[1], scope, [key, value], [f"{e}.key", f"{e}.value"])
    entries = (
        f"list_transform(map_entries({m.sql}), lambda {e}: {{'key': {new_key.sql}, 'value': {e}.value}})"
    )
    return Typed(_map_of(entries), tt.map_of(new_key.type, value))


def _transform_values(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("transform_values", raw, 2)
    m = _map_arg("transform_values", tr.expr(raw[0], scope))
    key, value = m.type.elements
    e = fresh_name("e")
    new_value = _pair_lambda(tr, raw[1], scope, [key, value], [f"{e}.key", f"{e}.value"])
    entries = (
        f"list_transform(map_entries({m.sql}), lambda {e}: {{'key': {e}.key, 'value': {new_value.sql}}})"
    )
    return Typed(f"map_from_entries({entries})", tt.map_of(key, new_value.type))


def _map_filter(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("map_filter", raw, 2)
    m = _map_arg("map_filter", tr.expr(raw[0], scope))
    key, value = m.type.elements
    e = fresh_name("e")
    keep = _pair_lambda(tr, raw[1], scope, [key, value], [f"{e}.key", f"{e}.value"])
    if keep.type.name not in ("boolean", "unknown"):
        raise QueryError("map_filter()'s lambda must return boolean")
    entries = f"list_filter(map_entries({m.sql}), lambda {e}: COALESCE({keep.sql}, false))"
    return Typed(f"map_from_entries({entries})", m.type)


def _zip_with(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("zip_with", raw, 3)
    a = _array_arg("zip_with", tr.expr(raw[0], scope))
    b = _array_arg("zip_with", tr.expr(raw[1], scope))
    i = fresh_name("i")
    element_types = [a.type.element, b.type.element]
    result: list[tt.TrinoType] = []

    # The shorter array is padded with NULLs.
    def body(p: str, q: str) -> str:
        combined = _pair_lambda(tr, raw[2], scope, element_types, [f"{p}[{i}]", f"{q}[{i}]"])
        result.append(combined.type)
        return (
            f"CASE WHEN {p} IS NULL OR {q} IS NULL THEN NULL ELSE list_transform(range(1, "
            f"greatest(len({p}), len({q})) + 1), lambda {i}: {combined.sql}) END"
        )

    text = bind([a.sql, b.sql], body)
    return Typed(text, tt.array(result[0]))


def _map_zip_with(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("map_zip_with", raw, 3)
    m1 = _map_arg("map_zip_with", tr.expr(raw[0], scope))
    m2 = _map_arg("map_zip_with", tr.expr(raw[1], scope))
    key = tt.common_super_type(m1.type.elements[0], m2.type.elements[0])
    if key is None:
        raise QueryError("map_zip_with() needs maps with the same key type")
    m1 = coerce(m1, tt.map_of(key, m1.type.elements[1]))
    m2 = coerce(m2, tt.map_of(key, m2.type.elements[1]))
    k = fresh_name("k")
    value_types = [key, m1.type.elements[1], m2.type.elements[1]]
    result: list[tt.TrinoType] = []

    def body(x: str, y: str) -> str:
        values = [k, f"map_extract_value({x}, {k})", f"map_extract_value({y}, {k})"]
        combined = _pair_lambda(tr, raw[2], scope, value_types, values)
        result.append(combined.type)
        keys = _distinct(f"list_concat(map_keys({x}), map_keys({y}))")
        entries = f"list_transform({keys}, lambda {k}: {{'key': {k}, 'value': {combined.sql}}})"
        return f"CASE WHEN {x} IS NULL OR {y} IS NULL THEN NULL ELSE {_map_of(entries)} END"

    text = bind([m1.sql, m2.sql], body)
    return Typed(text, tt.map_of(key, result[0]))


maps.raw("transform_keys", args="map(K, V), function(K, V, K2)", returns="map(K2, V)")(_transform_keys)
maps.raw("transform_values", args="map(K, V), function(K, V, V2)", returns="map(K, V2)")(_transform_values)
maps.raw("map_filter", args="map(K, V), function(K, V, boolean)", returns="map(K, V)")(_map_filter)
arrays.raw("zip_with", args="array(T), array(U), function(T, U, R)", returns="array(R)")(_zip_with)
maps.raw("map_zip_with", args="map(K, V1), map(K, V2), function(K, V1, V2, V3)", returns="map(K, V3)")(
    _map_zip_with
)


@arrays.scalar("reverse", args="varchar(n) | array(E)", returns="varchar(n) | array(E)")
def _reverse(args: list[Typed]) -> Typed:
    _arity("reverse", args, 1)
    x = args[0]
    if x.type.name == "array":
        return Typed(f"list_reverse({x.sql})", x.type)
    s = _str("reverse", x)
    # By code point, as Trino does (DuckDB's reverse() keeps grapheme clusters together).
    return Typed(f"dw_reverse({s.sql})", s.type if not s.type.is_unknown else tt.VARCHAR)
