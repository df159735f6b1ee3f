"""Throttling and transient faults injected between the platform and the AWS emulator (a proxy on
127.0.0.1): Glue, S3 and Athena calls are retried with backoff, nothing is lost or duplicated, and
a fault that never clears ends in a clear error."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from dw_platform.aws.clients import aws_client
from dw_platform.catalog.glue import GlueCatalog
from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.sending import deliver
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION
from tests.fault_proxy import FaultProxy
from tests.test_athena_engine import queue_result

BUCKET = "analytics-dw-data"
START = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def flaky(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """Every client goes through a proxy failing 30% of Glue/S3/Athena calls and losing 10% of replies."""
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    boto3.client("athena", region_name=REGION).create_work_group(
        Name="analytics_dw", Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/"}}
    )
    with FaultProxy(aws_endpoint, seed=11, fault_ratio=0.3, lost_reply_ratio=0.1) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        monkeypatch.setenv("DW_PROFILE", "aws")
        monkeypatch.setenv("DW_QUERY_ENGINE", "duckdb")
        yield proxy


def test_a_month_registers_exactly_through_throttling_timeouts_and_lost_replies(flaky: FaultProxy) -> None:
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env())
    sync_catalog(runtime)
    hours = [f"{START + timedelta(hours=i):%Y/%m/%d/%H}" for i in range(720)]
    register_hours(runtime, "clicks", hours, with_stats=False)
    register_hours(runtime, "clicks", hours, with_stats=False)  # a re-run adds nothing
    glue = boto3.client("glue", region_name=REGION, endpoint_url=flaky.upstream)
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName="analytics_dw", TableName="clicks")
    values = [p["Values"][0] for page in pages for p in page["Partitions"]]
    assert sorted(values) == hours
    assert flaky.injected["ThrottlingException"] and flaky.injected["OperationTimeoutException"]


def test_delivery_and_queries_through_slow_down_and_dropped_connections(flaky: FaultProxy) -> None:
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env())
    sync_catalog(runtime)
    ids = [f'{{"id": "e{i}", "session_id": "s", "event_time": "t"}}'.encode() for i in range(2000)]
    summary = deliver(runtime, "clicks", ids, arrival=START + timedelta(minutes=5), batches=4)
    register_hours(runtime, "clicks", ["2026/02/01/00"])
    counted = runtime.engine.query(
        "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM clicks WHERE inserted_at = '2026/02/01/00'"
    ).table.to_pylist()
    assert summary.delivered == 2000 and counted == [{"n": 2000, "ids": 2000}]
    assert (
        flaky.injected["SlowDown"] and flaky.injected["dropped connection"] and flaky.injected["lost reply"]
    )


def test_athena_calls_survive_too_many_requests(flaky: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DW_QUERY_ENGINE", "athena")
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env())
    sync_catalog(runtime)
    for _ in range(10):  # more than needed: a query started twice (its reply lost) takes one too
        queue_result(flaky.upstream, [("n", "bigint")], [["7"]])
    results = [runtime.engine.query("SELECT 7 AS n").table.to_pylist() for _ in range(3)]
    assert results == [[{"n": 7}]] * 3
    assert flaky.injected["TooManyRequestsException"]


@pytest.mark.parametrize("kind", ["ThrottlingException", "OperationTimeoutException"])
def test_a_fault_that_never_clears_is_a_clear_error(
    aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with FaultProxy(aws_endpoint, seed=1, fault_ratio=1.0, kinds=(kind,)) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.endpoint)
        catalog = GlueCatalog(BUCKET, REGION, client=aws_client("glue", REGION, max_attempts=3))
        with pytest.raises(
            ClientError, match=rf"\({kind}\) when calling the GetDatabase operation"
        ) as raised:
            catalog.ensure_database("analytics_dw")
        retries = raised.value.response["ResponseMetadata"]["RetryAttempts"]
        assert 2 <= retries <= 3 and proxy.injected[kind] == retries + 1, "retried, then bounded"
