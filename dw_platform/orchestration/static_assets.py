"""The warehouse's catalog (infrastructure) asset and static tables loaded from seed files."""

import hashlib
import json

import dagster as dg

from dw_platform.catalog import table_definition
from dw_platform.catalog.sync import load_seed, sync_catalog
from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.orchestration.asset_keys import infrastructure_key, table_asset_key
from dw_platform.orchestration.asset_metadata import ROW_COUNT, asset_tags, owners, table_metadata
from dw_platform.orchestration.resources import ProvisioningResource, WarehouseResource

# Materialize once on a fresh install (on_missing() would only react to assets added later), again
# when the declaration or the seed file changes, and never retry a failure in a loop.
_ON_MISSING_OR_CHANGED = (
    dg.AutomationCondition.missing()
    & ~dg.AutomationCondition.in_progress()
    & ~dg.AutomationCondition.execution_failed()
) | dg.AutomationCondition.code_version_changed()


def _declaration_version(warehouse: ServerlessDataWarehouse) -> str:
    definitions = [table_definition(t).to_json() for t in warehouse.tables]
    return hashlib.sha256(json.dumps(definitions, sort_keys=True).encode()).hexdigest()[:16]


def infrastructure_asset(warehouse: ServerlessDataWarehouse) -> dg.AssetsDefinition:
    @dg.asset(
        key=infrastructure_key(warehouse),
        code_version=_declaration_version(warehouse),
        automation_condition=_ON_MISSING_OR_CHANGED,
        kinds={"glue", "s3", "kinesis", "firehose", "athena"},
        group_name=warehouse.name,
        owners=owners(warehouse),
        tags={"warehouse": warehouse.name, "role": "infrastructure"},
        description="The database (on AWS named after the stack) and its table definitions, derived from "
        "the declaration. On AWS, the rest of the stack comes from `dw provision apply`; its outputs are "
        "attached here.",
    )
    def infrastructure(
        warehouse_resource: WarehouseResource, provisioning: ProvisioningResource
    ) -> dg.MaterializeResult:
        runtime = warehouse_resource.runtime(warehouse)
        sync = sync_catalog(runtime)
        metadata: dict[str, object] = {
            "database": runtime.database,
            "tables": dg.MetadataValue.json(list(warehouse.table_names)),
            "tables_changed": len(sync.tables_changed),
        }
        if warehouse_resource.profile == "aws":
            metadata["stack_outputs"] = dg.MetadataValue.json(provisioning.outputs(warehouse))
        return dg.MaterializeResult(metadata=metadata)

    return infrastructure


def static_table_asset(
    warehouse: ServerlessDataWarehouse, spec: TableSpec, upstream: dg.AssetKey
) -> dg.AssetsDefinition:
    version = hashlib.sha256(spec.seed().read_bytes()).hexdigest()[:16]

    @dg.asset(
        key=table_asset_key(warehouse, spec.name),
        code_version=version,
        deps=[upstream],
        automation_condition=_ON_MISSING_OR_CHANGED,
        kinds={spec.data_format.lower()},
        group_name=warehouse.name,
        metadata=table_metadata(spec),
        owners=owners(warehouse),
        tags=asset_tags(warehouse, spec, "static"),
        description=f"Static table `{spec.name}` loaded from `{spec.seed_file.name}` "
        "(`rows`: its rows, `bytes`: its size).",
    )
    def static_table(warehouse_resource: WarehouseResource) -> dg.MaterializeResult:
        runtime = warehouse_resource.runtime(warehouse)
        sync_catalog(runtime)
        load = load_seed(runtime, spec)
        return dg.MaterializeResult(
            metadata={
                "key": load.key,
                "rows": load.rows,
                ROW_COUNT: load.rows,
                "bytes": load.bytes,
                "rewritten": load.changed,
            }
        )

    return static_table
