"""Provisioning against moto's server over HTTP: apply, apply again, a declaration change, destroy,
with the security properties read back from the emulator's state."""

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from dw_platform.catalog import Partition, table_definition
from dw_platform.catalog.glue import GlueCatalog
from dw_platform.cli.main import main
from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.warehouse import EVENT_COLUMNS, analytics_dw
from dw_platform.lake.layout import hour_folder, lake_root
from dw_platform.provisioning.managed_resource import AwsClients, ProvisioningError
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.policies import run_worker_policy, wildcard_problems
from dw_platform.provisioning.shards import shards_needed
from dw_platform.provisioning.stack import CREATE, DELETE, EXTERNAL, UNCHANGED, UPDATE, Stack
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION

REPO = Path(__file__).resolve().parents[1]
WRITE_PREFIXES = ("Create", "Put", "Update", "Delete", "Start", "Add", "Batch", "Tag")


def make_stack(warehouse: ServerlessDataWarehouse) -> tuple[Stack, Counter]:
    """A stack whose AWS calls are counted by operation name."""
    clients = AwsClients(REGION)
    calls: Counter = Counter()
    for service in ("s3", "glue", "kinesis", "firehose", "iam", "logs", "athena"):
        clients.client(service).meta.events.register(
            f"before-call.{service}", lambda model, **_: calls.update([model.name])
        )
    names = StackNames.from_settings(warehouse, Settings.from_env({}), clients.account())
    return Stack(names, clients), calls


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def allow_plain_http_on_emulator(bucket: str) -> None:
    """Remove the TLS-only bucket policy (asserted in its own test) before moving data. The emulator
    serves plain HTTP and treats a Deny whose condition it cannot evaluate as an unconditional Deny,
    so every object call would be refused; over HTTPS on AWS the policy denies nothing boto3 sends."""
    client("s3").delete_bucket_policy(Bucket=bucket)


def writes(calls: Counter) -> dict[str, int]:
    return {name: n for name, n in calls.items() if name.startswith(WRITE_PREFIXES)}


def test_apply_creates_a_secure_stack_and_a_second_apply_changes_nothing(aws_endpoint: str) -> None:
    stack, calls = make_stack(dataclasses.replace(analytics_dw, is_dev=False))
    assert {c.action for c in stack.plan()} == {CREATE}
    assert not writes(calls), "plan only reads"
    stack.apply()

    s3 = client("s3")
    for bucket in ("analytics-dw-data", "analytics-dw-athena-results"):
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        (deny,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert deny["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    (results_rule,) = s3.get_bucket_lifecycle_configuration(Bucket="analytics-dw-athena-results")["Rules"]
    assert results_rule["Expiration"] == {"Days": 7} and results_rule["Status"] == "Enabled"

    glue = client("glue")
    impressions = glue.get_table(DatabaseName="analytics_dw", Name="impressions")["Table"]
    assert impressions["TableType"] == "EXTERNAL_TABLE"
    assert impressions["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert [k["Name"] for k in impressions["PartitionKeys"]] == ["inserted_at"]

    kinesis = client("kinesis")
    summary = kinesis.describe_stream_summary(StreamName="analytics_dw-clicks")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 1 and summary["EncryptionType"] == "KMS"

    firehose = client("firehose")
    description = firehose.describe_delivery_stream(DeliveryStreamName="analytics_dw-impressions")
    stream = description["DeliveryStreamDescription"]
    assert stream["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert stream["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"].endswith(
        ":stream/analytics_dw-impressions"
    )
    destination = stream["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert destination["BucketARN"] == "arn:aws:s3:::analytics-dw-data"
    root = lake_root("analytics_dw")  # the stack's own prefix of the bucket
    assert destination["Prefix"] == f"{root}impressions/!{{timestamp:yyyy/MM/dd/HH}}/"
    assert "!{firehose:error-output-type}" in destination["ErrorOutputPrefix"]
    assert destination["ErrorOutputPrefix"].startswith(f"{root}errors/impressions/")
    options = analytics_dw.table("impressions").streaming
    assert options is not None
    assert destination["BufferingHints"] == {"SizeInMBs": 128, "IntervalInSeconds": options.flush_interval_s}
    assert destination["CompressionFormat"] == "UNCOMPRESSED"
    assert destination["CloudWatchLoggingOptions"]["Enabled"] is True
    conversion = destination["DataFormatConversionConfiguration"]
    assert conversion["Enabled"] is True
    assert conversion["SchemaConfiguration"]["TableName"] == "impressions"
    assert "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]

    iam = client("iam")
    role = iam.get_role(RoleName="analytics_dw-impressions-firehose")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "firehose.amazonaws.com"
    }
    policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="delivery")["PolicyDocument"]
    assert wildcard_problems(policy) == []
    resources = [r for statement in policy["Statement"] for r in statement["Resource"]]
    assert not any("clicks" in r for r in resources), "one table's role reaches only that table"
    assert f"arn:aws:s3:::analytics-dw-data/{root}impressions/*" in resources
    assert not any(r.startswith("arn:aws:s3:::analytics-dw-data/impressions") for r in resources)
    assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
    worker = iam.get_policy(PolicyArn="arn:aws:iam::123456789012:policy/analytics_dw-run-worker")["Policy"]
    document = iam.get_policy_version(PolicyArn=worker["Arn"], VersionId=worker["DefaultVersionId"])
    assert wildcard_problems(document["PolicyVersion"]["Document"]) == []
    objects = {r for s in document["PolicyVersion"]["Document"]["Statement"] for r in s["Resource"]}
    assert "arn:aws:s3:::analytics-dw-data/*" not in objects, "run workers reach only the stack's root"
    assert f"arn:aws:s3:::analytics-dw-data/{root}*" in objects

    workgroup = client("athena").get_work_group(WorkGroup="analytics_dw")["WorkGroup"]["Configuration"]
    assert workgroup["EnforceWorkGroupConfiguration"] is True
    assert workgroup["BytesScannedCutoffPerQuery"] == 100 * 1024**3
    assert workgroup["ResultConfiguration"] == {
        "OutputLocation": "s3://analytics-dw-athena-results/",
        "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
    }

    calls.clear()
    again = stack.apply()
    assert {c.action for c in again} == {UNCHANGED}
    assert writes(calls) == {}, "a second apply writes nothing"


def test_a_declaration_change_is_applied_in_place(aws_endpoint: str) -> None:
    stack, _ = make_stack(analytics_dw)
    stack.apply()
    glue = GlueCatalog("analytics-dw-data", REGION)
    old = table_definition(analytics_dw.table("impressions"))
    glue.register_partitions(
        "analytics_dw",
        old,
        [
            Partition((f"2026/03/01/{h:02d}",), hour_folder("impressions", f"2026/03/01/{h:02d}"))
            for h in range(3)
        ],
    )
    firehose = client("firehose")
    version = firehose.describe_delivery_stream(DeliveryStreamName="analytics_dw-impressions")[
        "DeliveryStreamDescription"
    ]["VersionId"]

    changed = dataclasses.replace(
        analytics_dw,
        tables=tuple(
            dataclasses.replace(t, columns=(*t.columns, Column("campaign"))) if t.name == "impressions" else t
            for t in analytics_dw.tables
        ),
    ).with_streaming_input_table("conversions", EVENT_COLUMNS, shard_count=2)
    stack, _ = make_stack(changed)
    plan = {(c.kind, c.name): c for c in stack.plan()}
    assert plan[("glue table", "impressions")].action == UPDATE
    assert plan[("firehose stream", "analytics_dw-impressions")].action == UPDATE
    assert "re-reads its schema" in plan[("firehose stream", "analytics_dw-impressions")].reason
    assert plan[("firehose stream", "analytics_dw-clicks")].action == UNCHANGED
    assert plan[("kinesis stream", "analytics_dw-conversions")].action == CREATE
    assert plan[("iam policy", "analytics_dw-run-worker")].action == UPDATE
    assert plan[("log group", "/aws/kinesisfirehose/analytics_dw")].fields == ("streams",)

    stack.apply()
    columns = [
        c["Name"]
        for c in client("glue").get_table(DatabaseName="analytics_dw", Name="impressions")["Table"][
            "StorageDescriptor"
        ]["Columns"]
    ]
    assert columns == ["id", "session_id", "event_time", "campaign"]
    partitions = client("glue").get_partitions(DatabaseName="analytics_dw", TableName="impressions")[
        "Partitions"
    ]
    assert len(partitions) == 3
    for partition in partitions:
        descriptor = partition["StorageDescriptor"]
        assert [c["Name"] for c in descriptor["Columns"]] == columns, "partitions follow the table's schema"
        assert descriptor["Location"].endswith(f"impressions/{partition['Values'][0]}/"), "locations kept"
    described = firehose.describe_delivery_stream(DeliveryStreamName="analytics_dw-impressions")
    assert described["DeliveryStreamDescription"]["VersionId"] != version, "Firehose was touched"
    summary = client("kinesis").describe_stream_summary(StreamName="analytics_dw-conversions")
    assert summary["StreamDescriptionSummary"]["OpenShardCount"] == 2
    assert {c.action for c in stack.plan()} == {UNCHANGED}


def test_destroy_removes_a_dev_stack_and_refuses_a_production_one_with_data(aws_endpoint: str) -> None:
    production, _ = make_stack(dataclasses.replace(analytics_dw, is_dev=False))
    production.apply()
    s3 = client("s3")
    allow_plain_http_on_emulator("analytics-dw-data")
    s3.put_object(Bucket="analytics-dw-data", Key="impressions/2026/03/01/10/object", Body=b"x")
    with pytest.raises(ProvisioningError, match="analytics-dw-data holds objects"):
        production.destroy()
    changes = {(c.kind, c.name): c for c in production.plan()}
    assert changes.pop(("s3 bucket", "analytics-dw-data")).fields == ("policy",)
    assert {c.action for c in changes.values()} == {UNCHANGED}, "a refusal deletes nothing"

    dev, _ = make_stack(dataclasses.replace(analytics_dw, is_dev=True))
    assert {c.action for c in dev.destroy()} == {DELETE}
    assert {c.action for c in dev.plan()} == {CREATE}
    assert s3.list_buckets()["Buckets"] == []
    assert client("kinesis").list_streams()["StreamNames"] == []
    assert client("firehose").list_delivery_streams()["DeliveryStreamNames"] == []
    assert client("iam").list_roles()["Roles"] == []
    assert client("glue").get_databases()["DatabaseList"] == []


def test_resources_the_stack_did_not_create_are_left_alone(aws_endpoint: str) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="analytics-dw-data", CreateBucketConfiguration={"LocationConstraint": REGION})
    stack, _ = make_stack(analytics_dw)
    plan = {(c.kind, c.name): c.action for c in stack.plan()}
    assert plan[("s3 bucket", "analytics-dw-data")] == EXTERNAL
    stack.apply()
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="analytics-dw-data")
    destroyed = {(c.kind, c.name): c.action for c in stack.destroy()}
    assert destroyed[("s3 bucket", "analytics-dw-data")] == EXTERNAL
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["analytics-dw-data"]


def test_dw_provision_commands(aws_endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provision", "plan"]) == 0
    assert "19 to create" in capsys.readouterr().out
    # Like `terraform apply`: the plan, then a question; no terminal to ask on and no --yes: refused.
    assert main(["provision", "apply"]) == 2
    captured = capsys.readouterr()
    assert "Plan: 19 to create" in captured.out and "Applied" not in captured.out
    assert captured.err == (
        "dw provision: apply would create or update 19 resources of stack analytics_dw; "
        "pass --yes to confirm\n"
    )
    assert main(["provision", "apply", "--yes"]) == 0
    assert "Applied: 19 to create" in capsys.readouterr().out
    assert main(["provision", "apply"]) == 0  # nothing to change: nothing to confirm
    out = capsys.readouterr().out
    assert "0 to create, 0 to update, 0 to delete, 19 unchanged" in out and "Nothing to apply" in out
    assert main(["provision", "outputs", "--json"]) == 0
    outputs = json.loads(capsys.readouterr().out)
    assert outputs["streams"]["clicks"]["kinesis_stream"] == "analytics_dw-clicks"
    assert outputs["workgroup"] == "analytics_dw" and outputs["data_bucket"] == "analytics-dw-data"
    assert outputs["lake"] == f"s3://analytics-dw-data/{lake_root('analytics_dw')}"
    assert main(["provision", "destroy"]) == 2  # no terminal to confirm on, no --yes
    assert "pass --yes" in capsys.readouterr().err
    assert main(["provision", "destroy", "--yes"]) == 0
    assert main(["provision", "plan"]) == 0
    assert "19 to create" in capsys.readouterr().out


def test_committed_run_worker_policy_is_current_and_scoped() -> None:
    names = StackNames.from_settings(analytics_dw, Settings.from_env({}), "ACCOUNT_ID")
    document = run_worker_policy(names)
    committed = json.loads((REPO / "infra" / "analytics_dw-run-worker-policy.json").read_text())
    assert committed == document, "regenerate with: make policy"
    assert wildcard_problems(document) == []
    assert wildcard_problems({"Statement": [{"Effect": "Allow", "Action": "glue:*", "Resource": "*"}]}) == [
        "action 'glue:*'",
        "resource '*'",
    ]


def test_shard_sizing_follows_kinesis_write_limits() -> None:
    # 1B events/day of 200 bytes: 11,574 records/s on average.
    assert shards_needed(1e9, 200, peak_factor=1, hash_skew=1) == 12
    assert shards_needed(1e9, 200, peak_factor=3, hash_skew=1) == 35
    assert shards_needed(1e9, 200) == 44  # with 25% headroom for uneven hashing
    # Packing 10 events per record makes the stream byte-bound: 2.3 MB/s on average.
    assert shards_needed(1e9, 200, peak_factor=1, hash_skew=1, events_per_record=10) == 3
    assert shards_needed(1e9, 200, peak_factor=3, hash_skew=1, events_per_record=10) == 7
    with pytest.raises(ValueError):
        shards_needed(1e9, 0)
