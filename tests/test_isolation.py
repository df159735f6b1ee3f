"""Two warehouses side by side, on one DW_HOME (local profile) and on one S3 bucket (moto's server):
each reads exactly what was sent to it, through delivery, registration, compaction and the
grace-period cleanup of the other; names the lake keeps for itself are refused as table names; a
code location of several warehouses gets no shared stack names; a home from before is refused, then
moved in one step."""

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import dagster as dg
import pytest

from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import (
    DeclarationError,
    ReservedTableNameError,
    ServerlessDataWarehouse,
)
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.sending import deliver
from dw_platform.lake.layout import RESERVED_TABLE_NAMES, hour_folder, lake_root
from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour
from dw_platform.operations.compaction.rewrite import RewriteOptions
from dw_platform.operations.registration import register_hours
from dw_platform.operations.replay.lease import replay_lease
from dw_platform.orchestration.build import build_definitions
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.policies import firehose_delivery_policy, run_worker_policy
from dw_platform.runtime import legacy_home
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.legacy_home import LegacyLakeError
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import SharedStackNamesError, check_one_stack_per_warehouse
from tests.aws_emulator import REGION

HOUR = "2026/03/01/10"
ARRIVAL = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
NOW = datetime.now(UTC)
LATER = NOW + timedelta(hours=2)  # past the grace period: compaction deletes what it superseded
SMALL = CompactionOptions(rewrite=RewriteOptions(target_file_bytes=40_000, row_group_rows=500))
COLUMNS = [("id", "string"), ("session_id", "string"), ("event_time", "string")]
# What `dg scaffold defs ... WarehouseComponent <name>` declares: one streaming table `events`.
WAREHOUSES = {
    name: ServerlessDataWarehouse(name).with_streaming_input_table("events", COLUMNS)
    for name in ("inventory_dw", "sales_dw")
}
# Per warehouse: (good records, malformed records) sent into the same arrival hour.
SENT = {"inventory_dw": (100, 7), "sales_dw": (30, 2)}


def records(warehouse: str) -> list[bytes]:
    good, bad = SENT[warehouse]
    events = [
        json.dumps({"id": f"{warehouse}-{i}", "session_id": "s", "event_time": "2026-03-01T10:00:00Z"})
        for i in range(good)
    ]
    return [e.encode() for e in events] + [b"{not json"] * bad


def counts(runtime: Runtime) -> tuple[int, int, set[str]]:
    """Rows and isolated records of the hour, and the warehouses the rows' ids name."""
    rows = runtime.engine.query(f"SELECT id FROM events WHERE inserted_at = '{HOUR}'").table
    errors = runtime.engine.query(f"SELECT count(*) AS n FROM events_errors WHERE inserted_at = '{HOUR}'")
    owners = {i.rsplit("-", 1)[0] for i in rows.column("id").to_pylist()}
    return rows.num_rows, errors.table.column("n")[0].as_py(), owners


def expected(warehouse: str) -> tuple[int, int, set[str]]:
    good, bad = SENT[warehouse]
    return good, bad, {warehouse}


def deliver_and_register(runtimes: dict[str, Runtime]) -> None:
    for name, runtime in runtimes.items():
        sync_catalog(runtime)
        deliver(runtime, "events", records(name), arrival=ARRIVAL, batches=3)
    for runtime in runtimes.values():  # after both deliveries: each hour's folder holds what it will
        register_hours(runtime, "events", [HOUR], with_stats=False)


def compact_and_clean_up_one_by_one(runtimes: dict[str, Runtime]) -> None:
    """Each warehouse compacts the hour and, past the grace period, deletes the raw objects its
    version holds; the other reads exactly its own rows before, between and after."""
    cleaned: set[str] = set()

    def raw_objects() -> dict[str, int]:
        return {n: len(r.lake.list_objects(hour_folder("events", HOUR))) for n, r in runtimes.items()}

    # One object per flush (3 flushes), each in its own warehouse's folder.
    assert raw_objects() == {n: 3 for n in runtimes}
    for name in runtimes:
        assert {n: counts(r) for n, r in runtimes.items()} == {n: expected(n) for n in runtimes}
        compact_hour(runtimes[name], "events", HOUR, SMALL, now=NOW)
        assert {n: counts(r) for n, r in runtimes.items()} == {n: expected(n) for n in runtimes}
        report = compact_hour(runtimes[name], "events", HOUR, SMALL, now=LATER)
        assert report.deleted_objects == 3, "its own three objects, not the other's"
        cleaned.add(name)
        assert {n: counts(r) for n, r in runtimes.items()} == {n: expected(n) for n in runtimes}
        assert raw_objects() == {n: 0 if n in cleaned else 3 for n in runtimes}


def replays_of_both_at_once(runtimes: dict[str, Runtime]) -> None:
    """Each warehouse's replay lease of its `events` is its own: neither blocks the other."""
    inventory, sales = runtimes.values()
    with replay_lease(inventory, "events"), replay_lease(sales, "events"):
        pass


def test_two_warehouses_on_one_home_each_read_exactly_their_own(tmp_path: Path) -> None:
    settings = Settings.from_env({"DW_HOME": str(tmp_path / "home")})
    runtimes = {name: Runtime.from_settings(w, settings) for name, w in WAREHOUSES.items()}
    deliver_and_register(runtimes)
    compact_and_clean_up_one_by_one(runtimes)
    replays_of_both_at_once(runtimes)
    lake = settings.lake_dir
    assert {p.name for p in lake.iterdir()} == {lake_root(n).rstrip("/") for n in WAREHOUSES}


def test_two_warehouses_in_one_bucket_each_read_exactly_their_own(aws_endpoint: str, tmp_path: Path) -> None:
    """One data bucket named for both (DW_DATA_BUCKET): each stack keeps to its root in it."""
    bucket = "shared-dw-data"
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    settings = Settings.from_env(
        {
            "DW_PROFILE": "aws",
            "DW_IS_DEV": "true",
            "DW_QUERY_ENGINE": "duckdb",  # Athena cannot run on the emulator
            "DW_DATA_BUCKET": bucket,
            "DW_HOME": str(tmp_path / "home"),
            "AWS_REGION": REGION,
        }
    )
    runtimes = {name: Runtime.from_settings(w, settings) for name, w in WAREHOUSES.items()}
    deliver_and_register(runtimes)
    compact_and_clean_up_one_by_one(runtimes)
    replays_of_both_at_once(runtimes)
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=bucket)["Contents"]
    assert {o["Key"].split("/")[0] for o in listed} == {lake_root(n).rstrip("/") for n in WAREHOUSES}
    glue = boto3.client("glue", region_name=REGION)
    for name in WAREHOUSES:
        location = glue.get_table(DatabaseName=name, Name="events")["Table"]["StorageDescriptor"]["Location"]
        assert location == f"s3://{bucket}/{lake_root(name)}events/"


def test_firehose_and_iam_of_two_stacks_in_one_bucket_reach_only_their_own_root() -> None:
    settings = Settings.from_env({"DW_PROFILE": "aws", "DW_DATA_BUCKET": "shared", "AWS_REGION": REGION})
    names = {n: StackNames.from_settings(w, settings, "123456789012") for n, w in WAREHOUSES.items()}
    for name, stack in names.items():
        other = next(n for n in names if n != name)
        delivery = json.dumps(firehose_delivery_policy(stack, "events"))
        worker = json.dumps(run_worker_policy(stack))
        assert f"shared/{name}/events/*" in delivery and f"shared/{name}/*" in worker
        assert f"shared/{other}/" not in delivery + worker and "shared/*" not in worker
        assert "shared/events/" not in delivery


@pytest.mark.parametrize("name", sorted(RESERVED_TABLE_NAMES))
def test_the_layouts_own_folders_are_refused_as_table_names(name: str) -> None:
    with pytest.raises(ReservedTableNameError, match=f"table name '{name}' is reserved"):
        ServerlessDataWarehouse("w").with_table(name, COLUMNS)
    with pytest.raises(ReservedTableNameError):
        ServerlessDataWarehouse("w").with_streaming_input_table(name, COLUMNS)


@pytest.mark.parametrize("suffix", ["_errors", "_compacted"])
def test_a_streaming_tables_derived_names_are_refused_in_either_order(suffix: str) -> None:
    warehouse = ServerlessDataWarehouse("w")
    with pytest.raises(ReservedTableNameError, match=f"'orders{suffix}' is reserved"):
        warehouse.with_streaming_input_table("orders", COLUMNS).with_table(f"orders{suffix}", COLUMNS)
    with pytest.raises(DeclarationError, match=f"'orders{suffix}' is reserved"):
        warehouse.with_table(f"orders{suffix}", COLUMNS).with_streaming_input_table("orders", COLUMNS)
    assert warehouse.with_table(f"other{suffix}", COLUMNS).with_streaming_input_table("orders", COLUMNS)


def test_two_warehouses_load_side_by_side_with_their_own_pools(tmp_path: Path) -> None:
    settings = Settings.from_env({"DW_HOME": str(tmp_path / "home")})
    defs = dg.Definitions.merge(*(build_definitions(w, settings) for w in WAREHOUSES.values()))
    pools = {
        key.path[0]: pool
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        if (pool := defs.resolve_assets_def(key).op.pool)
    }
    assert pools == {n: f"{n}_compaction_events" for n in WAREHOUSES}
    repository = defs.get_repository_def()  # every job, schedule and sensor name checked for clashes
    names = [d.name for d in (*repository.schedule_defs, *repository.sensor_defs)]
    names += [j.name for j in repository.get_all_jobs() if not j.name.startswith("__")]
    assert len(names) == len(set(names)) and all(n.startswith(tuple(WAREHOUSES)) for n in names)


def test_names_of_one_stack_are_refused_for_a_code_location_of_several_warehouses() -> None:
    for variable in ("DW_STACK", "DW_DATA_BUCKET", "DW_RESULTS_BUCKET", "DW_ATHENA_WORKGROUP"):
        settings = Settings.from_env({"DW_PROFILE": "aws", variable: "team_b"})
        with pytest.raises(SharedStackNamesError, match=f"{variable} name one stack's resources"):
            check_one_stack_per_warehouse(list(WAREHOUSES), settings)
        check_one_stack_per_warehouse(["analytics_dw"], settings)  # one warehouse: its own, as before
    check_one_stack_per_warehouse(list(WAREHOUSES), Settings.from_env({"DW_PROFILE": "aws"}))


def old_home(tmp_path: Path) -> tuple[Settings, int]:
    """A home as the layout before this one left it: the lake's folders straight under lake/ (the
    catalog's locations are lake keys, the same in both layouts), one seed marker for the home."""
    settings = Settings.from_env({"DW_HOME": str(tmp_path / "home")})
    runtime = Runtime.from_settings(analytics_dw, settings)
    sync_catalog(runtime)
    summary = deliver(runtime, "impressions", records("inventory_dw"), arrival=ARRIVAL)
    register_hours(runtime, "impressions", [HOUR], with_stats=False)
    shutil.move(settings.lake_dir / lake_root("analytics_dw"), settings.home / legacy_home.LEGACY_LAKE_DIR)
    shutil.rmtree(settings.lake_dir)
    catalog = settings.catalog_path("analytics_dw")
    for companion in catalog.parent.glob(f"{catalog.name}*"):
        companion.rename(settings.home / companion.name.replace(catalog.name, legacy_home.LEGACY_CATALOG))
    catalog.parent.rmdir()
    (settings.home / legacy_home.LEGACY_SEED_MARKER).write_text("{}")
    return settings, summary.delivered


def test_a_home_from_before_is_refused_then_moved_once(tmp_path: Path) -> None:
    settings, delivered = old_home(tmp_path)

    def files() -> list[Path]:
        return sorted(p.relative_to(settings.home) for p in settings.home.rglob("*") if p.is_file())

    before = files()
    found = r"\(lake/: _delivery, errors, impressions; catalog.sqlite\).*legacy_home \S+ analytics_dw`"
    with pytest.raises(LegacyLakeError, match=found):
        Runtime.from_settings(analytics_dw, settings)
    # Another warehouse would start on a home whose data seems lost: refused too, the owner left open.
    with pytest.raises(LegacyLakeError, match=r"legacy_home \S+ WAREHOUSE`"):
        Runtime.from_settings(WAREHOUSES["sales_dw"], settings)
    assert files() == before, "a refusal changes nothing"

    moved = legacy_home.migrate(settings.home, "analytics_dw")
    assert moved == [
        "lake/ -> lakes/analytics_dw/",
        "catalog.sqlite -> catalogs/analytics_dw.sqlite",
        "seeded.json -> seeded_analytics_dw.json",
    ]
    assert legacy_home.migrate(settings.home, "analytics_dw") == [], "a second run moves nothing"
    runtime = Runtime.from_settings(analytics_dw, settings)
    rows = runtime.engine.query(f"SELECT count(*) AS n FROM impressions WHERE inserted_at = '{HOUR}'")
    assert rows.table.column("n")[0].as_py() == delivered == SENT["inventory_dw"][0]
    assert legacy_home.seed_marker(settings.home, "analytics_dw").exists()


def test_a_stack_from_before_roots_is_refused_until_its_objects_are_moved(aws_endpoint: str) -> None:
    """Its tables read the bucket's top: applying would leave the objects there out of every query."""
    from dw_platform.catalog import table_definition
    from dw_platform.catalog.glue import GlueCatalog
    from dw_platform.provisioning.managed_resource import AwsClients, ProvisioningError
    from dw_platform.provisioning.stack import UPDATE, Stack

    bucket, s3 = "analytics-dw-data", boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    glue = boto3.client("glue", region_name=REGION)  # the stack's database, as apply tags it
    glue.create_database(DatabaseInput={"Name": "analytics_dw", "Parameters": {"dw:stack": "analytics_dw"}})
    before_roots = GlueCatalog(bucket, REGION)  # as earlier versions wrote it: keys from the top
    before_roots.upsert_table("analytics_dw", table_definition(analytics_dw.table("clicks")))
    old_key = hour_folder("clicks", HOUR) + "object.parquet"
    s3.put_object(Bucket=bucket, Key=old_key, Body=b"x")
    clients = AwsClients(REGION)
    names = StackNames.from_settings(
        analytics_dw, Settings.from_env({"DW_PROFILE": "aws"}), clients.account()
    )
    with pytest.raises(
        ProvisioningError, match=r"glue table clicks reads s3://analytics-dw-data/clicks/, outside"
    ):
        Stack(names, clients).plan()

    s3.copy_object(Bucket=bucket, Key=lake_root("analytics_dw") + old_key, CopySource=f"{bucket}/{old_key}")
    s3.delete_object(Bucket=bucket, Key=old_key)
    plan = {(c.kind, c.name): c for c in Stack(names, clients).plan()}
    assert plan[("glue table", "clicks")].action == UPDATE, "re-pointed at the root by apply"
