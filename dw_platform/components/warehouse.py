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
from typing import Any

import dagster as dg
from pydantic import Field

from dw_platform.components.yaml_declaration import parse_declaration
from dw_platform.declaration.defs_folder import declared_in, module_beside, split_reference
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
    # Or the declaration in YAML: the fluent API's fields (yaml_declaration.py derives them and
    # validates them, so that a mistake is one line naming defs.yaml and the field).
    name: Any = Field(default=None, description="The warehouse's name (its Glue database).")
    is_dev: Any = Field(default=None, description="Development defaults (unset: DW_IS_DEV).")
    query_cutoff_gib: Any = Field(default=None, description="Athena's per-query cutoff (GiB).")
    query_budget_hours: Any = Field(default=None, description="The guard rail's hours per scan.")
    query_budget_gib: Any = Field(default=None, description="The guard rail's GiB per query.")
    owners: Any = Field(default=None, description="E-mail addresses or `team:<name>`.")
    streaming_tables: Any = Field(default=None, description="`with_streaming_input_table`'s arguments.")
    tables: Any = Field(default=None, description="`with_table`'s arguments.")
    batch_tables: Any = Field(default=None, description="`with_batch_input_table`'s arguments.")

    def yaml_declaration(self) -> dict[str, Any]:
        """The YAML declaration's fields given (None: not given)."""
        fields = type(self).model_fields
        return {
            key: getattr(self, key)
            for key in fields
            if key != "declaration" and getattr(self, key) is not None
        }

    def load_warehouse(self, context: dg.ComponentLoadContext) -> ServerlessDataWarehouse:
        declared_in_yaml, file = self.yaml_declaration(), context.path / "defs.yaml"
        if (self.declaration is None) == (not declared_in_yaml):
            raise DeclarationError(
                f"{file}: a warehouse component takes either `declaration: module:attribute` or a "
                "YAML declaration (`name:` and its tables), exactly one of them"
            )
        if self.declaration is None:
            return parse_declaration(declared_in_yaml, file)
        # The same resolution `dw` does without Dagster (declaration/defs_folder.py).
        try:
            module_name, _ = split_reference(self.declaration)
        except DeclarationError as error:
            raise DeclarationError(f"{file}: {error}") from None
        beside = module_beside(context.path, module_name)
        if beside is not None:
            module = context.load_defs_relative_python_module(beside)
        else:
            module = importlib.import_module(module_name)
        return declared_in(module, self.declaration)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from dw_platform.orchestration.build import build_definitions

        # Reads the settings, writes nothing: the partitions start where the configuration says.
        return build_definitions(self.load_warehouse(context), Settings.from_env())
