"""The Athena engine (pyathena) against moto's server. Moto does not execute SQL: it records each
statement and answers with results queued through its API, so these tests check what reaches
Athena (workgroup, statement) and how typed results come back, not Athena's SQL semantics."""

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest

from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.query.athena import AthenaEngine
from dw_platform.query.scan_plan import FullScanRefused
from dw_platform.query.sql import QueryError
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION
from tests.test_cli import dw

WORKGROUP = "analytics_dw"


def queue_result(endpoint: str, columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """Queue the result moto gives the next query (header row first, as Athena's API returns it)."""

    def row(values: list[str | None]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    body = {
        "account_id": "123456789012",
        "region": REGION,
        "results": [
            {
                "rows": [row([name for name, _ in columns]), *(row(r) for r in rows)],
                "column_info": [
                    {
                        "Name": name,
                        "Label": name,
                        "Type": type_,
                        "Precision": 10,
                        "Scale": 2,
                        "Nullable": "UNKNOWN",
                    }
                    for name, type_ in columns
                ],
            }
        ],
    }
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results", data=json.dumps(body).encode(), method="POST"
    )
    urllib.request.urlopen(request, timeout=10)


@pytest.fixture
def runtime(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The AWS profile with its catalog and lake in place (the guard rail reads both)."""
    monkeypatch.setenv("DW_PROFILE", "aws")
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="analytics-dw-data", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env())
    sync_catalog(runtime)
    return runtime


@pytest.fixture
def workgroup(runtime: Runtime) -> str:
    boto3.client("athena", region_name=REGION).create_work_group(
        Name=WORKGROUP,
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://analytics-dw-athena-results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    return WORKGROUP


def executions() -> list[dict[str, Any]]:
    athena = boto3.client("athena", region_name=REGION)
    ids = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


def test_results_come_back_typed_as_arrow(aws_endpoint: str, runtime: Runtime, workgroup: str) -> None:
    queue_result(
        aws_endpoint,
        [
            ("event_type", "varchar"),
            ("n", "bigint"),
            ("share", "double"),
            ("day", "date"),
            ("paid", "decimal"),
        ],
        [["clicks", "42", "0.5", "2026-03-01", "12.30"], ["impressions", "7", None, None, None]],
    )
    engine = AthenaEngine(REGION, workgroup, "analytics_dw", runtime.athena.planner, poll_interval_s=0.05)
    result = engine.query("SELECT event_type, count(*) AS n FROM clicks WHERE inserted_at = '2026/03/01/10'")
    assert result.table.schema.types == [
        pa.string(),
        pa.int64(),
        pa.float64(),
        pa.date32(),
        pa.decimal128(10, 2),
    ]
    rows = result.table.to_pylist()
    assert [(r["event_type"], r["n"], r["share"]) for r in rows] == [
        ("clicks", 42, 0.5),
        ("impressions", 7, None),
    ]
    assert str(rows[0]["paid"]) == "12.30" and str(rows[0]["day"]) == "2026-03-01"
    (execution,) = executions()
    assert execution["WorkGroup"] == WORKGROUP
    assert execution["QueryExecutionContext"]["Database"] == "analytics_dw"
    assert "inserted_at = '2026/03/01/10'" in execution["Query"]


def test_queries_are_submitted_without_waiting_and_user_sql_stays_read_only(
    runtime: Runtime, workgroup: str
) -> None:
    engine = AthenaEngine(REGION, workgroup, "analytics_dw", runtime.athena.planner, poll_interval_s=0.05)
    futures = [engine.submit(f"SELECT {n} AS n") for n in range(4)]  # four in flight at once
    assert all(f.result(timeout=30).table.num_columns == 0 for f in futures)  # moto's empty default
    assert len(executions()) == 4
    with pytest.raises(QueryError):
        engine.submit("DROP TABLE clicks")
    with pytest.raises(FullScanRefused, match="'clicks' without bounding its partition key 'inserted_at'"):
        engine.submit("SELECT count(*) FROM clicks")
    assert len(executions()) == 4, "refused before reaching Athena"
    engine.submit("SELECT count(*) FROM clicks", allow_full_scan=True).result(timeout=30)
    engine.execute("DROP TABLE IF EXISTS analytics_dw.clicks__late_2026030110")  # the platform's own DDL
    assert len(executions()) == 6


def test_the_aws_profile_queries_through_athena(
    aws_endpoint: str, runtime: Runtime, workgroup: str, tmp_path: Path
) -> None:
    assert isinstance(runtime.engine, AthenaEngine) and runtime.engine.workgroup == WORKGROUP

    queue_result(aws_endpoint, [("n", "bigint")], [["686"]])
    env = {**os.environ, "DW_HOME": str(tmp_path / "dw"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    result = dw(
        env,
        "query",
        "SELECT count(*) AS n FROM impressions WHERE inserted_at = '2026/03/01/10'",
        "--format",
        "json",
    )
    assert json.loads(result.stdout) == [{"n": 686}]
    assert b"reads impressions: 0 partitions, 0 objects" in result.stderr
    refused = dw(env, "query", "SELECT * FROM impressions", check=False)
    assert refused.returncode == 2 and b"without bounding its partition key 'inserted_at'" in refused.stderr
    assert len(executions()) == 1
    unknown = dw({**env, "DW_QUERY_ENGINE": "presto"}, "query", "SELECT 1", check=False)
    assert unknown.returncode == 2 and b"DW_QUERY_ENGINE must be one of" in unknown.stderr
    assert b"Traceback" not in unknown.stderr
