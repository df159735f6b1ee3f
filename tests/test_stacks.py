"""Two stacks of one warehouse (DW_STACK) on moto's server, driven through real `dw provision`
processes: each has its own resources, neither touches the other's, and destroying one leaves the
other intact, undelivered Kinesis records and Glue partitions included."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from dw_platform.lake.layout import hour_folder, lake_root, table_prefix
from tests.aws_emulator import REGION
from tests.test_cli import dw, query_json

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

SECOND = "analytics_dw_team_b"
RECORDS = 500


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


@pytest.fixture
def env_a(aws_endpoint: str, tmp_path: Path) -> dict[str, str]:
    """The first stack: configured as before stacks existed (no DW_STACK)."""
    env = {
        **os.environ,
        "DW_PROFILE": "aws",
        "DW_IS_DEV": "true",
        "DW_QUERY_ENGINE": "duckdb",  # Athena cannot run on the emulator
        "DW_HOME": str(tmp_path / "a"),
        "DAGSTER_HOME": str(tmp_path / "a" / "dagster"),
    }
    for name in ("DW_STACK", "DW_DATA_BUCKET", "DW_RESULTS_BUCKET", "DW_ATHENA_WORKGROUP"):
        env.pop(name, None)
    return env


def second_stack(env_a: dict[str, str], **extra: str) -> dict[str, str]:
    home = env_a["DW_HOME"] + "-b"
    return {**env_a, "DW_STACK": SECOND, "DW_HOME": home, "DAGSTER_HOME": home + "/dagster", **extra}


def _state(stack: str, bucket: str) -> dict[str, Any]:
    """What the emulator holds of one stack, read with plain boto3."""
    glue, kinesis, firehose = client("glue"), client("kinesis"), client("firehose")
    iam, athena = client("iam"), client("athena")
    destinations = {}
    for table in ("impressions", "clicks"):
        stream = firehose.describe_delivery_stream(DeliveryStreamName=f"{stack}-{table}")
        (destination,) = stream["DeliveryStreamDescription"]["Destinations"]
        destinations[table] = destination["ExtendedS3DestinationDescription"]["BucketARN"]
    return {
        "tables": sorted(t["Name"] for t in glue.get_tables(DatabaseName=stack)["TableList"]),
        "locations": {
            t["Name"]: t["StorageDescriptor"]["Location"]
            for t in glue.get_tables(DatabaseName=stack)["TableList"]
        },
        "streams": sorted(s for s in kinesis.list_streams()["StreamNames"] if s.startswith(f"{stack}-")),
        "destinations": destinations,
        "roles": sorted(
            r["RoleName"]
            for r in iam.list_roles()["Roles"]
            if r["RoleName"] in (f"{stack}-impressions-firehose", f"{stack}-clicks-firehose")
        ),
        "workgroup": athena.get_work_group(WorkGroup=stack)["WorkGroup"]["Configuration"][
            "ResultConfiguration"
        ]["OutputLocation"],
        "bucket": client("s3").head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"],
    }


def _records(stream: str) -> int:
    kinesis = client("kinesis")
    total = 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            total += len(page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return total


def test_two_stacks_of_one_warehouse_live_side_by_side(env_a: dict[str, str]) -> None:
    env_b = second_stack(env_a)
    dw(env_a, "provision", "apply", "--yes")
    glue, kinesis = client("glue"), client("kinesis")
    table = glue.get_table(DatabaseName="analytics_dw", Name="impressions")["Table"]
    hours = [f"2026/03/01/{h:02d}" for h in range(3)]
    lake = f"s3://analytics-dw-data/{lake_root('analytics_dw')}"
    glue.batch_create_partition(
        DatabaseName="analytics_dw",
        TableName="impressions",
        PartitionInputList=[
            {
                "Values": [hour],
                "StorageDescriptor": {
                    **table["StorageDescriptor"],
                    "Location": f"{lake}{hour_folder('impressions', hour)}",
                },
            }
            for hour in hours
        ],
    )
    for start in range(0, RECORDS, 250):
        kinesis.put_records(
            StreamName="analytics_dw-clicks",
            Records=[
                {"Data": b'{"id": "%d"}' % i, "PartitionKey": str(i)} for i in range(start, start + 250)
            ],
        )
    before = _state("analytics_dw", "analytics-dw-data")
    assert before["destinations"]["impressions"] == "arn:aws:s3:::analytics-dw-data"

    plan_b = dw(env_b, "provision", "plan").stdout.decode()
    assert "19 to create, 0 to update, 0 to delete, 0 unchanged, 0 not managed" in plan_b, plan_b
    dw(env_b, "provision", "apply", "--yes")
    assert (
        "0 to create, 0 to update, 0 to delete, 19 unchanged"
        in dw(env_a, "provision", "plan").stdout.decode()
    )
    assert (
        "0 to create, 0 to update, 0 to delete, 19 unchanged"
        in dw(env_b, "provision", "plan").stdout.decode()
    )
    second = _state(SECOND, "analytics-dw-team-b-data")
    assert second["destinations"] == {
        "impressions": "arn:aws:s3:::analytics-dw-team-b-data",
        "clicks": "arn:aws:s3:::analytics-dw-team-b-data",
    }
    assert (
        second["locations"]["impressions"] == f"s3://analytics-dw-team-b-data/{lake_root(SECOND)}impressions/"
    )
    assert second["workgroup"] == "s3://analytics-dw-team-b-athena-results/"
    assert _state("analytics_dw", "analytics-dw-data") == before, "the second apply touched the first stack"

    dw(env_b, "provision", "destroy", "--yes")
    assert _state("analytics_dw", "analytics-dw-data") == before, (
        "destroying the second stack touched the first"
    )
    assert [
        p["Values"][0]
        for p in glue.get_partitions(DatabaseName="analytics_dw", TableName="impressions")["Partitions"]
    ] == hours
    assert _records("analytics_dw-clicks") == RECORDS
    assert SECOND not in [d["Name"] for d in glue.get_databases()["DatabaseList"]]
    buckets = sorted(b["Name"] for b in client("s3").list_buckets()["Buckets"])
    assert buckets == ["analytics-dw-athena-results", "analytics-dw-data"]
    assert "19 unchanged" in dw(env_a, "provision", "plan").stdout.decode()
    assert "19 to create" in dw(env_b, "provision", "plan").stdout.decode()


def test_a_second_deployment_without_a_stack_name_of_its_own_is_refused(env_a: dict[str, str]) -> None:
    """The red team's case: the same warehouse with its own buckets but no DW_STACK is the first
    stack's identity pointed at another bucket; every command refuses it and changes nothing."""
    dw(env_a, "provision", "apply", "--yes")
    before = _state("analytics_dw", "analytics-dw-data")
    env = {**env_a, "DW_DATA_BUCKET": "team-b-data", "DW_RESULTS_BUCKET": "team-b-results"}
    for command in (["plan"], ["apply", "--yes"], ["destroy", "--yes"]):
        refused = dw(env, "provision", *command, check=False)
        assert refused.returncode == 2, refused.stdout.decode()
        (line,) = refused.stderr.decode().splitlines()
        assert "keeps its lake in bucket analytics-dw-data" in line and "set DW_STACK" in line
    assert _state("analytics_dw", "analytics-dw-data") == before
    assert "19 unchanged" in dw(env_a, "provision", "plan").stdout.decode()


def test_another_stacks_bucket_and_workgroup_are_reported_and_left_alone(env_a: dict[str, str]) -> None:
    dw(env_a, "provision", "apply", "--yes")
    before = _state("analytics_dw", "analytics-dw-data")
    shared = second_stack(
        env_a, DW_RESULTS_BUCKET="analytics-dw-athena-results", DW_ATHENA_WORKGROUP="analytics_dw"
    )
    plan = dw(shared, "provision", "plan").stdout.decode()
    for kind, name in (("s3 bucket", "analytics-dw-athena-results"), ("athena workgroup", "analytics_dw")):
        line = next(
            line
            for line in plan.splitlines()
            if kind in line
            and line.rstrip().endswith("belongs to stack analytics_dw, left as it is")
            and name in line
        )
        assert line.startswith("! external"), line
    dw(shared, "provision", "apply", "--yes")
    destroyed = dw(shared, "provision", "destroy", "--yes").stdout.decode()
    assert "kept: belongs to stack analytics_dw" in destroyed
    assert _state("analytics_dw", "analytics-dw-data") == before
    assert "19 unchanged" in dw(env_a, "provision", "plan").stdout.decode()

    into_theirs = second_stack(env_a, DW_DATA_BUCKET="analytics-dw-data")
    refused = dw(into_theirs, "provision", "apply", "--yes", check=False)
    assert refused.returncode == 2
    assert (
        "data bucket analytics-dw-data belongs to stack analytics_dw: apply refused"
        in refused.stderr.decode()
    )
    assert SECOND not in [d["Name"] for d in client("glue").get_databases()["DatabaseList"]]


def test_a_second_stack_sends_drains_registers_and_queries_its_own_tables(env_a: dict[str, str]) -> None:
    env_b = second_stack(env_a)
    dw(env_a, "provision", "apply", "--yes")
    dw(env_b, "provision", "apply", "--yes")
    for bucket in ("analytics-dw-data", "analytics-dw-team-b-data"):
        client("s3").delete_bucket_policy(Bucket=bucket)  # see test_provisioning.allow_plain_http_on_emulator
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sent = json.loads(dw(env_b, "send", "impressions", "--count", "120", "--seed", "3", "--json").stdout)
    assert sent["stream"] == f"{SECOND}-impressions"
    dw(env_a, "send", "impressions", "--count", "40", "--seed", "4")
    assert "impressions: 120 Kinesis records" in dw(env_b, "drain", "impressions").stdout.decode()
    assert "impressions: 40 Kinesis records" in dw(env_a, "drain", "impressions").stdout.decode()
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    window = f"inserted_at BETWEEN '{hour:%Y/%m/%d/%H}' AND '{last:%Y/%m/%d/%H}'"
    for env, expected in ((env_b, 120), (env_a, 40)):
        dw(
            env,
            "backfill",
            "--from",
            f"{hour:%Y-%m-%dT%H}",
            "--to",
            f"{last:%Y-%m-%dT%H}",
            "--only",
            "register",
        )
        (row,) = query_json(env, f"SELECT count(*) AS n FROM impressions WHERE {window}")
        assert row["n"] == expected
    (row,) = query_json(env_b, f"SELECT count(*) AS n FROM {SECOND}.impressions WHERE {window}")
    assert row["n"] == 120
    keys = client("s3").list_objects_v2(
        Bucket="analytics-dw-team-b-data", Prefix=f"{lake_root(SECOND)}{table_prefix('impressions')}"
    )["Contents"]
    assert all(k["Key"].split("/")[-1].startswith(f"{SECOND}-impressions-1-") for k in keys)


def test_an_invalid_stack_name_is_one_clear_error(env_a: dict[str, str]) -> None:
    refused = dw({**env_a, "DW_STACK": "Team-B"}, "provision", "plan", check=False)
    assert refused.returncode == 2
    (line,) = refused.stderr.decode().splitlines()
    assert line.startswith("dw provision: invalid DW_STACK 'Team-B'")


def test_policy_and_its_committed_copy_follow_the_stack(tmp_path: Path) -> None:
    """`make policy` (DW_STACK empty) writes the default stack's copy in infra/; another stack's
    policy names only that stack's resources. `--account` needs no AWS call."""
    env = {**os.environ, "DW_PROFILE": "aws", "AWS_REGION": "us-west-2", "DW_HOME": str(tmp_path)}
    for name in ("DW_DATA_BUCKET", "DW_RESULTS_BUCKET", "DW_ATHENA_WORKGROUP"):
        env[name] = ""
    committed = json.loads(
        (Path(__file__).resolve().parents[1] / "infra" / "analytics_dw-run-worker-policy.json").read_text()
    )
    default = dw({**env, "DW_STACK": ""}, "provision", "policy", "--account", "ACCOUNT_ID").stdout
    assert json.loads(default) == committed
    other = json.loads(dw({**env, "DW_STACK": SECOND}, "provision", "policy", "--account", "1").stdout)
    resources = [r for statement in other["Statement"] for r in statement["Resource"]]
    mine = [r for r in resources if r != "arn:aws:glue:us-west-2:1:catalog"]  # the account's catalog
    assert all(SECOND in r or SECOND.replace("_", "-") in r for r in mine), resources
    assert f"arn:aws:s3:::analytics-dw-team-b-data/{lake_root(SECOND)}*" in resources
    assert f"arn:aws:glue:us-west-2:1:database/{SECOND}" in resources
    assert f"arn:aws:kinesis:us-west-2:1:stream/{SECOND}-clicks" in resources
