"""Schema change and `dw replay` on the AWS profile, against moto's server over HTTP: `plan` shows the
column changes (and refuses an unsafe one), `apply` updates the Glue table, its partitions and the
delivery stream, and the replay puts the records that now convert into Kinesis (looked up there by
record id after a crash, never put twice); Firehose's part is the emulator's drain."""

import dataclasses
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from dw_platform.delivery.sending import deliver, drain_streams
from dw_platform.errors import UserInputError
from dw_platform.lake.hours import ONE_HOUR, floor_hour, hour_of_inserted_at, inserted_at
from dw_platform.lake.layout import lake_root, replay_ledger_prefix
from dw_platform.operations.batch_tables import run_batch_hours
from dw_platform.operations.registration import register_hours
from dw_platform.operations.replay.lease import ReplayInProgress, replay_lease
from dw_platform.operations.replay.run import ReplayError, replay
from dw_platform.operations.status import reconcile_hours
from dw_platform.provisioning.managed_resource import ProvisioningError
from dw_platform.provisioning.stack import UNCHANGED, UPDATE
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION
from tests.replay_scenario import AFTER, BEFORE, HOURS, _with_columns, events, expected
from tests.test_provisioning import allow_plain_http_on_emulator, make_stack

KEYS = [inserted_at(h) for h in HOURS]
BUCKET = "analytics-dw-data"


class Crash(Exception):
    pass


def _crash_after_put(step: str) -> None:
    if step == "delivered":
        raise Crash(step)


def snapshot() -> dict[str, object]:
    s3 = boto3.client("s3", region_name=REGION)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    kinesis = boto3.client("kinesis", region_name=REGION)
    shard = kinesis.list_shards(StreamName="analytics_dw-impressions")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="analytics_dw-impressions", ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return {
        "objects": sorted((o["Key"], o["ETag"]) for page in pages for o in page.get("Contents", [])),
        "kinesis_records": len(kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]),
    }


def test_schema_change_and_replay_on_the_emulator(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DW_PROFILE", "aws")
    monkeypatch.setenv("DW_QUERY_ENGINE", "duckdb")  # Athena cannot run here
    settings = Settings.from_env()
    stack, _ = make_stack(BEFORE)
    stack.apply()
    allow_plain_http_on_emulator(BUCKET)
    runtime = Runtime.from_settings(BEFORE, settings)
    for index, hour in enumerate(HOURS):  # Firehose's part: isolated against the old schema
        deliver(runtime, "impressions", events(index), arrival=hour.replace(minute=7))
    register_hours(runtime, "impressions", KEYS)
    run_batch_hours(runtime, "aggregates", KEYS)

    after = Runtime.from_settings(AFTER, settings)
    with pytest.raises(ReplayError, match="run `dw provision apply`"):
        replay(after, "impressions", HOURS[0], HOURS[1])
    narrowed = _with_columns(
        (
            *BEFORE.table("impressions").columns[:3],
            dataclasses.replace(BEFORE.table("impressions").columns[3], type="smallint"),
        )
    )
    with pytest.raises(ProvisioningError, match="narrowing column quantity from int to smallint"):
        make_stack(narrowed)[0].plan()

    stack, _ = make_stack(AFTER)
    firehose = boto3.client("firehose", region_name=REGION)
    version = firehose.describe_delivery_stream(DeliveryStreamName="analytics_dw-impressions")[
        "DeliveryStreamDescription"
    ]["VersionId"]
    plan = {(c.kind, c.name): c for c in stack.plan()}
    table_change = plan[("glue table", "impressions")]
    assert table_change.action == UPDATE
    assert (
        table_change.reason
        == "~ column quantity int -> bigint, + column price double; existing partitions follow"
    )
    assert "re-reads its schema" in plan[("firehose stream", "analytics_dw-impressions")].reason
    assert plan[("glue table", "clicks")].action == UNCHANGED
    stack.apply()
    allow_plain_http_on_emulator(BUCKET)  # apply restored the TLS-only policy the emulator cannot honour
    glue = boto3.client("glue", region_name=REGION)
    columns = [
        ("id", "string"),
        ("session_id", "string"),
        ("event_time", "string"),
        ("quantity", "bigint"),
        ("price", "double"),
    ]
    for partition in glue.get_partitions(DatabaseName="analytics_dw", TableName="impressions")["Partitions"]:
        assert [(c["Name"], c["Type"]) for c in partition["StorageDescriptor"]["Columns"]] == columns
    described = firehose.describe_delivery_stream(DeliveryStreamName="analytics_dw-impressions")
    assert described["DeliveryStreamDescription"]["VersionId"] != version, "Firehose re-reads the schema"

    with pytest.raises(UserInputError, match="on AWS, Kinesis stamps it"):  # CLI and job alike
        replay(after, "impressions", HOURS[0], HOURS[1], arrival=HOURS[1])
    # A replay killed on AWS leaves its lease: the next one refuses, naming the holder, until it is deleted.
    s3 = boto3.client("s3", region_name=REGION)
    lease = f"{lake_root('analytics_dw')}{replay_ledger_prefix('impressions')}_lease.json"
    held = b'{"host": "worker-7", "pid": 4242, "since": "2026-03-01T14:00:00+00:00"}'
    s3.put_object(Bucket=BUCKET, Key=lease, Body=held)
    with pytest.raises(ReplayInProgress, match="process 4242 on worker-7 since 2026-03-01T14:00:00"):
        replay(after, "impressions", HOURS[0], HOURS[1])
    assert s3.get_object(Bucket=BUCKET, Key=lease)["Body"].read() == held, "another's lease is left alone"
    s3.delete_object(Bucket=BUCKET, Key=lease)
    with replay_lease(after, "impressions"):  # its lease deleted by hand and taken by another replay
        s3.delete_object(Bucket=BUCKET, Key=lease)
        s3.put_object(Bucket=BUCKET, Key=lease, Body=held)
    assert s3.get_object(Bucket=BUCKET, Key=lease)["Body"].read() == held, "a replay frees only its own lease"
    s3.delete_object(Bucket=BUCKET, Key=lease)

    want = expected()
    dry = replay(after, "impressions", HOURS[0], HOURS[1], dry_run=True)
    assert (dry.converted, dry.still_failing) == (20, 10)
    with pytest.raises(Crash):  # after PutRecords, before the commit
        replay(after, "impressions", HOURS[0], HOURS[1], fault=_crash_after_put)
    report = replay(after, "impressions", HOURS[0], HOURS[1])
    assert report.resumed and report.replay_id is None, "the stopped replay is finished, nothing re-put"
    assert snapshot()["kinesis_records"] == 20
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=lease), "each replay released its lease"
    (drained,) = drain_streams(after, ["impressions"]).values()
    assert (drained.records, drained.summary.errors) == (20, 0)

    landed = report.numbers.registered[0] if report.numbers else ""
    assert hour_of_inserted_at(landed) in (
        floor_hour(datetime.now(UTC)),
        floor_hour(datetime.now(UTC)) - ONE_HOUR,
    )
    span = f"inserted_at BETWEEN '{KEYS[0]}' AND '{landed}'"
    rows = after.engine.query(f"SELECT id, quantity, price, inserted_at FROM impressions WHERE {span}").table
    ids = rows.column("id").to_pylist()
    assert len(ids) == len(set(ids)) and set(ids) == want["ids"], "every event in the table exactly once"
    replayed = [r for r in rows.to_pylist() if r["inserted_at"] == landed]
    assert len(replayed) == 20 and all(r["price"] == 2.5 and r["quantity"] > 2**31 - 1 for r in replayed)
    assert all(r["price"] is None for r in rows.to_pylist() if r["id"].startswith("g")), "old objects: NULL"
    run_batch_hours(after, "aggregates", [landed], now=hour_of_inserted_at(landed) + timedelta(hours=2))
    counts = after.engine.query(
        f"SELECT time, count FROM aggregates WHERE {span} AND event_type = 'impressions'"
    ).table.to_pylist()
    assert {c["time"]: c["count"] for c in counts} == {**want["delivered"], landed: 20}
    errors = after.engine.query(
        "SELECT inserted_at, replaystatus, count(*) AS n FROM impressions_errors "
        f"WHERE inserted_at IN ('{KEYS[0]}', '{KEYS[1]}') GROUP BY 1, 2"
    ).table.to_pylist()
    assert {(e["inserted_at"], e["replaystatus"]): e["n"] for e in errors} == {
        **{(k, "delivered"): want["replayable"][k] for k in KEYS},
        **{(k, "still_failing"): want["isolated"][k] - want["replayable"][k] for k in KEYS},
    }
    for hour in reconcile_hours(after, KEYS):
        if hour.table == "impressions":
            assert (
                hour.error_records
                == hour.replayed + hour.still_isolated
                == want["isolated"][hour.inserted_at]
            )

    before = snapshot()
    again = replay(after, "impressions", HOURS[0], HOURS[1])
    assert (again.converted, again.replay_id) == (0, None)
    assert snapshot() == before, "a second replay changes nothing"
