"""The Glue database and tables, through the same GlueCatalog the assets use. Tables belong to
their database: a table in another stack's database is that stack's."""

import contextlib
from typing import Any

from dw_platform.catalog import TableDefinition, table_definition
from dw_platform.catalog.glue import GlueCatalog
from dw_platform.catalog.schema_change import SchemaChange, UnsafeSchemaChange, check_schema_change
from dw_platform.declaration.warehouse import TableSpec
from dw_platform.provisioning.managed_resource import AwsClients, Observed, ProvisioningError, Resource
from dw_platform.provisioning.naming import StackNames


def _catalog(names: StackNames, clients: AwsClients) -> GlueCatalog:
    return GlueCatalog(names.data_bucket, names.region, client=clients.client("glue"), root=names.lake_root)


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
        return Observed({}, owner=self.names.owner(database.get("Parameters", {})))

    def create(self) -> None:
        self.client("glue").create_database(
            DatabaseInput={
                "Name": self.name,
                "Description": f"Tables of stack {self.name} of the {self.names.warehouse.name} warehouse, "
                "managed by dw_platform.",
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
        return {"definition": table_definition(self.spec).to_json(), "bucket": self.names.data_bucket}

    def _database_owner(self) -> str | None:
        glue = self.client("glue")
        try:
            database = glue.get_database(Name=self.names.database)["Database"]
        except glue.exceptions.EntityNotFoundException:
            return None
        return self.names.owner(database.get("Parameters", {}))

    def read(self) -> Observed | None:
        glue = self.client("glue")
        owner = self._database_owner()
        try:
            raw = glue.get_table(DatabaseName=self.names.database, Name=self.name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            # A missing table is created, but never inside another stack's database.
            return None if owner in (None, self.names.stack) else Observed({}, owner=owner)
        current = self.catalog.get_table(self.names.database, self.name)
        if current is None:  # deleted between the two reads
            return None
        location = raw.get("StorageDescriptor", {}).get("Location", "")
        bucket = location.removeprefix("s3://").split("/", 1)[0] if location.startswith("s3://") else None
        if bucket == self.names.data_bucket:
            self._refuse_objects_outside_the_root(location.removeprefix(f"s3://{bucket}/"))
        return Observed({"definition": current.to_json(), "bucket": bucket}, owner=owner)

    def _refuse_objects_outside_the_root(self, key: str) -> None:
        """A table provisioned before each stack had its root in the bucket: re-pointing it (and
        Firehose) at the root while objects still lie at its old location would leave them out."""
        if key.startswith(self.names.lake_root):
            return
        listed = self.client("s3").list_objects_v2(Bucket=self.names.data_bucket, Prefix=key, MaxKeys=1)
        if listed.get("KeyCount"):
            bucket, root = self.names.data_bucket, self.names.lake_root
            raise ProvisioningError(
                f"glue table {self.name} reads s3://{bucket}/{key}, outside the stack's root {root} of "
                "the bucket (a stack from before roots), and objects are still there; with delivery "
                f"paused, move the stack's objects under it (aws s3 mv s3://{bucket}/ s3://{bucket}/{root} "
                f'--recursive --exclude "{root}*"), then apply again and run `dw catalog rebuild`; '
                "nothing was changed"
            )

    def schema_change(self, observed: Observed | None) -> SchemaChange | None:
        """The column changes the declaration asks of the existing table; an unsafe one (a column
        removed or renamed, a type narrowed, another partition key) is a ProvisioningError."""
        if observed is None or "definition" not in observed.config:
            return None
        current = TableDefinition.from_json(observed.config["definition"])
        try:
            return check_schema_change(current, table_definition(self.spec))
        except UnsafeSchemaChange as error:
            raise ProvisioningError(f"{error}; nothing was changed") from None

    def create(self) -> None:
        self.catalog.upsert_table(self.names.database, table_definition(self.spec))

    def update(self, fields: list[str]) -> None:
        # Updates existing partitions' columns too (see GlueCatalog.upsert_table).
        self.catalog.upsert_table(self.names.database, table_definition(self.spec))

    def delete(self) -> None:
        glue = self.client("glue")
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):  # gone with its database
            glue.delete_table(DatabaseName=self.names.database, Name=self.name)
