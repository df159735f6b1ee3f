"""Every asset key and definition name of a warehouse, in one place: `<warehouse>/<table>` for each
table's asset, `<warehouse>/<table>_compacted` for compaction, `infrastructure/<warehouse>` for the
catalog; jobs, schedules and sensors are named `<warehouse>_<name>`, so two warehouses (two folders
of the defs folder) load side by side in one code location."""

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse


def table_asset_key(warehouse: ServerlessDataWarehouse, table: str) -> dg.AssetKey:
    return dg.AssetKey([warehouse.name, table])


def compaction_key(warehouse: ServerlessDataWarehouse, table: str) -> dg.AssetKey:
    return dg.AssetKey([warehouse.name, f"{table}_compacted"])


def infrastructure_key(warehouse: ServerlessDataWarehouse) -> dg.AssetKey:
    return dg.AssetKey(["infrastructure", warehouse.name])


def warehouse_names(defs: dg.Definitions) -> list[str]:
    """The warehouses whose definitions `defs` holds (one infrastructure asset each)."""
    keys = [key for a in defs.assets or () if isinstance(a, dg.AssetsDefinition) for key in a.keys]
    return sorted({key.path[1] for key in keys if len(key.path) == 2 and key.path[0] == "infrastructure"})


def definition_name(warehouse: ServerlessDataWarehouse, name: str) -> str:
    """The name of a job, schedule or sensor of the warehouse."""
    return f"{warehouse.name}_{name}"
