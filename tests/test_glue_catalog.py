"""The Glue catalog adapter against moto's server over HTTP: storage descriptors, batching, paging."""

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from dw_platform.catalog import Partition, table_definition
from dw_platform.catalog.glue import UPSERT_ATTEMPTS, GlueCatalog, GlueTableRaceError
from dw_platform.catalog.model import TableDefinition
from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import Column
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import inserted_at
from dw_platform.lake.s3 import s3_lake
from dw_platform.operations.compaction.compact import compact_hour
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from tests.aws_emulator import REGION

BUCKET = "analytics-dw-data"
DB = "analytics_dw"


@dataclasses.dataclass
class CountedGlue:
    catalog: GlueCatalog
    client: Any
    calls: Counter


@pytest.fixture
def glue(aws_endpoint: str) -> CountedGlue:
    client = boto3.client("glue", region_name=REGION)
    calls: Counter = Counter()
    client.meta.events.register(
        "before-parameter-build.glue",
        lambda model, params, **_: calls.update([(model.name, params.get("TableName"))]),
    )
    return CountedGlue(GlueCatalog(BUCKET, REGION, client), client, calls)


@pytest.fixture
def runtime(glue: CountedGlue) -> Runtime:
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return Runtime(analytics_dw, glue.catalog, s3_lake(BUCKET, REGION))


def test_tables_have_athena_storage_descriptors_and_sync_is_idempotent(
    runtime: Runtime, glue: CountedGlue
) -> None:
    sync = sync_catalog(runtime)
    assert sync.database_created and set(sync.tables_changed) == set(analytics_dw.table_names)
    assert sync_catalog(runtime).tables_changed == ()
    clicks = glue.client.get_table(DatabaseName=DB, Name="clicks")["Table"]
    assert clicks["TableType"] == "EXTERNAL_TABLE"
    descriptor = clicks["StorageDescriptor"]
    assert descriptor["Location"] == f"s3://{BUCKET}/clicks/"
    assert descriptor["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert descriptor["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    assert descriptor["SerdeInfo"]["Parameters"] == {"serialization.format": "1"}
    assert clicks["PartitionKeys"] == [{"Name": "inserted_at", "Type": "string"}]
    facts = glue.client.get_table(DatabaseName=DB, Name="facts")["Table"]["StorageDescriptor"]
    assert facts["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert facts["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert facts["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    assert runtime.catalog.get_table(DB, "aggregates") == table_definition(analytics_dw.table("aggregates"))

    # A declaration change (a new column) updates the table in place.
    changed = dataclasses.replace(
        analytics_dw.table("clicks"), columns=(*analytics_dw.table("clicks").columns, Column("ad_id"))
    )
    assert runtime.catalog.upsert_table(DB, table_definition(changed)) is True
    columns = glue.client.get_table(DatabaseName=DB, Name="clicks")["Table"]["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns] == ["id", "session_id", "event_time", "ad_id"]


def test_a_month_of_hours_registers_in_eight_catalog_calls(runtime: Runtime, glue: CountedGlue) -> None:
    sync_catalog(runtime)
    hours = [inserted_at(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=h)) for h in range(720)]
    glue.calls.clear()
    report = register_hours(runtime, "impressions", hours, with_stats=False)
    assert report.created == 720
    # 8 calls for the table, 8 for its errors table (the same hours under the error prefix), and one
    # lookup of which hours exist (a new partition starts at the hour's newest compacted version).
    eight_each = Counter(
        {
            ("BatchGetPartition", "impressions"): 1,
            ("BatchCreatePartition", "impressions"): 8,
            ("BatchCreatePartition", "impressions_errors"): 8,
        }
    )
    assert glue.calls == eight_each
    # Registering again is idempotent: existing hours are not sent again, AlreadyExistsException
    # entries of the errors table are tolerated.
    glue.calls.clear()
    assert register_hours(runtime, "impressions", hours, with_stats=False).created == 0
    assert glue.calls == eight_each - Counter({("BatchCreatePartition", "impressions"): 8})
    partitions = runtime.catalog.get_partitions(DB, "impressions")
    assert len(partitions) == 720
    assert partitions[0] == Partition(("2026/01/01/00",), "impressions/2026/01/01/00/")
    assert [
        p.values[0] for p in runtime.catalog.get_partitions(DB, "impressions", [(hours[5],), (hours[700],)])
    ] == [
        hours[5],
        hours[700],
    ]


def test_registration_creates_missing_catalog_entries(runtime: Runtime, glue: CountedGlue) -> None:
    assert register_hours(runtime, "clicks", ["2026/03/01/10"], with_stats=False).created == 1
    assert glue.client.get_partition(DatabaseName=DB, TableName="clicks", PartitionValues=["2026/03/01/10"])


def test_compaction_switches_the_glue_partition(runtime: Runtime, glue: CountedGlue) -> None:
    hour, arrival = "2026/03/01/10", datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    records, _ = sample_events(500, arrival, seed=1)
    deliver(runtime, "clicks", records, arrival=arrival, batches=5)
    register_hours(runtime, "clicks", [hour])
    report = compact_hour(runtime, "clicks", hour)
    assert (report.status, report.files_before, report.files_after, report.rows) == ("compacted", 5, 1, 500)
    location = glue.client.get_partition(DatabaseName=DB, TableName="clicks", PartitionValues=[hour])[
        "Partition"
    ]
    assert location["StorageDescriptor"]["Location"].startswith(
        f"s3://{BUCKET}/compacted/clicks/{hour}/v00001-"
    )
    assert location["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert (
        runtime.catalog.switch_partition_location(DB, "clicks", (hour,), "x/", expected_location="clicks/")
        is False
    )


@pytest.fixture
def contested(runtime: Runtime, glue: CountedGlue) -> tuple[TableDefinition, TableDefinition, Any]:
    """The `clicks` table as declared and as another writer would have it, and that writer's client
    (its own, untouched by the hooks a test puts on the catalog's); the table starts absent."""
    sync_catalog(runtime)
    other = boto3.client("glue", region_name=REGION)
    other.delete_table(DatabaseName=DB, Name="clicks")
    ours = table_definition(analytics_dw.table("clicks"))
    theirs = dataclasses.replace(ours, columns=ours.columns[:2])
    return ours, theirs, other


def _on(glue: CountedGlue, event: str, action: Any, times: int = 1) -> None:
    """Do `action` before (or after) the catalog's next `times` calls of an operation."""
    left = [times]

    def hook(**_: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            action()

    glue.client.meta.events.register(event, hook)


def _glue_table(other: Any) -> TableDefinition | None:
    return GlueCatalog(BUCKET, REGION, other).get_table(DB, "clicks")


def test_upsert_brings_a_table_created_meanwhile_to_its_declaration(
    glue: CountedGlue, contested: tuple[TableDefinition, TableDefinition, Any]
) -> None:
    ours, theirs, other = contested
    create = GlueCatalog(BUCKET, REGION, other).table_input(theirs)
    _on(glue, "before-call.glue.CreateTable", lambda: other.create_table(DatabaseName=DB, TableInput=create))
    assert glue.catalog.upsert_table(DB, ours)
    assert _glue_table(other) == ours


def test_upsert_creates_again_a_table_deleted_after_it_was_found_existing(
    glue: CountedGlue, contested: tuple[TableDefinition, TableDefinition, Any]
) -> None:
    """Created by another writer as ours was about to be, then deleted before ours looked again: it
    used to answer "done" with no table in Glue."""
    ours, theirs, other = contested
    create = GlueCatalog(BUCKET, REGION, other).table_input(theirs)
    _on(glue, "before-call.glue.CreateTable", lambda: other.create_table(DatabaseName=DB, TableInput=create))
    _on(glue, "after-call.glue.CreateTable", lambda: other.delete_table(DatabaseName=DB, Name="clicks"))
    assert glue.catalog.upsert_table(DB, ours)
    assert _glue_table(other) == ours


def test_upsert_gives_up_on_a_table_that_keeps_changing(
    glue: CountedGlue, contested: tuple[TableDefinition, TableDefinition, Any]
) -> None:
    ours, theirs, other = contested
    create = GlueCatalog(BUCKET, REGION, other).table_input(theirs)
    _on(
        glue,
        "before-call.glue.CreateTable",
        lambda: other.create_table(DatabaseName=DB, TableInput=create),
        9,
    )
    _on(glue, "before-call.glue.UpdateTable", lambda: other.delete_table(DatabaseName=DB, Name="clicks"), 9)
    glue.calls.clear()
    with pytest.raises(GlueTableRaceError, match="kept being created or deleted by someone else"):
        glue.catalog.upsert_table(DB, ours)
    writes = sum(n for (operation, _), n in glue.calls.items() if operation in ("CreateTable", "UpdateTable"))
    assert writes == UPSERT_ATTEMPTS, "one write per attempt, then it gives up"
