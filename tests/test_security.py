"""The claims of docs/security.md that a test can check and that no other test already checks:
credentials never reach output or metadata, and nothing a user or a file supplies reaches SQL or a
key unvalidated."""

import os
from pathlib import Path

import boto3
import dagster as dg
import pytest

from dw_platform.declaration.identifiers import InvalidIdentifierError, sql_string_literal
from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.operations.registration import hour_partition, register_hours
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.aws_emulator import REGION
from tests.test_cli import dw

CANARY = "SECRET-CANARY-7f3a"


def test_credentials_never_reach_command_output_or_asset_metadata(
    aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)  # moto accepts any secret
    monkeypatch.setenv("AWS_SESSION_TOKEN", CANARY + "-token")
    env = {
        **os.environ,
        "DW_PROFILE": "aws",
        "DW_HOME": str(tmp_path / "dw"),
        "DAGSTER_HOME": str(tmp_path / "d"),
    }
    outputs = [dw(env, "provision", "apply", "--yes"), dw(env, "provision", "outputs", "--json")]
    outputs.append(dw(env, "query", "SELECT * FROM clicks", check=False))  # an error path too
    for result in outputs:
        assert CANARY not in (result.stdout + result.stderr).decode()

    monkeypatch.setenv("DW_PROFILE", "aws")
    monkeypatch.setenv("DW_QUERY_ENGINE", "duckdb")
    (tmp_path / "instance").mkdir()
    defs = build_definitions(analytics_dw, Settings.from_env())
    with dg.instance_for_test(temp_dir=str(tmp_path / "instance")) as instance:
        key = dg.AssetKey(["infrastructure", "analytics_dw"])
        assert dg.materialize(
            [defs.get_assets_def(key)], instance=instance, resources=dict(defs.resources or {})
        ).success
        records = instance.get_event_records(dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION))
        logged = instance.all_logs(records[0].event_log_entry.run_id)
        assert records and all(CANARY not in str(r.event_log_entry) for r in records)
        assert all(CANARY not in str(entry) for entry in logged)
    assert boto3.client("s3", region_name=REGION).list_buckets()["Buckets"], "the calls did go through"


@pytest.mark.parametrize(
    "hour", ["2026/03/01/10' OR '1'='1", "2026/03/01/10/../../facts", "../2026/03/01/10", "2026-03-01"]
)
def test_partition_values_are_validated_before_reaching_sql_or_keys(runtime: Runtime, hour: str) -> None:
    with pytest.raises(ValueError, match="must be an hour written YYYY/MM/DD/HH"):
        hour_partition("clicks", hour)
    with pytest.raises(ValueError):
        register_hours(runtime, "clicks", [hour])


@pytest.mark.parametrize("name", ['clicks"; DROP TABLE x; --', "Clicks", "a-b", "x" * 200, "../up"])
def test_identifiers_are_validated_at_declaration(name: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        ServerlessDataWarehouse("dw").with_table(name, [("c", "string")])
    with pytest.raises(InvalidIdentifierError):
        ServerlessDataWarehouse("dw").with_table("t", [(name, "string")])


def test_string_literals_escape_quotes() -> None:
    assert sql_string_literal("it's") == "'it''s'"
