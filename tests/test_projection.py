"""Partition projection, opted into per table: Glue table parameters, no registration, no
compaction, and the local engine reading the hour folders as Athena would project them."""

import dataclasses
from datetime import UTC, datetime, timedelta

import boto3

from dw_platform.catalog import table_definition
from dw_platform.catalog.glue import GlueCatalog
from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.warehouse import EVENT_COLUMNS
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.operations.registration import register_hours
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION

projected_dw = (
    ServerlessDataWarehouse("projected_dw", is_dev=True)
    .with_streaming_input_table("clicks", EVENT_COLUMNS, partition_projection_from="2026/03/01/00")
    .with_streaming_input_table("impressions", EVENT_COLUMNS)
)
HOURS = [datetime(2026, 2, 28, 23, tzinfo=UTC) + timedelta(hours=i) for i in range(3)]  # one before the start


def test_projected_hours_are_queryable_without_registration(settings: Settings) -> None:
    runtime = Runtime.from_settings(projected_dw, settings)
    sync_catalog(runtime)
    for index, hour in enumerate(HOURS):
        records, _ = sample_events(100 + index, hour, seed=index)
        deliver(runtime, "clicks", records, arrival=hour + timedelta(minutes=5), batches=2)
    report = register_hours(runtime, "clicks", ["2026/03/01/00", "2026/03/01/01"])
    assert report.created == 0 and [s.rows for s in report.hours] == [101, 102]
    assert runtime.catalog.get_partitions("projected_dw", "clicks") == []

    def count(where: str) -> list[tuple[str, int]]:
        rows = runtime.engine.query(  # an open range lists the table's folders
            f"SELECT inserted_at, count(*) AS n FROM clicks {where} GROUP BY 1 ORDER BY 1",
            allow_full_scan=True,
        )
        return [(r["inserted_at"], r["n"]) for r in rows.table.to_pylist()]

    assert count("WHERE inserted_at = '2026/03/01/01'") == [("2026/03/01/01", 102)]
    assert count("WHERE inserted_at IN ('2026/03/01/00', '2026/02/28/23')") == [("2026/03/01/00", 101)]
    assert count("WHERE inserted_at >= '2026/02/28/00'") == [("2026/03/01/00", 101), ("2026/03/01/01", 102)]


def test_projected_tables_get_no_compaction(settings: Settings) -> None:
    defs = build_definitions(projected_dw, settings)
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert "projected_dw/impressions_compacted" in keys
    assert "projected_dw/clicks_compacted" not in keys
    assert "projected_dw/clicks" in keys
    assert "projected_dw_late_objects_sensor" in {sensor.name for sensor in defs.sensors or []}


def test_glue_table_carries_the_projection_parameters(aws_endpoint: str) -> None:
    catalog = GlueCatalog("projected-dw-data", REGION)
    catalog.ensure_database("projected_dw")
    definition = table_definition(projected_dw.table("clicks"))
    assert catalog.upsert_table("projected_dw", definition)
    parameters = boto3.client("glue", region_name=REGION).get_table(
        DatabaseName="projected_dw", Name="clicks"
    )["Table"]["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.inserted_at.type"] == "date"
    assert parameters["projection.inserted_at.format"] == "yyyy/MM/dd/HH"
    assert parameters["projection.inserted_at.range"] == "2026/03/01/00,NOW"
    assert parameters["projection.inserted_at.interval.unit"] == "HOURS"
    assert parameters["storage.location.template"] == "s3://projected-dw-data/clicks/${inserted_at}/"
    assert catalog.get_table("projected_dw", "clicks") == definition
    assert not catalog.upsert_table("projected_dw", definition), "unchanged on a second sync"
    plain = dataclasses.replace(definition, projection_start=None)
    assert catalog.upsert_table("projected_dw", plain), "opting out is a change"
