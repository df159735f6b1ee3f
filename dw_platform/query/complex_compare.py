"""Trino's comparison of arrays, maps and rows, as DuckDB text.

DuckDB compares nested values with NULLs equal to each other, NaN equal to itself and maps in their
entries' order; Trino's `=` is three-valued element by element (a NULL element makes the result NULL
unless another element already differs), NaN is unequal to itself, and a map equals another with the
same entries in any order. Ordering (`<`, ...) of arrays and rows in Trino fails on a NULL element it
reaches; the local engine refuses any NULL or NaN element there rather than guess which one is reached.
IS [NOT] DISTINCT FROM, DISTINCT and GROUP BY treat NULLs as equal in both engines: only the maps'
entry order matters there (maps keep their entries' order, as in Trino): IS DISTINCT FROM compares
`sorted_map`s, and grouping maps is refused.
"""

from dw_platform.query.binding import bind, fresh_name
from dw_platform.query.sql import QueryError
from dw_platform.query.trino_types import TrinoType

REFUSE_ORDERING = (
    "error('not supported by the local engine: ordering arrays or rows that hold NULL or NaN elements')"
)


def is_complex(t: TrinoType) -> bool:
    return t.name in ("array", "map", "row")


def contains(t: TrinoType, names: tuple[str, ...]) -> bool:
    return t.name in names or any(contains(e, names) for e in t.elements)


def _all_true(results: str) -> str:
    """false if any is false, else NULL if any is NULL, else true (Trino's AND over the elements)."""
    return (
        f"list_transform([{results}], lambda __dw_rs: CASE WHEN list_contains(__dw_rs, false) THEN false "
        "WHEN list_contains(list_transform(__dw_rs, lambda __dw_z: __dw_z IS NULL), true) THEN NULL "
        "ELSE true END)[1]"
    )


def sorted_entries(m: str) -> str:
    """A map's entries ordered by key: the same list for equal maps, whatever order built them."""
    return f"list_sort(map_entries({m}))"


def sorted_map(m: str) -> str:
    return f"map_from_entries({sorted_entries(m)})"


def field_names(t: TrinoType) -> list[str]:
    return [n or f"field{i}" for i, n in enumerate(t.field_names)]


def _field(value: str, name: str) -> str:
    return f'({value})."{name.replace(chr(34), chr(34) * 2)}"'


def equal(left: str, right: str, t: TrinoType) -> str:
    """Trino's `left = right` for two values of type t."""
    if t.name in ("double", "real"):
        return f"(CASE WHEN isnan({left}) OR isnan({right}) THEN false ELSE ({left}) = ({right}) END)"
    if t.name == "timestamptz":
        return f"(({left}).i = ({right}).i)"
    if t.name == "json":  # its text: json_parse's is canonical (sorted keys), as in Trino
        return f"(({left}) = ({right}))"
    if t.name == "array":
        element = t.element

        def body(a: str, b: str) -> str:
            i = fresh_name("i")
            each = equal(f"{a}[{i}]", f"{b}[{i}]", element)
            return (
                f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL WHEN len({a}) <> len({b}) THEN false "
                f"ELSE {_all_true(f'list_transform(range(1, len({a}) + 1), lambda {i}: {each})')} END"
            )

        return bind([left, right], body)
    if t.name == "map":
        key, value = t.elements

        def body(a: str, b: str) -> str:
            ea, eb = fresh_name("ea"), fresh_name("eb")
            keys = lambda e: f"list_transform({e}, lambda __dw_k: __dw_k.key)"  # noqa: E731
            values = lambda e: f"list_transform({e}, lambda __dw_k: __dw_k.value)"  # noqa: E731
            same_values = equal(values(ea), values(eb), t.__class__("array", elements=(value,)))
            inner = (
                f"CASE WHEN len({ea}) <> len({eb}) OR {keys(ea)} <> {keys(eb)} THEN false "
                f"ELSE {same_values} END"
            )
            return (
                f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE "
                f"list_transform([{sorted_entries(a)}], lambda {ea}: list_transform([{sorted_entries(b)}], "
                f"lambda {eb}: {inner})[1])[1] END"
            )

        del key
        return bind([left, right], body)
    if t.name == "row":

        def body(a: str, b: str) -> str:
            each = ", ".join(
                equal(_field(a, n), _field(b, n), ft)
                for n, ft in zip(field_names(t), t.elements, strict=True)
            )
            return f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL ELSE {_all_true(f'[{each}]')} END"

        return bind([left, right], body)
    return f"(({left}) = ({right}))"


def _indeterminate(value: str, t: TrinoType, nan: bool = True) -> str:
    """true where a value (not NULL itself) holds a NULL (or, with `nan`, NaN) element at any depth."""
    if t.name == "array":
        e = fresh_name("e")
        inner = _element_indeterminate(e, t.element, nan)
        return f"list_contains(list_transform({value}, lambda {e}: {inner}), true)"
    if t.name == "row":
        parts = [
            _element_indeterminate(_field(value, n), ft, nan)
            for n, ft in zip(field_names(t), t.elements, strict=True)
        ]
        return "(" + " OR ".join(parts) + ")"
    return "false"


def holds_null(value: str, t: TrinoType) -> str:
    """true where a value (not NULL itself) holds a NULL element at any depth (Trino: indeterminate)."""
    return _indeterminate(value, t, nan=False)


def _element_indeterminate(value: str, t: TrinoType, nan: bool) -> str:
    extra = ""
    if t.name in ("double", "real") and nan:
        extra = f" OR isnan({value})"
    elif t.name in ("array", "row"):
        extra = f" OR {_indeterminate(value, t, nan)}"
    return f"(({value}) IS NULL{extra})"


def ordering(op: str, left: str, right: str, t: TrinoType) -> str:
    """Trino's `<`, `<=`, `>`, `>=` of arrays and rows: lexicographic, as DuckDB's, where no element is
    NULL or NaN; with one, a refusal."""
    if contains(t, ("map", "json")):
        raise QueryError(f"values of type {t.trino()} cannot be ordered")
    if contains(t, ("timestamptz", "interval_ds", "interval_ym")):
        from dw_platform.query.sql import UnsupportedQuery

        raise UnsupportedQuery(f"ordering values of type {t.trino()}")

    def body(a: str, b: str) -> str:
        return (
            f"CASE WHEN {a} IS NULL OR {b} IS NULL THEN NULL "
            f"WHEN {_indeterminate(a, t)} OR {_indeterminate(b, t)} THEN {REFUSE_ORDERING} "
            f"ELSE {a} {op} {b} END"
        )

    return bind([left, right], body)


def contains_value(array: str, value: str, t: TrinoType) -> str:
    """Trino's contains(array, value) by its `=`: NaN is never found; a NULL element makes the answer
    NULL where nothing is found; an element whose comparison is indeterminate (a nested NULL) before
    the one found fails, as Trino's does."""
    e = fresh_name("c")

    def body(a: str, x: str) -> str:
        rejected = ""
        if is_complex(t):
            rejected = f"WHEN {holds_null(x, t)} THEN {_CONTAINS_NULL} "
        # per element: 0 no match (or a NULL element), 1 found, 2 indeterminate
        steps = (
            f"list_transform({a}, lambda {e}: CASE WHEN {e} IS NULL THEN 0 WHEN {equal(e, x, t)} THEN 1 "
            f"WHEN {equal(e, x, t)} IS NULL THEN 2 ELSE 0 END)"
        )
        first = f"list_filter({steps}, lambda __dw_z: __dw_z > 0)[1]"
        return (
            f"CASE WHEN {a} IS NULL OR {x} IS NULL THEN NULL {rejected}"
            f"WHEN {first} = 1 THEN true WHEN {first} = 2 THEN {_CONTAINS_NULL} "
            f"WHEN list_contains(list_transform({a}, lambda __dw_z: __dw_z IS NULL), true) THEN NULL "
            "ELSE false END"
        )

    return bind([array, value], body)


_CONTAINS_NULL = "error('contains does not support arrays with elements that are null or contain null')"


def refuse_map_grouping(t: TrinoType, what: str) -> None:
    """DISTINCT, GROUP BY and set operations group maps with DuckDB's entry-by-entry equality, where
    Trino's finds two maps with the same entries in another order equal: refused."""
    if contains(t, ("map",)):
        from dw_platform.query.sql import UnsupportedQuery

        raise UnsupportedQuery(f"{what} over values of type {t.trino()} (maps equal in another entry order)")
