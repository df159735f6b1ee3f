"""`WarehouseComponent`: one warehouse declaration turned into its Dagster definitions (assets,
checks, schedules, sensors, resources) under the deployment's settings.

An instance is a folder of the defs folder with a `defs.yaml`:

    type: dw_platform.components.WarehouseComponent
    attributes:
      declaration: warehouse:analytics_dw   # module beside defs.yaml : the ServerlessDataWarehouse

`dg scaffold defs dw_platform.components.WarehouseComponent <name>` makes a new one, with a
declaration module to fill in.
"""

import importlib

import dagster as dg
from pydantic import Field

from dw_platform.components.yaml_declaration import (
    BatchTableModel,
    StreamingTableModel,
    TableModel,
    declared_warehouse,
)
from dw_platform.declaration.warehouse import DeclarationError, ServerlessDataWarehouse
from dw_platform.runtime.settings import Settings

SCAFFOLDED_DECLARATION = '''"""The {name} warehouse, declared once; its Dagster definitions derive from it."""

from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse

EVENT_COLUMNS = (Column("id"), Column("session_id"), Column("event_time"))

{name} = ServerlessDataWarehouse("{name}").with_streaming_input_table("events", EVENT_COLUMNS)
'''


class WarehouseScaffolder(dg.Scaffolder):
    """Writes a defs.yaml and a declaration module with one streaming table to start from."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        name = request.target_path.name
        dg.scaffold_component(request, {"declaration": f"warehouse:{name}"})
        declaration = request.target_path / "warehouse.py"
        if not declaration.exists():
            declaration.write_text(SCAFFOLDED_DECLARATION.format(name=name))


@dg.scaffold_with(WarehouseScaffolder)
class WarehouseComponent(dg.Component, dg.Model, dg.Resolvable):
    """A serverless analytics warehouse (Kinesis, Firehose, S3, Glue, Athena; or the local default):
    hourly registration, compaction and batch tables, with their checks, schedules and sensors."""

    declaration: str | None = Field(
        default=None,
        description="Where the Python declaration is: `module:attribute`, the module either beside "
        "defs.yaml (`warehouse:analytics_dw`) or importable (`my_package.warehouse:sales_dw`).",
    )
    # Or the declaration in YAML (see yaml_declaration.py): a name and the tables.
    name: str | None = None
    is_dev: bool | None = None
    streaming_tables: list[StreamingTableModel] = []
    tables: list[TableModel] = []
    batch_tables: list[BatchTableModel] = []

    def load_warehouse(self, context: dg.ComponentLoadContext) -> ServerlessDataWarehouse:
        declared_in_yaml = self.name is not None or self.streaming_tables or self.tables or self.batch_tables
        if (self.declaration is None) == (not declared_in_yaml):
            raise DeclarationError(
                "a warehouse component takes either `declaration: module:attribute` or a YAML "
                "declaration (`name:` and its tables), exactly one of them"
            )
        if self.declaration is None:
            if self.name is None:
                raise DeclarationError("a YAML warehouse declaration needs a `name:`")
            return declared_warehouse(
                self.name, context.path, self.streaming_tables, self.tables, self.batch_tables, self.is_dev
            )
        module_name, _, attribute = self.declaration.partition(":")
        if not module_name or not attribute:
            raise DeclarationError(f"declaration must be `module:attribute`, got {self.declaration!r}")
        beside = context.path / f"{module_name.replace('.', '/')}.py"
        if beside.exists():
            module = context.load_defs_relative_python_module(beside)
        else:
            module = importlib.import_module(module_name)
        warehouse = getattr(module, attribute, None)
        if not isinstance(warehouse, ServerlessDataWarehouse):
            raise DeclarationError(
                f"{self.declaration}: expected a ServerlessDataWarehouse, found {type(warehouse).__name__}"
            )
        return warehouse

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from dw_platform.orchestration.build import build_definitions

        # Reads the settings, writes nothing: the partitions start where the configuration says.
        return build_definitions(self.load_warehouse(context), Settings.from_env())
