"""The Glue Data Catalog behind the same `Catalog` interface as the local catalog.

Tables are `EXTERNAL_TABLE`s with the storage descriptors Athena needs (Parquet: Mapred Parquet
formats and ParquetHiveSerDe; JSON: text formats and the OpenX JSON SerDe). Partitions are created
with BatchCreatePartition in chunks of 100 (per-partition `AlreadyExistsException`s come back in
`Errors` and mean "already registered"), read with paged GetPartitions or BatchGetPartition.
Locations are kept as lake keys by the platform (relative to the deployment's root in the lake)
and mapped to `s3://<bucket>/<root><key>` here.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dw_platform.aws.clients import aws_client
from dw_platform.catalog.model import Partition, TableDefinition, TableNotFoundError
from dw_platform.errors import DwError
from dw_platform.lake.layout import hour_folder_at

CREATE_CHUNK = 100  # BatchCreatePartition's limit
UPDATE_CHUNK = 100  # BatchUpdatePartition's limit
UPSERT_ATTEMPTS = 3
GET_CHUNK = 1000  # BatchGetPartition's limit

STORAGE = {
    "PARQUET": {
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {
            "Name": "ParquetHiveSerDe",
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    },
    "JSON": {
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {
            "Name": "JsonSerDe",
            "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
            "Parameters": {"serialization.format": "1"},
        },
    },
}


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class GlueTableRaceError(DwError):
    """A table kept changing under `upsert_table` (another writer creating or deleting it)."""


class GlueRefusedError(DwError):
    """Glue refused part of a batch call; the message names the first refused partition."""


class GlueCatalog:
    def __init__(self, bucket: str, region: str, client: Any | None = None, *, root: str = "") -> None:
        self.bucket = bucket
        self.root = root  # the deployment's `lake_root`: lake keys are relative to it
        self.glue = client or aws_client("glue", region)

    # ---- locations --------------------------------------------------------------------------------
    def _uri(self, location: str) -> str:
        return f"s3://{self.bucket}/{self.root}{location}"

    def _key(self, uri: str) -> str:
        prefix = f"s3://{self.bucket}/{self.root}"
        return uri[len(prefix) :] if uri.startswith(prefix) else uri

    def storage_descriptor(self, table: TableDefinition, location: str) -> dict[str, Any]:
        storage = STORAGE[table.data_format]
        serde = storage["SerdeInfo"]
        mapping = {f"mapping.{column}": key for column, key in table.json_keys}
        return {
            "Columns": [{"Name": name, "Type": type_} for name, type_ in table.columns],
            "Location": self._uri(location),
            **storage,
            "SerdeInfo": {**serde, "Parameters": {**serde["Parameters"], **mapping}},
        }

    def projection_parameters(self, table: TableDefinition) -> dict[str, str]:
        """Athena's partition projection over Firehose's `YYYY/MM/DD/HH` folders."""
        if table.projection_start is None:
            return {}
        key = table.partition_keys[0][0]
        return {
            "projection.enabled": "true",
            f"projection.{key}.type": "date",
            f"projection.{key}.format": "yyyy/MM/dd/HH",
            f"projection.{key}.range": f"{table.projection_start},NOW",
            f"projection.{key}.interval": "1",
            f"projection.{key}.interval.unit": "HOURS",
            "storage.location.template": self._uri(hour_folder_at(table.location, f"${{{key}}}")),
        }

    def table_input(self, table: TableDefinition) -> dict[str, Any]:
        return {
            "Name": table.name,
            "TableType": "EXTERNAL_TABLE",  # without it MSCK REPAIR and SHOW CREATE TABLE fail
            "Parameters": {
                "EXTERNAL": "TRUE",
                "classification": table.data_format.lower(),
                **self.projection_parameters(table),
            },
            "PartitionKeys": [{"Name": name, "Type": type_} for name, type_ in table.partition_keys],
            "StorageDescriptor": self.storage_descriptor(table, table.location),
        }

    # ---- databases and tables -----------------------------------------------------------------
    def ensure_database(self, database: str) -> bool:
        try:
            self.glue.get_database(Name=database)
            return False
        except self.glue.exceptions.EntityNotFoundException:
            pass
        try:
            self.glue.create_database(DatabaseInput={"Name": database})
        except self.glue.exceptions.AlreadyExistsException:
            return False
        return True

    def upsert_table(self, database: str, table: TableDefinition) -> bool:
        """Create the table, or bring it to `table`; True if it may have changed. A table created or
        deleted by someone else between the calls is looked at again (UPSERT_ATTEMPTS in all): the
        answer is never "done" while no table holds this definition."""
        wrote = False
        for _ in range(UPSERT_ATTEMPTS):
            current = self.get_table(database, table.name)
            if current == table:
                return wrote  # created meanwhile, or by a call of ours whose reply was lost
            try:
                if current is None:
                    self.glue.create_table(DatabaseName=database, TableInput=self.table_input(table))
                    return True
                self.glue.update_table(DatabaseName=database, TableInput=self.table_input(table))
            except (
                self.glue.exceptions.AlreadyExistsException,
                self.glue.exceptions.EntityNotFoundException,
            ):
                wrote = True  # created (perhaps by our own retried call) or deleted meanwhile: again
                continue
            if current.columns != table.columns:
                self._update_partition_columns(database, table)
            return True
        raise GlueTableRaceError(
            f"the Glue table {database}.{table.name} kept being created or deleted by someone else while "
            f"it was brought to its declaration ({UPSERT_ATTEMPTS} attempts); is another `dw provision` "
            "or sync running? Run this again once it has ended"
        )

    def _update_partition_columns(self, database: str, table: TableDefinition) -> int:
        """Existing partitions keep the columns they were created with, and Athena then fails with
        HIVE_PARTITION_SCHEMA_MISMATCH: give every partition the table's columns, keeping its
        location. Returns how many partitions were updated."""
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table.name
        )
        stale = [
            p
            for page in pages
            for p in page["Partitions"]
            if [(c["Name"], c["Type"]) for c in p["StorageDescriptor"].get("Columns", [])]
            != list(table.columns)
        ]
        for chunk in _chunks(stale, UPDATE_CHUNK):
            response = self.glue.batch_update_partition(
                DatabaseName=database,
                TableName=table.name,
                Entries=[
                    {
                        "PartitionValueList": p["Values"],
                        "PartitionInput": {
                            "Values": p["Values"],
                            "StorageDescriptor": self.storage_descriptor(
                                table, self._key(p["StorageDescriptor"]["Location"])
                            ),
                        },
                    }
                    for p in chunk
                ],
            )
            if errors := response.get("Errors"):
                first = errors[0]
                raise GlueRefusedError(
                    f"Glue refused to update {len(errors)} partitions of {database}.{table.name}, "
                    f"e.g. {first['PartitionValueList']}: {first['ErrorDetail'].get('ErrorMessage', '')}"
                )
        return len(stale)

    def _definition(self, data: dict[str, Any]) -> TableDefinition:
        descriptor = data["StorageDescriptor"]
        library = descriptor.get("SerdeInfo", {}).get("SerializationLibrary", "")
        parameters = data.get("Parameters", {})
        columns = tuple((c["Name"], c["Type"]) for c in descriptor.get("Columns", []))
        mapping = descriptor.get("SerdeInfo", {}).get("Parameters", {})
        json_keys = tuple((c, mapping[f"mapping.{c}"]) for c, _ in columns if f"mapping.{c}" in mapping)
        keys = data.get("PartitionKeys", [])
        projection_range = parameters.get(f"projection.{keys[0]['Name']}.range", "") if keys else ""
        projected = parameters.get("projection.enabled") == "true" and projection_range.endswith(",NOW")
        return TableDefinition(
            name=data["Name"],
            columns=columns,
            partition_keys=tuple((k["Name"], k["Type"]) for k in data.get("PartitionKeys", [])),
            data_format="JSON" if "json" in library.lower() else "PARQUET",
            location=self._key(descriptor.get("Location", "")),
            projection_start=projection_range.removesuffix(",NOW") if projected else None,
            json_keys=json_keys,
        )

    def get_table(self, database: str, name: str) -> TableDefinition | None:
        try:
            return self._definition(self.glue.get_table(DatabaseName=database, Name=name)["Table"])
        except self.glue.exceptions.EntityNotFoundException:
            return None

    def list_tables(self, database: str) -> list[TableDefinition]:
        pages = self.glue.get_paginator("get_tables").paginate(DatabaseName=database)
        tables = [self._definition(t) for page in pages for t in page["TableList"]]
        return sorted(tables, key=lambda t: t.name)

    # ---- partitions -----------------------------------------------------------------------------
    def register_partitions(
        self, database: str, table: TableDefinition, partitions: Iterable[Partition]
    ) -> int:
        wanted = list(partitions)
        created = 0
        for chunk in _chunks(wanted, CREATE_CHUNK):
            try:
                response = self.glue.batch_create_partition(
                    DatabaseName=database,
                    TableName=table.name,
                    PartitionInputList=[
                        {
                            "Values": list(p.values),
                            "StorageDescriptor": self.storage_descriptor(table, p.location),
                        }
                        for p in chunk
                    ],
                )
            except self.glue.exceptions.EntityNotFoundException as error:
                raise TableNotFoundError(f"table {database}.{table.name} is not in the catalog") from error
            failures = [
                e
                for e in response.get("Errors", [])
                if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"
            ]
            if failures:
                first = failures[0]
                raise GlueRefusedError(
                    f"Glue refused {len(failures)} partitions of {database}.{table.name}, e.g. "
                    f"{first['PartitionValues']}: {first['ErrorDetail']['ErrorCode']} "
                    f"{first['ErrorDetail'].get('ErrorMessage', '')}"
                )
            created += len(chunk) - len(response.get("Errors", []))
        return created

    def _partition(self, data: dict[str, Any]) -> Partition:
        return Partition(tuple(data["Values"]), self._key(data["StorageDescriptor"]["Location"]))

    def get_partitions(
        self, database: str, table: str, values: Sequence[tuple[str, ...]] | None = None
    ) -> list[Partition]:
        try:
            found = self._get_partitions(database, table, values)
        except self.glue.exceptions.EntityNotFoundException:
            return []  # as the local catalog: an unknown table has no partitions
        return sorted(found, key=lambda p: p.values)

    def _get_partitions(
        self, database: str, table: str, values: Sequence[tuple[str, ...]] | None
    ) -> list[Partition]:
        if values is None:
            pages = self.glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
            return [self._partition(p) for page in pages for p in page["Partitions"]]
        found: list[Partition] = []
        for chunk in _chunks(list(values), GET_CHUNK):
            pending = [{"Values": list(v)} for v in chunk]
            while pending:
                response = self.glue.batch_get_partition(
                    DatabaseName=database, TableName=table, PartitionsToGet=pending
                )
                found += [self._partition(p) for p in response.get("Partitions", [])]
                pending = response.get("UnprocessedKeys", [])
        return found

    def switch_partition_location(
        self, database: str, table: str, values: tuple[str, ...], new_location: str, expected_location: str
    ) -> bool:
        """UpdatePartition after checking the current location. Glue has no conditional update, so
        the check and the write are two calls: concurrent compactions of one table are kept apart by
        their Dagster pool, and the check catches a compaction that finished in between."""
        try:
            current = self.glue.get_partition(
                DatabaseName=database, TableName=table, PartitionValues=list(values)
            )
        except self.glue.exceptions.EntityNotFoundException:
            return False
        partition = current["Partition"]
        if self._key(partition["StorageDescriptor"]["Location"]) != expected_location:
            return False
        descriptor = {**partition["StorageDescriptor"], "Location": self._uri(new_location)}
        self.glue.update_partition(
            DatabaseName=database,
            TableName=table,
            PartitionValueList=list(values),
            PartitionInput={"Values": list(values), "StorageDescriptor": descriptor},
        )
        return True
