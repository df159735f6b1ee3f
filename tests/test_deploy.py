"""deploy/: the production instance configuration, as documented, against a PostgreSQL server; the
ECS and Kubernetes variants agree with it."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster_aws.ecs import EcsRunLauncher
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from tests.postgres_server import DEPLOY_YAML, PASSWORD, USER, PostgresServer, deploy_instance

DEPLOY = DEPLOY_YAML.parent
STREAMING = ("impressions", "clicks")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_the_documented_instance_runs_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    instance = deploy_instance(tmp_path, postgres_url)
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert instance.run_retries_max_retries == 1 and not instance.run_retries_retry_on_asset_or_op_failure
        concurrency = instance.get_concurrency_config()
        queue = concurrency.run_queue_config
        # Concurrency is the pools alone: no per-table run-tag limit; a run whose first steps all
        # need a full pool stays queued (no buffer), not in a run worker.
        assert queue is not None and not queue.tag_concurrency_limits
        assert queue.should_block_op_concurrency_limited_runs and queue.op_concurrency_slot_buffer == 0
        assert concurrency.pool_config.default_pool_limit == 1
        assert instance.auto_materialize_enabled and instance.auto_materialize_use_sensors
        run = instance.create_run_for_job(dg.GraphDefinition("g").to_job())
        assert [r.run_id for r in instance.get_runs()] == [run.run_id]
    finally:
        instance.dispose()
    assert "PASSWORD" not in DEPLOY_YAML.read_text().replace("USER:PASSWORD@", "")  # only the placeholder


def test_concurrency_is_declared_once_on_the_assets(settings) -> None:
    """Each table's compaction declares its pool; the instance configuration names no table (before,
    deploy/*.yaml listed a run-tag limit per table, and runs had to carry the matching tag)."""
    from dw_platform.defs.analytics_dw.warehouse import analytics_dw
    from dw_platform.orchestration.build import build_definitions

    defs = build_definitions(analytics_dw, settings)
    pools = {
        key.path[-1]: pool
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        if (pool := defs.resolve_assets_def(key).op.pool)
    }
    assert pools == {f"{t}_compacted": f"analytics_dw_compaction_{t}" for t in STREAMING}
    for path in (DEPLOY_YAML, DEPLOY / "ecs" / "dagster.yaml", DEPLOY / "kubernetes" / "values.yaml"):
        assert "_compaction_" not in path.read_text().replace("<warehouse>_compaction_<table>", ""), path
    schedule = defs.get_schedule_def("analytics_dw_compaction_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 3, 1, 12, 25, tzinfo=UTC),
        repository_def=defs.get_repository_def(),
    )
    [request] = schedule.evaluate_tick(context).run_requests or []
    assert not [tag for tag in request.tags if tag.startswith("dw/")]


def test_bare_postgresql_scheme_is_the_trap_the_docs_warn_of(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """SQLAlchemy 2.1 reads postgresql:// as psycopg 3, which is not installed (dagster-postgres needs
    psycopg2): the reason the documented URL names the driver."""
    with pytest.raises(ModuleNotFoundError, match="psycopg"):
        deploy_instance(tmp_path, postgres.url().replace("+psycopg2", "")).get_runs(limit=1)


def test_the_helm_charts_form_with_the_scheme_set_also_runs(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chart renders postgres_db with the password from DAGSTER_PG_PASSWORD and
    postgresql.postgresqlScheme: the values file sets it; the same fields against the server."""
    values = load(DEPLOY / "kubernetes" / "values.yaml")["postgresql"]
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", PASSWORD)
    config = {
        "postgres_db": {
            "username": USER,
            "password": {"env": "DAGSTER_PG_PASSWORD"},
            "hostname": "127.0.0.1",
            "db_name": "postgres",
            "port": postgres.port,
            "scheme": values["postgresqlScheme"],
        }
    }
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"storage": {"postgres": config}}))
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert instance.get_runs(limit=1) is not None
    finally:
        instance.dispose()


def env_names(config: object) -> set[str]:
    if isinstance(config, dict):
        if set(config) == {"env"}:
            return {config["env"]}
        return set().union(*(env_names(v) for v in config.values()))
    if isinstance(config, list):
        return set().union(*(env_names(v) for v in config))
    return set()


def test_ecs_variant_is_the_base_plus_a_valid_ecs_run_launcher(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DEPLOY / "ecs" / "dagster.yaml").read_text()
    ecs = yaml.safe_load(text)
    launcher = ecs.pop("run_launcher")
    assert ecs == load(DEPLOY_YAML)
    assert (launcher["module"], launcher["class"]) == ("dagster_aws.ecs", "EcsRunLauncher")
    for name in env_names(launcher["config"]):
        assert f"#   {name} " in text  # each variable the launcher reads is documented
        monkeypatch.setenv(name, f"arn:aws:iam::123456789012:role/{name}")
    result = process_config(EcsRunLauncher.config_type(), launcher["config"])
    assert result.success, [e.message for e in result.errors]
    passed = {v.split("=")[0] for v in launcher["config"]["env_vars"]}
    assert {"DAGSTER_PG_URL", "DW_PROFILE", "DW_DATA_BUCKET", "AWS_REGION"} <= passed


def test_helm_values_mirror_the_instance_configuration() -> None:
    base = load(DEPLOY_YAML)
    values = load(DEPLOY / "kubernetes" / "values.yaml")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    daemon = values["dagsterDaemon"]
    assert daemon["runCoordinator"] == {"enabled": True, "type": "QueuedRunCoordinator"}
    concurrency = values["concurrency"]
    assert concurrency["pools"]["defaultLimit"] == base["concurrency"]["pools"]["default_limit"]
    runs = base["concurrency"]["runs"]
    assert concurrency["runs"]["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert (
        concurrency["pools"]["opGranularityRunBuffer"]
        == base["concurrency"]["pools"]["op_granularity_run_buffer"]
    )
    assert "tag_concurrency_limits" not in runs and "tagConcurrencyLimits" not in concurrency["runs"]
    monitoring = base["run_monitoring"]
    assert daemon["runMonitoring"] == {
        "enabled": True,
        "startTimeoutSeconds": monitoring["start_timeout_seconds"],
        "pollIntervalSeconds": monitoring["poll_interval_seconds"],
        "maxResumeRunAttempts": monitoring["max_resume_run_attempts"],
    }
    retries = base["run_retries"]
    assert daemon["runRetries"] == {
        "enabled": True,
        "maxRetries": retries["max_retries"],
        "retryOnAssetOrOpFailure": retries["retry_on_asset_or_op_failure"],
    }
    retention = {k.replace("auto_materialize", "autoMaterialize"): v for k, v in base["retention"].items()}
    assert {k: v for k, v in values["retention"].items() if k != "enabled"} == {
        kind: {"purgeAfterDays": setting["purge_after_days"]} for kind, setting in retention.items()
    }
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "dw_platform.definitions"]


def test_reused_connections_store_every_event_without_a_connection_per_event(
    tmp_path: Path, postgres: PostgresServer, postgres_url: str
) -> None:
    """`dw backfill` pools the storage's connections (reuse_connections): storing materializations
    must neither open a connection per event (the asset-event tags check did) nor lose the tags
    Dagster indexes for them."""
    from dw_platform.orchestration.instance import reuse_connections

    database = postgres_url.rsplit("/", 1)[1]
    sessions = f"SELECT sessions FROM pg_stat_database WHERE datname = '{database}'"
    instance = deploy_instance(tmp_path, postgres_url)
    try:
        reuse_connections(instance)
        instance.get_runs(limit=1)  # the pool's connection, opened once
        opened_before = int(postgres.psql(sessions).strip())
        events = 30
        for index in range(events):
            instance.report_runless_asset_event(
                dg.AssetMaterialization("probe", tags={"dagster/data_version": str(index)})
            )
        opened = int(postgres.psql(sessions).strip()) - opened_before
        stored_tags = postgres.psql(
            "SELECT count(*) FROM asset_event_tags WHERE key = 'dagster/data_version'", database
        )
    finally:
        instance.dispose()
    assert int(stored_tags.strip()) == events
    assert opened < events // 3, f"{opened} connections opened for {events} stored events"
