"""Trino's array and map functions (functions/array.md, functions/map.md) and lambda functions
(functions/lambda.md): the basic ones, the constructor, subscripts and row fields; the rest of the
two pages are in array_functions.py."""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import complex_compare
from dw_platform.query import trino_types as tt
from dw_platform.query.functions.checks import Scalar, _arity, _array_arg, _int, _str, function_name
from dw_platform.query.functions.dates import temporal_sequence
from dw_platform.query.functions.registry import Family
from dw_platform.query.instant_keys import instant_of
from dw_platform.query.operators import Typed, coerce, coerce_all
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

arrays = Family("arrays")
maps = Family("maps")
lambdas = Family("lambda")


def array_constructor(values: list[Typed]) -> Typed:
    if not values:
        return Typed("[]", tt.array(tt.UNKNOWN))
    coerced, common = coerce_all(values, "ARRAY[...]")
    element = common if not common.is_unknown else tt.UNKNOWN
    return Typed("[" + ", ".join(v.sql for v in coerced) + "]", tt.array(element))


def subscript(value: Typed, keys: list[Typed]) -> Typed:
    if len(keys) != 1:
        raise QueryError("a subscript takes one index")
    [key] = keys
    if value.type.name == "array":
        _int("subscript", key)
        return Typed(f"dw_array_subscript({value.sql}, {key.sql})", value.type.element)
    if value.type.name == "map":
        k = coerce(key, value.type.elements[0])
        return Typed(f"dw_map_subscript({value.sql}, {k.sql})", value.type.elements[1])
    if value.type.name == "row":
        # r[n]: the n-th field (n a literal, 1-based), as Trino's row subscript.
        if not re.fullmatch(r"\d+", key.sql) or not 1 <= int(key.sql) <= len(value.type.elements):
            raise QueryError(f"a row subscript must be a literal from 1 to {len(value.type.elements)}")
        position = int(key.sql) - 1
        field = value.type.field_names[position] or f"field{position}"
        return Typed(f"({value.sql}).{quote_identifier(field)}", value.type.elements[position])
    raise QueryError(f"cannot subscript a value of type {value.type.trino()}")


def row_field(value: Typed, name: str) -> Typed:
    if value.type.name != "row":
        raise QueryError(f"cannot take field {name!r} of a value of type {value.type.trino()}")
    for field, t in zip(value.type.field_names, value.type.elements, strict=True):
        if field == name:
            return Typed(f"({value.sql}).{quote_identifier(name)}", t)
    raise QueryError(f"the row has no field {name!r}")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@arrays.scalar("cardinality", args="array(E) | map(K, V)", returns="bigint")
def _cardinality(args: list[Typed]) -> Typed:
    _arity("cardinality", args, 1)
    value = args[0]
    if value.type.name not in ("array", "map"):
        raise QueryError(f"cardinality() expects an array or a map, got {value.type.trino()}")
    return Typed(
        f"CAST(len({value.sql}) AS BIGINT)"
        if value.type.name == "array"
        else f"CAST(cardinality({value.sql}) AS BIGINT)",
        tt.BIGINT,
    )


@arrays.scalar("element_at", args="array(E), index bigint | map(K, V), key K", returns="E | V")
def _element_at(args: list[Typed]) -> Typed:
    _arity("element_at", args, 2)
    value, key = args
    if value.type.name == "array":
        _int("element_at", key)
        return Typed(f"dw_element_at({value.sql}, {key.sql})", value.type.element)
    if value.type.name == "map":
        k = coerce(key, value.type.elements[0])
        return Typed(f"dw_map_element_at({value.sql}, {k.sql})", value.type.elements[1])
    raise QueryError(f"element_at() expects an array or a map, got {value.type.trino()}")


@arrays.scalar("contains", args="array(E), element E", returns="boolean")
def _contains(args: list[Typed]) -> Typed:
    _arity("contains", args, 2)
    array = _array_arg("contains", args[0])
    element = coerce(args[1], array.type.element) if not array.type.element.is_unknown else args[1]
    if complex_compare.is_complex(element.type) or element.type.name in ("double", "real"):
        return Typed(complex_compare.contains_value(array.sql, element.sql, element.type), tt.BOOLEAN)
    # Trino: NULL when not found and the array holds a NULL.
    return Typed(f"dw_contains({_instants(array)}, {instant_of(element)})", tt.BOOLEAN)


def _instants(array: Typed) -> str:
    """An array of timestamps with time zone as their instants (Trino's `=` compares those), else itself."""
    if array.type.element.name != "timestamptz":
        return array.sql
    return f"list_transform({array.sql}, lambda __dw_tz: __dw_tz.i)"


@arrays.scalar("array_position", args="array(E), element E", returns="bigint")
def _array_position(args: list[Typed]) -> Typed:
    _arity("array_position", args, 2)
    array = _array_arg("array_position", args[0])
    element = coerce(args[1], array.type.element)
    return Typed(f"dw_array_position({_instants(array)}, {instant_of(element)})", tt.BIGINT)


@arrays.scalar(
    "array_join", args="array(E), delimiter varchar[, null_replacement varchar]", returns="varchar"
)
def _array_join(args: list[Typed]) -> Typed:
    _arity("array_join", args, 2, 3)
    array = _array_arg("array_join", args[0])
    if not (array.type.element.is_string or array.type.element.is_integer):
        raise UnsupportedQuery(f"array_join() of {array.type.trino()}")
    separator = _str("array_join", args[1])
    texts = f"list_transform({array.sql}, lambda __dw_x: CAST(__dw_x AS VARCHAR))"
    if len(args) == 3:
        replacement = _str("array_join", args[2])
        texts = f"list_transform({texts}, lambda __dw_x: COALESCE(__dw_x, {replacement.sql}))"
    else:
        texts = f"list_filter({texts}, lambda __dw_x: __dw_x IS NOT NULL)"
    return Typed(f"array_to_string({texts}, {separator.sql})", tt.VARCHAR)


def _array_extreme(name: str, duck: str) -> Scalar:
    def translate(args: list[Typed]) -> Typed:
        _arity(name, args, 1)
        array = _array_arg(name, args[0])
        element = array.type.element
        if element.name in ("double", "real") or not (
            element.is_numeric or element.is_string or element.name in ("date", "timestamp", "boolean")
        ):
            raise UnsupportedQuery(f"{name}() of {array.type.trino()}")
        # Trino: NULL if any element is NULL.
        return Typed(
            f"(CASE WHEN dw_has_null({array.sql}) THEN NULL ELSE {duck}({array.sql}) END)",
            element,
        )

    return translate


for _name, _duck in (("array_max", "list_max"), ("array_min", "list_min")):
    arrays.scalar(_name, args="array(E)", returns="E")(_array_extreme(_name, _duck))


@arrays.scalar("array_sort", args="array(E)", returns="array(E)")
def _array_sort(args: list[Typed]) -> Typed:
    _arity("array_sort", args, 1)
    array = _array_arg("array_sort", args[0])
    if array.type.element.name in ("double", "real", "map", "row", "array", "json", "timestamptz"):
        raise UnsupportedQuery(f"array_sort() of {array.type.trino()}")
    return Typed(f"list_sort({array.sql}, 'ASC', 'NULLS LAST')", array.type)


@arrays.scalar("flatten", args="array(array(E))", returns="array(E)")
def _flatten(args: list[Typed]) -> Typed:
    _arity("flatten", args, 1)
    array = _array_arg("flatten", args[0])
    if array.type.element.name != "array":
        raise QueryError("flatten() expects an array of arrays")
    return Typed(f"flatten({array.sql})", array.type.element)


@arrays.scalar(
    "sequence",
    args="start, stop bigint[, step bigint] | start, stop date or timestamp[, step interval]",
    returns="array(bigint) | array(the type of start)",
)
def _sequence(args: list[Typed]) -> Typed:
    _arity("sequence", args, 2, 3)
    if args[0].type.name in ("date", "timestamp", "timestamptz"):
        return temporal_sequence(args)
    values, common = coerce_all(args, "sequence")
    if not common.is_integer:
        raise UnsupportedQuery(f"sequence() of {common.trino()}")
    step = (
        values[2].sql
        if len(args) == 3
        else f"(CASE WHEN {values[0].sql} <= {values[1].sql} THEN 1 ELSE -1 END)"
    )
    return Typed(
        "dw_sequence("
        + ", ".join(f"CAST({v} AS BIGINT)" for v in (values[0].sql, values[1].sql, step))
        + ")",
        tt.array(tt.BIGINT),
    )


@arrays.scalar("slice", args="array(E), start bigint, length bigint", returns="array(E)")
def _slice(args: list[Typed]) -> Typed:
    _arity("slice", args, 3)
    array = _array_arg("slice", args[0])
    return Typed(
        f"dw_slice({array.sql}, {_int('slice', args[1]).sql}, {_int('slice', args[2]).sql})", array.type
    )


@maps.scalar("map", args="() | array(K), array(V)", returns="map(K, V)")
def _map(args: list[Typed]) -> Typed:
    if not args:
        return Typed("MAP {}", tt.map_of(tt.UNKNOWN, tt.UNKNOWN))
    _arity("map", args, 2)
    keys, values = (_array_arg("map", a) for a in args)
    t = tt.map_of(keys.type.element, values.type.element)
    if complex_compare.is_complex(keys.type.element):
        # Trino rejects a key holding a NULL element: it could not be found by `=`.
        k = "__dw_mk"
        undecided = complex_compare.holds_null(k, keys.type.element)
        check = f"list_bool_or(list_transform({keys.sql}, lambda {k}: {k} IS NOT NULL AND {undecided}))"
        return Typed(
            f"(CASE WHEN {check} THEN CAST(dw_fail('map key cannot be indeterminate') AS {t.duckdb()}) "
            f"ELSE dw_map({keys.sql}, {values.sql}) END)",
            t,
        )
    return Typed(f"dw_map({keys.sql}, {values.sql})", t)


@maps.scalar("map_keys", args="map(K, V)", returns="array(K)")
def _map_keys(args: list[Typed]) -> Typed:
    _arity("map_keys", args, 1)
    m = args[0]
    if m.type.name != "map":
        raise QueryError(f"map_keys() expects a map, got {m.type.trino()}")
    return Typed(f"map_keys({m.sql})", tt.array(m.type.elements[0]))


@maps.scalar("map_values", args="map(K, V)", returns="array(V)")
def _map_values(args: list[Typed]) -> Typed:
    _arity("map_values", args, 1)
    m = args[0]
    if m.type.name != "map":
        raise QueryError(f"map_values() expects a map, got {m.type.trino()}")
    return Typed(f"map_values({m.sql})", tt.array(m.type.elements[1]))


@arrays.scalar("row", args="T1, ..., Tn", returns="row(T1, ..., Tn)")
def _row(args: list[Typed]) -> Typed:
    fields = [(f"field{i}", a.type) for i, a in enumerate(args)]
    text = "{" + ", ".join(f"'field{i}': {a.sql}" for i, a in enumerate(args)) + "}"
    return Typed(text, tt.row([(None, t) for _, t in fields]))


def _lambda(
    tr: "Translator", node: exp.Expression, scope: Scope, params: list[TrinoType]
) -> tuple[list[str], Typed]:
    if not isinstance(node, exp.Lambda):
        if isinstance(node, exp.Anonymous) and function_name(node).startswith("$"):
            raise UnsupportedQuery(f"Trino's internal function {function_name(node)}")
        raise QueryError("expected a lambda expression (x -> ...)")
    names = [p.name for p in node.expressions]
    if len(names) != len(params):
        raise QueryError(f"the lambda takes {len(names)} parameters, {len(params)} expected")
    body = tr.expr(node.this, scope.child(**dict(zip(names, params, strict=True))))
    return names, body


def _lambda_text(names: list[str], body: Typed) -> str:
    params = ", ".join(quote_identifier(n) for n in names)
    return f"lambda {params}: {body.sql}"


@arrays.raw("transform", args="array(T), function(T, U)", returns="array(U)")
def _transform(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("transform", raw, 2)
    array = _array_arg("transform", tr.expr(raw[0], scope))
    names, body = _lambda(tr, raw[1], scope, [array.type.element])
    return Typed(f"list_transform({array.sql}, {_lambda_text(names, body)})", tt.array(body.type))


@arrays.raw("filter", args="array(T), function(T, boolean)", returns="array(T)")
def _filter(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("filter", raw, 2)
    array = _array_arg("filter", tr.expr(raw[0], scope))
    names, body = _lambda(tr, raw[1], scope, [array.type.element])
    if body.type.name not in ("boolean", "unknown"):
        raise QueryError("filter()'s lambda must return boolean")
    return Typed(
        f"list_filter({array.sql}, {_lambda_text(names, Typed(f'COALESCE({body.sql}, false)', tt.BOOLEAN))})",
        array.type,
    )


def _match(name: str) -> Callable[["Translator", list[exp.Expression], Scope], Typed]:
    def translate(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
        _arity(name, raw, 2)
        array = _array_arg(name, tr.expr(raw[0], scope))
        names, body = _lambda(tr, raw[1], scope, [array.type.element])
        results = f"list_transform({array.sql}, {_lambda_text(names, body)})"
        return Typed(f"dw_{name}({results})", tt.BOOLEAN)

    return translate


@arrays.raw("reduce", args="array(T), initial S, function(S, T, S), function(S, R)", returns="R")
def _reduce(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    _arity("reduce", raw, 4)
    array = _array_arg("reduce", tr.expr(raw[0], scope))
    initial = tr.expr(raw[1], scope)
    names, step = _lambda(tr, raw[2], scope, [initial.type, array.type.element])
    if step.type != initial.type:
        state = tt.common_super_type(initial.type, step.type)
        if state is None:
            raise QueryError("reduce(): the lambda's result does not fit the initial state's type")
        initial = coerce(initial, state)
        names, step = _lambda(tr, raw[2], scope, [state, array.type.element])
        step = coerce(step, state)
    out_names, output = _lambda(tr, raw[3], scope, [initial.type])
    # DuckDB's list_reduce takes (accumulator, element) like Trino's.
    folded = f"list_reduce({array.sql}, {_lambda_text(names, step)}, {initial.sql})"
    final = f"list_transform([{folded}], {_lambda_text(out_names, output)})[1]"
    return Typed(final, output.type)


@lambdas.raw("apply", args="T, function(T, U)", returns="U")
def _apply(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    """apply(x, f): f(x), the value bound once."""
    _arity("apply", raw, 2)
    value = tr.expr(raw[0], scope)
    names, body = _lambda(tr, raw[1], scope, [value.type])
    return Typed(f"list_transform([{value.sql}], {_lambda_text(names, body)})[1]", body.type)


for _name in ("any_match", "all_match", "none_match"):
    arrays.raw(_name, args="array(T), function(T, boolean)", returns="boolean")(_match(_name))
