"""CAST between arrays, maps and rows: element by element (field by field), with the element casts'
own rules; a map keeps its entries' order."""

from dw_platform.query.binding import fresh_name
from dw_platform.query.operators import Typed, cast
from dw_platform.query.sql import QueryError
from dw_platform.query.trino_types import TrinoType


def complex_cast(value: Typed, target: TrinoType) -> str | None:
    """DuckDB text of CAST(value AS target) for arrays, maps and rows; None for other types."""
    source, v = value.type, value.sql
    if source.name != target.name or source.name not in ("array", "map", "row"):
        return None
    x = fresh_name("x")
    if source.name == "array":
        element = cast(Typed(x, source.element), target.element)
        return f"list_transform({v}, lambda {x}: {element.sql})"
    if source.name == "map":
        key = cast(Typed(f"{x}.key", source.elements[0]), target.elements[0])
        val = cast(Typed(f"{x}.value", source.elements[1]), target.elements[1])
        return (
            f"map_from_entries(list_transform(map_entries({v}), lambda {x}: "
            f"{{'key': {key.sql}, 'value': {val.sql}}}))"
        )
    if len(source.elements) != len(target.elements):
        raise QueryError(f"cannot cast {source.trino()} to {target.trino()}: the field counts differ")
    fields = []
    for i, (from_type, to_type) in enumerate(zip(source.elements, target.elements, strict=True)):
        from_name = source.field_names[i] or f"field{i}"
        to_name = target.field_names[i] or f"field{i}"
        field = cast(Typed(f'{x}."{_escaped(from_name)}"', from_type), to_type)
        fields.append(f"'{to_name.replace(chr(39), chr(39) * 2)}': {field.sql}")
    body = f"CASE WHEN {x} IS NULL THEN NULL ELSE {{{', '.join(fields)}}} END"
    return f"list_transform([{v}], lambda {x}: {body})[1]"


def _escaped(name: str) -> str:
    return name.replace('"', '""')
