"""The AWS profile as a user drives it, in real `dw` processes against moto's server:
provision apply -> send (Kinesis) -> drain (Firehose's part) -> backfill -> query, exact counts."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from dw_platform.lake.layout import error_prefix, lake_root
from tests.aws_emulator import REGION
from tests.dw_process import dw_on_terminal, one_line_error
from tests.test_cli import dw, query_json
from tests.test_provisioning import allow_plain_http_on_emulator


@pytest.fixture
def aws_env(aws_endpoint: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DW_PROFILE": "aws",
        "DW_IS_DEV": "true",  # destroyable with data in its buckets
        "DW_QUERY_ENGINE": "duckdb",  # Athena cannot run on the emulator
        "DW_HOME": str(tmp_path / "dw"),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
    }


def test_provision_send_drain_backfill_query_on_the_emulator(aws_env: dict[str, str]) -> None:
    assert "19 to create" in dw(aws_env, "provision", "plan").stdout.decode()
    # apply shows the plan and asks, as `terraform apply` does: no terminal and no --yes is refused,
    # "no" at the question changes nothing; --yes applies.
    refused = dw(aws_env, "provision", "apply", check=False)
    assert "Plan: 19 to create" in refused.stdout.decode()
    assert "pass --yes to confirm" in one_line_error(refused, "provision")
    status, shown = dw_on_terminal(aws_env, "provision", "apply", answer=b"n\n")
    assert status == 1 and "Apply these changes" in shown and "Not confirmed; nothing changed." in shown
    assert "19 to create" in dw(aws_env, "provision", "plan").stdout.decode()
    dw(aws_env, "provision", "apply", "--yes")
    assert "0 to create, 0 to update" in dw(aws_env, "provision", "plan").stdout.decode()
    allow_plain_http_on_emulator("analytics-dw-data")

    first_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sent = dw(
        aws_env, "send", "impressions", "--count", "700", "--malformed-ratio", "0.02", "--seed", "7", "--json"
    )
    put = json.loads(sent.stdout)
    assert put["events"] == 700 and put["stream"] == "analytics_dw-impressions"
    # Packed records: a malformed event takes its record's other events to the error prefix.
    dw(aws_env, "send", "clicks", "--count", "300", "--seed", "8", "--events-per-record", "10")
    refused = dw(aws_env, "send", "clicks", "--arrival", "2026-03-01T10:00", check=False)
    assert refused.returncode == 2 and "Kinesis stamps the arrival" in refused.stderr.decode()

    drained = dw(aws_env, "drain").stdout.decode()
    assert "impressions: 700 Kinesis records, delivered 686 (686 rows), errors 14" in drained
    assert "clicks: 30 Kinesis records, delivered 30 (300 rows), errors 0" in drained
    assert "0 Kinesis records" in dw(aws_env, "drain", "clicks").stdout.decode(), "a second drain is a no-op"

    last_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = (f"{first_hour:%Y-%m-%dT%H}", f"{last_hour:%Y-%m-%dT%H}")
    dw(aws_env, "backfill", "--from", hours[0], "--to", hours[1], "--only", "register")
    window = f"inserted_at BETWEEN '{first_hour:%Y/%m/%d/%H}' AND '{last_hour:%Y/%m/%d/%H}'"
    (impressions,) = query_json(aws_env, f"SELECT count(*) AS n FROM impressions WHERE {window}")
    (clicks,) = query_json(aws_env, f"SELECT count(*) AS n FROM clicks WHERE {window}")
    assert (impressions["n"], clicks["n"]) == (686, 300)

    errors = boto3.client("s3", region_name=REGION).list_objects_v2(
        Bucket="analytics-dw-data", Prefix=f"{lake_root('analytics_dw')}{error_prefix('impressions')}"
    )
    assert errors["KeyCount"] >= 1

    assert "Destroyed 19 resources" in dw(aws_env, "provision", "destroy", "--yes").stdout.decode()
    assert boto3.client("s3", region_name=REGION).list_buckets()["Buckets"] == []
