"""The same Dagster assets on DW_PROFILE=aws against moto's server: S3 lake, Glue catalog, DuckDB
reading S3 through pyarrow. Delivery writes objects with the same code as the local profile."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import dagster as dg
import pytest

from dw_platform.catalog.glue import GlueCatalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import inserted_at
from dw_platform.lake.layout import hour_root, lake_root
from dw_platform.lake.stats import hour_stats
from dw_platform.orchestration.backfill import run_backfill
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION

BUCKET = "acme-analytics-dw-data"
HOURS = [datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(hours=i) for i in range(3)]


@pytest.fixture
def aws_settings(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DW_PROFILE", "aws")
    monkeypatch.setenv("DW_DATA_BUCKET", BUCKET)
    monkeypatch.setenv("DW_QUERY_ENGINE", "duckdb")  # Athena cannot run here
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return Settings.from_env()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield instance


def snapshot(runtime: Runtime) -> dict[str, object]:
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)["Contents"]
    return {
        "objects": sorted((o["Key"], o["ETag"]) for o in listed),
        "partitions": {
            t: runtime.catalog.get_partitions("analytics_dw", t) for t in analytics_dw.table_names
        },
    }


def test_backfill_on_the_aws_profile_gives_exact_counts(
    aws_settings: Settings, instance: dg.DagsterInstance
) -> None:
    runtime = Runtime.from_settings(analytics_dw, aws_settings)
    root = lake_root("analytics_dw")  # the stack's own prefix of the bucket
    assert isinstance(runtime.catalog, GlueCatalog) and runtime.lake.uri("k") == f"s3://{BUCKET}/{root}k"
    expected = {}
    for index, hour in enumerate(HOURS):
        for table in ("impressions", "clicks"):
            records, _ = sample_events(150 + 10 * index, hour, malformed_ratio=0.04, seed=index)
            summary = deliver(runtime, table, records, arrival=hour + timedelta(minutes=7), batches=3)
            expected[(table, inserted_at(hour))] = (summary.delivered, summary.errors)

    defs = build_definitions(analytics_dw, aws_settings)
    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[-1]).success

    aggregates = runtime.engine.query(
        "SELECT event_type, time, count FROM analytics_dw.aggregates "
        "WHERE inserted_at BETWEEN '2026/03/01/10' AND '2026/03/01/12'"
    ).table.to_pylist()
    assert {(r["event_type"], r["time"]): r["count"] for r in aggregates} == {
        k: v[0] for k, v in expected.items()
    }
    for table in ("impressions", "clicks"):
        raw = runtime.engine.query(
            f"SELECT inserted_at, count(*) AS n FROM {table} "
            "WHERE inserted_at BETWEEN '2026/03/01/10' AND '2026/03/01/12' GROUP BY 1"
        ).table.to_pylist()
        assert {r["inserted_at"]: r["n"] for r in raw} == {
            h: v[0] for (t, h), v in expected.items() if t == table
        }
        for hour in HOURS:
            assert (
                hour_stats(runtime.lake, table, inserted_at(hour)).error_records
                == expected[(table, inserted_at(hour))][1]
            )
    glue = boto3.client("glue", region_name=REGION)
    partition = glue.get_partition(
        DatabaseName="analytics_dw", TableName="clicks", PartitionValues=["2026/03/01/11"]
    )
    assert partition["Partition"]["StorageDescriptor"]["Location"].startswith(
        f"s3://{BUCKET}/{root}{hour_root('clicks', '2026/03/01/11')}v00001-"
    )

    before = snapshot(runtime)
    assert run_backfill(defs, analytics_dw, instance, HOURS[0], HOURS[-1]).success
    assert snapshot(runtime) == before


def test_infrastructure_asset_carries_the_stack_outputs(
    aws_settings: Settings, instance: dg.DagsterInstance
) -> None:
    defs = build_definitions(analytics_dw, aws_settings)
    key = dg.AssetKey(["infrastructure", "analytics_dw"])
    result = dg.materialize(
        [defs.get_assets_def(key)],
        instance=instance,
        resources={
            "warehouse_resource": defs.resources["warehouse_resource"],
            "provisioning": defs.resources["provisioning"],
        },
    )
    assert result.success
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    outputs = event.asset_materialization.metadata["stack_outputs"].data
    assert outputs["data_bucket"] == BUCKET and outputs["workgroup"] == "analytics_dw"
    assert outputs["streams"]["impressions"]["kinesis_stream"] == "analytics_dw-impressions"
    assert "secret" not in json.dumps(outputs).lower() and "testing" not in json.dumps(outputs)
