"""Where a dg project declares its warehouses, read without importing Dagster: the project's defs
folder (`[tool.dg.project]` of its pyproject.toml or dg.toml, as `dg dev` finds it) and, in it, the
`defs.yaml` files of type `WarehouseComponent` with their `declaration: module:attribute`.

`WarehouseComponent` resolves its declaration with the functions here, so the code location and `dw`
find the same object; `dw` reads the folder this way because importing Dagster and building every
asset takes seconds, and `dw query` should not wait for them.
"""

import importlib
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from dw_platform.declaration.warehouse import DeclarationError, ServerlessDataWarehouse

# How a defs.yaml names the component type (the registry module's name, or its own module's).
WAREHOUSE_COMPONENT_TYPES = frozenset(
    {"dw_platform.components.WarehouseComponent", "dw_platform.components.warehouse.WarehouseComponent"}
)
COMPONENT_FILE = "defs.yaml"


@dataclass(frozen=True)
class DefsFolder:
    """A project's defs module and its folder."""

    module: str
    path: Path


@dataclass(frozen=True)
class WarehouseEntry:
    """One `WarehouseComponent` of a defs.yaml: its folder and its attributes as written."""

    folder: Path
    attributes: Mapping[str, Any]


def _dg_config(folder: Path) -> Mapping[str, Any] | None:
    """The dg project table of `folder`'s dg.toml or pyproject.toml, if it has one."""
    for name, section in (("dg.toml", ("project",)), ("pyproject.toml", ("tool", "dg", "project"))):
        path = folder / name
        if not path.is_file():
            continue
        table: Any = tomllib.loads(path.read_text())
        if name == "pyproject.toml" and "dg" not in table.get("tool", {}):
            continue
        for key in section:
            table = table.get(key, {})
        return table
    return None


def project_defs_folder(within: Path) -> DefsFolder:
    """The defs folder of the dg project `within` lies in: the nearest folder upwards holding a
    dg.toml, or a pyproject.toml with a [tool.dg] table, names it (`defs_module`, else
    `<root_module>.defs`), as Dagster's `ComponentTree.for_project` reads it."""
    for folder in (within.absolute(), *within.absolute().parents):
        config = _dg_config(folder)
        if config is None:
            continue
        module_name = config.get("defs_module") or (
            f"{config['root_module']}.defs" if config.get("root_module") else None
        )
        if not module_name:
            raise DeclarationError(f"{folder}: the dg project names neither defs_module nor root_module")
        module = importlib.import_module(module_name)
        return DefsFolder(module_name, Path(next(iter(module.__path__))))
    raise DeclarationError(f"no dg project (a pyproject.toml with [tool.dg]) in {within} or above it")


def warehouse_entries(defs: DefsFolder) -> list[WarehouseEntry]:
    """Every WarehouseComponent of the defs folder's defs.yaml files, in path order. As Dagster
    loads the folder, a folder with a defs.yaml is one component's and is not searched further."""
    import yaml  # only when a command needs a warehouse: `dw --help` stays quick

    return [
        WarehouseEntry(folder, document.get("attributes") or {})
        for folder in _component_folders(defs.path)
        for document in yaml.safe_load_all((folder / COMPONENT_FILE).read_text())
        if isinstance(document, dict) and document.get("type") in WAREHOUSE_COMPONENT_TYPES
    ]


def _component_folders(folder: Path) -> Iterator[Path]:
    if (folder / COMPONENT_FILE).is_file():
        yield folder
        return
    for child in sorted(folder.iterdir()):
        if child.is_dir() and not child.name.startswith((".", "_")):
            yield from _component_folders(child)


def split_reference(reference: str) -> tuple[str, str]:
    """`module:attribute` as its two parts."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise DeclarationError(f"declaration must be `module:attribute`, got {reference!r}")
    return module_name, attribute


def module_beside(folder: Path, module_name: str) -> Path | None:
    """The file of a declaration module written beside a defs.yaml, if there is one (else the module
    is an importable one)."""
    path = folder / f"{module_name.replace('.', '/')}.py"
    return path if path.exists() else None


def declared_in(module: ModuleType, reference: str) -> ServerlessDataWarehouse:
    """The warehouse `module:attribute` names, checked to be one."""
    warehouse = getattr(module, split_reference(reference)[1], None)
    if not isinstance(warehouse, ServerlessDataWarehouse):
        raise DeclarationError(
            f"{reference}: expected a ServerlessDataWarehouse, found {type(warehouse).__name__}"
        )
    return warehouse


def python_declaration(defs: DefsFolder, entry: WarehouseEntry) -> ServerlessDataWarehouse | None:
    """The warehouse of an entry declared by `declaration: module:attribute`, imported under the name
    Dagster's `load_defs_relative_python_module` gives a module beside the defs.yaml; None for one
    declared in YAML or written with a template (only the component can resolve those)."""
    reference = entry.attributes.get("declaration")
    if not isinstance(reference, str) or "{{" in reference:
        return None
    module_name, _ = split_reference(reference)
    beside = module_beside(entry.folder, module_name)
    if beside is not None:
        parts = beside.relative_to(defs.path).with_suffix("").parts
        module_name = ".".join((defs.module, *parts))
    return declared_in(importlib.import_module(module_name), reference)
