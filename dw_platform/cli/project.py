"""Which warehouses the project declares, and which one a `dw` command acts on: the one place the CLI
asks. `dw` is a client of the code location `dg dev` loads (dw_platform/definitions.py), not a second
place where warehouses are assembled.

A command that only needs a declaration (send, query, status, ...) reads the defs folder's
`WarehouseComponent` declarations without importing Dagster (declaration/defs_folder.py), which keeps
`dw query` starting in well under a second; a warehouse declared in YAML, and the Definitions that
`dw backfill` and `dw demo` run, come from the code location itself.
"""

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dw_platform.errors import DwError, UserInputError

# Imported when a command asks for its warehouse (`dw --help` reads no declaration); Dagster only by
# the commands that run definitions.
if TYPE_CHECKING:
    import dagster as dg

    from dw_platform.declaration.defs_folder import WarehouseEntry
    from dw_platform.declaration.warehouse import ServerlessDataWarehouse

WAREHOUSE_ENV = "DW_WAREHOUSE"


class WarehouseChoiceError(UserInputError):
    """No warehouse chosen in a project of several, or a name the project does not declare."""


@dataclass(frozen=True)
class DeclaredWarehouse:
    """A warehouse of the defs folder: its name, its component's folder and, when declared in Python,
    the declaration itself (a YAML declaration is built by the component)."""

    name: str
    entry: "WarehouseEntry"
    warehouse: "ServerlessDataWarehouse | None"


def declared_warehouses() -> list[DeclaredWarehouse]:
    """Every warehouse the project's defs folder declares, by name."""
    from dw_platform.declaration.defs_folder import project_defs_folder, python_declaration, warehouse_entries

    defs = project_defs_folder(Path(__file__).parents[1])  # the package dw_platform
    found: dict[str, DeclaredWarehouse] = {}
    for entry in warehouse_entries(defs):
        warehouse = python_declaration(defs, entry)
        name = entry.attributes.get("name") if warehouse is None else warehouse.name
        if not isinstance(name, str) or "{{" in name:
            warehouse = _through_code_location(entry)
            name = warehouse.name
        if name in found:
            raise WarehouseChoiceError(
                f"warehouse {name} is declared twice, in {found[name].entry.folder} and {entry.folder}"
            )
        found[name] = DeclaredWarehouse(name, entry, warehouse)
    if not found:
        raise WarehouseChoiceError(
            f"the project declares no warehouse (no WarehouseComponent in {defs.path})"
        )
    return sorted(found.values(), key=lambda declared: declared.name)


def requested_name(args: argparse.Namespace) -> str | None:
    """The warehouse asked for: --warehouse, else DW_WAREHOUSE (empty counts as unset)."""
    return getattr(args, "warehouse", None) or os.environ.get(WAREHOUSE_ENV) or None


def choose(declared: list[DeclaredWarehouse], requested: str | None) -> DeclaredWarehouse:
    """The warehouse a command acts on: the one asked for, or the project's only one."""
    names = ", ".join(d.name for d in declared)
    if requested is None:
        if len(declared) > 1:
            raise WarehouseChoiceError(
                f"this project has several warehouses ({names}): choose one with --warehouse NAME "
                f"(or {WAREHOUSE_ENV})"
            )
        return declared[0]
    for candidate in declared:
        if candidate.name == requested:
            return candidate
    raise WarehouseChoiceError(f"no warehouse {requested!r} in this project; its warehouses are {names}")


def warehouse(args: argparse.Namespace) -> "ServerlessDataWarehouse":
    """The declaration of the warehouse the command acts on."""
    chosen = choose(declared_warehouses(), requested_name(args))
    return chosen.warehouse if chosen.warehouse is not None else _through_code_location(chosen.entry)


def definitions(args: argparse.Namespace) -> tuple["ServerlessDataWarehouse", "dg.Definitions"]:
    """The chosen warehouse and the code location's Definitions (every warehouse's; asset keys are
    prefixed by the warehouse's name), loaded under the current environment's settings."""
    from dw_platform.definitions import build_project, project_tree
    from dw_platform.orchestration.asset_keys import warehouse_names

    chosen = warehouse(args)
    loaded = build_project(project_tree())
    if chosen.name not in warehouse_names(loaded):
        raise DwError(f"the code location has no definitions of warehouse {chosen.name}")
    return chosen, loaded


def _through_code_location(entry: "WarehouseEntry") -> "ServerlessDataWarehouse":
    """A declaration only the component can resolve (YAML, templates): load it as Dagster does."""
    from dw_platform.components.warehouse import WarehouseComponent
    from dw_platform.definitions import project_tree

    tree = project_tree()
    component = tree.load_component(entry.folder, WarehouseComponent)
    return component.load_warehouse(tree.load_context.for_path(entry.folder))
