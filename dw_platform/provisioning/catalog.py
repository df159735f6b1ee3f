"""The Glue database and tables, through the same GlueCatalog the assets use."""

import contextlib
from typing import Any

from dw_platform.aws.glue_catalog import GlueCatalog
from dw_platform.catalog import table_definition
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.resource import AwsClients, Observed, Resource
from dw_platform.spec import TableSpec


def _catalog(names: StackNames, clients: AwsClients) -> GlueCatalog:
    return GlueCatalog(names.data_bucket, names.region, client=clients.client("glue"))


class GlueDatabase(Resource):
    kind = "glue database"

    def desired(self) -> dict[str, Any]:
        return {}

    def read(self) -> Observed | None:
        glue = self.client("glue")
        try:
            database = glue.get_database(Name=self.name)["Database"]
        except glue.exceptions.EntityNotFoundException:
            return None
        return Observed({}, owned=self.names.created_by_stack(database.get("Parameters", {})))

    def create(self) -> None:
        self.client("glue").create_database(
            DatabaseInput={
                "Name": self.name,
                "Description": f"Tables of the {self.name} warehouse, managed by dw_platform.",
                "Parameters": self.names.tags,
            }
        )

    def update(self, fields: list[str]) -> None:
        pass  # nothing but existence is managed

    def delete(self) -> None:
        self.client("glue").delete_database(Name=self.name)  # and its tables and partitions


class GlueTable(Resource):
    """A declared table. Ownership follows the database: a declared table belongs to the stack."""

    kind = "glue table"

    def __init__(self, names: StackNames, clients: AwsClients, spec: TableSpec) -> None:
        super().__init__(names, clients, spec.name)
        self.spec = spec
        self.catalog = _catalog(names, clients)

    def desired(self) -> dict[str, Any]:
        return {"definition": table_definition(self.spec).to_json()}

    def read(self) -> Observed | None:
        current = self.catalog.get_table(self.names.database, self.name)
        return None if current is None else Observed({"definition": current.to_json()}, owned=True)

    def create(self) -> None:
        self.catalog.upsert_table(self.names.database, table_definition(self.spec))

    def update(self, fields: list[str]) -> None:
        # Updates existing partitions' columns too (see GlueCatalog.upsert_table).
        self.catalog.upsert_table(self.names.database, table_definition(self.spec))

    def delete(self) -> None:
        glue = self.client("glue")
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):  # gone with its database
            glue.delete_table(DatabaseName=self.names.database, Name=self.name)
