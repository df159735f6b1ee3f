"""`dw catalog rebuild` on the AWS profile: Glue's partitions rebuilt from the S3 lake, on moto's
server in its own process (issue 17, finding 2)."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from dw_platform.catalog import Partition
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.layout import hour_folder, hour_root, lake_root
from dw_platform.operations.compaction.compact import compact_hour
from dw_platform.operations.registration import add_partitions, register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION

BUCKET = "rebuild-dw-data"
HOURS = {"2026/03/01/10": 300, "2026/03/01/11": 120}
T = datetime.now(UTC)
LATER = T + timedelta(hours=2)


@pytest.fixture
def aws_settings(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.setenv("DW_PROFILE", "aws")
    monkeypatch.setenv("DW_DATA_BUCKET", BUCKET)
    monkeypatch.setenv("DW_QUERY_ENGINE", "duckdb")  # Athena cannot run here
    monkeypatch.setenv("DW_HOME", str(tmp_path / "dw"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return Settings.from_env()


def dw(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *args],
        env=os.environ,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_glue_partitions_are_rebuilt_from_the_lake_with_exact_counts(aws_settings: Settings) -> None:
    runtime = Runtime.from_settings(analytics_dw, aws_settings)
    arrival = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    for number, count in enumerate(HOURS.values()):
        records, _ = sample_events(count, arrival + timedelta(hours=number), seed=number)
        deliver(runtime, "clicks", records, arrival=arrival + timedelta(hours=number), batches=3)
    register_hours(runtime, "clicks", list(HOURS), with_stats=False)
    compact_hour(runtime, "clicks", "2026/03/01/10", now=T)
    compact_hour(runtime, "clicks", "2026/03/01/10", now=LATER)  # its raw objects are gone
    assert runtime.lake.list_objects(hour_folder("clicks", "2026/03/01/10")) == []
    late, _ = sample_events(15, arrival, seed=9)
    deliver(runtime, "clicks", late, arrival=arrival + timedelta(minutes=50))

    boto3.client("glue", region_name=REGION).delete_database(Name="analytics_dw")  # the catalog is lost
    report = json.loads(dw("catalog", "rebuild", "--json"))
    sources = {h["hour"]: h["source"] for h in report["hours"] if h["table"] == "clicks"}
    assert sources == {"2026/03/01/10": "version", "2026/03/01/11": "raw"}
    partitions = boto3.client("glue", region_name=REGION).get_partitions(
        DatabaseName="analytics_dw", TableName="clicks"
    )["Partitions"]
    locations = {p["Values"][0]: p["StorageDescriptor"]["Location"] for p in partitions}
    lake = f"s3://{BUCKET}/{lake_root('analytics_dw')}"  # the stack's own prefix of the bucket
    assert locations["2026/03/01/10"].startswith(f"{lake}{hour_root('clicks', '2026/03/01/10')}v00002-")
    assert locations["2026/03/01/11"] == f"{lake}{hour_folder('clicks', '2026/03/01/11')}"
    rows = json.loads(
        dw(
            "query",
            "SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at IN ('2026/03/01/10', "
            "'2026/03/01/11') GROUP BY inserted_at ORDER BY inserted_at",
            "--format",
            "json",
        )
    )
    assert {r["inserted_at"]: r["n"] for r in rows} == {"2026/03/01/10": 315, "2026/03/01/11": 120}

    # An hour with nothing in the lake, registered ahead but on hour 11's folder: read through both
    # partitions, hour 11's objects count once per partition; the rebuild gives hour 12 its own folder.
    add_partitions(runtime, "clicks", [Partition(("2026/03/01/12",), hour_folder("clicks", "2026/03/01/11"))])
    assert clicks_per_hour() == {"2026/03/01/11": 120, "2026/03/01/12": 120}
    report = json.loads(dw("catalog", "rebuild", "--json"))
    [empty] = [h for h in report["hours"] if h["table"] == "clicks" and h["hour"] == "2026/03/01/12"]
    assert (empty["source"], empty["action"]) == ("empty", "switched")
    [glued] = boto3.client("glue", region_name=REGION).get_partitions(
        DatabaseName="analytics_dw", TableName="clicks", Expression="inserted_at = '2026/03/01/12'"
    )["Partitions"]
    own_folder = lake_root("analytics_dw") + hour_folder("clicks", "2026/03/01/12")
    assert glued["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/{own_folder}"
    assert clicks_per_hour() == {"2026/03/01/11": 120}


def clicks_per_hour() -> dict[str, int]:
    rows = json.loads(
        dw(
            "query",
            "SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at IN ('2026/03/01/11', "
            "'2026/03/01/12') GROUP BY inserted_at ORDER BY inserted_at",
            "--format",
            "json",
        )
    )
    return {r["inserted_at"]: r["n"] for r in rows}
