"""The YAML form of a warehouse declaration: the fluent Python API's model, read from YAML.

Its fields are not written here: each table's are the parameters of its fluent method
(`with_streaming_input_table`, `with_table`, `with_batch_input_table`), a column's are `Column`'s
and the warehouse's are `ServerlessDataWarehouse`'s, with their defaults. Both forms build the same
`ServerlessDataWarehouse` through the same calls, so the validation and messages are one; the YAML
only spells a callable as `module:function` and a seed file relative to defs.yaml.

    type: dw_platform.components.WarehouseComponent
    attributes:
      name: sales_dw
      owners: [team:sales]
      streaming_tables:
        - name: orders
          columns: [{name: id}, {name: amount, type: double}, {name: event_time}]
          buffer_size_mib: 64
      batch_tables:
        - name: order_counts
          columns: [{name: event_type}, {name: count, type: int}, {name: time}]
          job: my_package.jobs:count_orders      # a Python reference, as in the fluent API
          inputs: [orders]
"""

import dataclasses
import importlib
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pydantic

from dw_platform.declaration.warehouse import (
    Column,
    ColumnsLike,
    DeclarationError,
    ServerlessDataWarehouse,
)

# The YAML's table lists and the fluent method each list's entries are arguments of.
TABLE_METHODS: dict[str, Callable[..., ServerlessDataWarehouse]] = {
    "streaming_tables": ServerlessDataWarehouse.with_streaming_input_table,
    "tables": ServerlessDataWarehouse.with_table,
    "batch_tables": ServerlessDataWarehouse.with_batch_input_table,
}
# The warehouse's own fields the YAML gives (its tables come from the lists above).
WAREHOUSE_FIELDS = tuple(f.name for f in dataclasses.fields(ServerlessDataWarehouse) if f.name != "tables")

_STRICT = pydantic.ConfigDict(extra="forbid")
_REFERENCE = "`module:function`, a Python reference (as the fluent API's callable)"


def _model_of_dataclass(cls: type) -> type[pydantic.BaseModel]:
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {
        f.name: (hints[f.name], ... if f.default is dataclasses.MISSING else f.default)
        for f in dataclasses.fields(cls)
    }
    return pydantic.create_model(f"{cls.__name__}Model", __config__=_STRICT, **fields)


ColumnModel = _model_of_dataclass(Column)


def _is_callable(hint: Any) -> bool:
    return any(typing.get_origin(arm) is Callable for arm in (hint, *typing.get_args(hint)))


def _yaml_type(hint: Any) -> tuple[Any, str | None]:
    """The type a fluent parameter takes in YAML, and what it means there (None: as in Python)."""
    optional = type(None) in typing.get_args(hint)
    if hint in (ColumnsLike, ColumnsLike | None):
        yaml: Any = list[ColumnModel]
        return (yaml | None if optional else yaml), None
    if _is_callable(hint):
        return (str | None if optional else str), _REFERENCE
    if Path in typing.get_args(hint):
        return (str | None if optional else str), "a path relative to defs.yaml"
    if typing.get_origin(hint) in (Sequence, tuple):
        return list[str], None
    return hint, None


def _json_default(default: Any) -> Any:
    """A default as YAML would spell it (the fluent default itself applies: unset fields are not passed)."""
    if isinstance(default, tuple):
        return [dict(zip(("name", "type"), item, strict=True)) for item in default]
    return default


def _model_of_method(name: str, method: Callable[..., Any]) -> type[pydantic.BaseModel]:
    hints = typing.get_type_hints(method)
    fields: dict[str, Any] = {}
    for parameter in list(inspect.signature(method).parameters.values())[1:]:  # after self
        annotation, meaning = _yaml_type(hints[parameter.name])
        required = parameter.default is inspect.Parameter.empty
        default = ... if required else _json_default(parameter.default)
        fields[parameter.name] = (annotation, pydantic.Field(default=default, description=meaning))
    return pydantic.create_model(name, __config__=_STRICT, **fields)


StreamingTableModel = _model_of_method("StreamingTableModel", TABLE_METHODS["streaming_tables"])
TableModel = _model_of_method("TableModel", TABLE_METHODS["tables"])
BatchTableModel = _model_of_method("BatchTableModel", TABLE_METHODS["batch_tables"])
TABLE_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "streaming_tables": StreamingTableModel,
    "tables": TableModel,
    "batch_tables": BatchTableModel,
}


def _warehouse_model() -> type[pydantic.BaseModel]:
    hints = typing.get_type_hints(ServerlessDataWarehouse)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(ServerlessDataWarehouse):
        if field.name in WAREHOUSE_FIELDS:
            hint = hints[field.name]
            annotation = list[str] if typing.get_origin(hint) is tuple else hint
            default = ... if field.default is dataclasses.MISSING else _json_default(field.default)
            fields[field.name] = (annotation, default)
    for key, model in TABLE_MODELS.items():
        fields[key] = (list[model], [])
    return pydantic.create_model("WarehouseDeclarationModel", __config__=_STRICT, **fields)


WarehouseDeclarationModel = _warehouse_model()


def python_reference(reference: str, what: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise DeclarationError(f"{what} must be `module:attribute`, got {reference!r}")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise DeclarationError(f"{what} {reference!r} cannot be loaded: {error}") from None
    if not callable(target):
        raise DeclarationError(f"{what} {reference!r} is not callable")
    return target


def _arguments(table: pydantic.BaseModel, method: Callable[..., Any], folder: Path) -> dict[str, Any]:
    """The fluent call's arguments: the fields the YAML set (the others keep the method's defaults)."""
    hints = typing.get_type_hints(method)
    arguments: dict[str, Any] = {}
    for name in table.model_fields_set:
        value, hint = getattr(table, name), hints[name]
        if value is None:
            arguments[name] = None
        elif hint in (ColumnsLike, ColumnsLike | None):
            arguments[name] = [Column(c.name, c.type) for c in value]
        elif _is_callable(hint):
            arguments[name] = python_reference(value, f"table {table.name!r}: {name}")
        elif Path in typing.get_args(hint):
            arguments[name] = folder / value
        else:
            arguments[name] = value
    return arguments


def declared_warehouse(
    name: str,
    folder: Path,
    streaming_tables: Iterable[pydantic.BaseModel] = (),
    tables: Iterable[pydantic.BaseModel] = (),
    batch_tables: Iterable[pydantic.BaseModel] = (),
    **options: Any,
) -> ServerlessDataWarehouse:
    """The warehouse the YAML declares (`options`: the warehouse's other fields), through the fluent
    API: streaming tables first, then plain, then batch tables (a batch table's inputs must be
    declared before it, as in Python). A seed file is relative to `folder`."""
    given = {key: tuple(value) if isinstance(value, list) else value for key, value in options.items()}
    warehouse = ServerlessDataWarehouse(name, **given)
    for key, entries in (
        ("streaming_tables", streaming_tables),
        ("tables", tables),
        ("batch_tables", batch_tables),
    ):
        method = TABLE_METHODS[key]
        for table in entries:
            warehouse = method(warehouse, **_arguments(table, method, folder))
    return warehouse


def _where(location: Sequence[int | str]) -> str:
    """A field's place as the YAML spells it: `streaming_tables[0].columns[1].type`."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "attributes"


def parse_declaration(attributes: Mapping[str, Any], file: Path) -> ServerlessDataWarehouse:
    """The warehouse `file`'s attributes declare, or a DeclarationError of one line naming the file
    and the field (the first of the errors, with how many more)."""
    try:
        declaration = WarehouseDeclarationModel.model_validate(dict(attributes))
    except pydantic.ValidationError as invalid:
        errors = invalid.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DeclarationError(f"{file}: {_where(first['loc'])}: {first['msg']}{more}") from None
    given = {key: getattr(declaration, key) for key in declaration.model_fields_set}
    try:
        return declared_warehouse(folder=file.parent, **given)
    except DeclarationError as error:
        raise DeclarationError(f"{file}: {error}") from None
