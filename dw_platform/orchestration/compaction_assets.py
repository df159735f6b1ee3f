"""Per streaming table: the hourly compaction asset; for the warehouse: its schedule and the sensor
that re-compacts hours when late objects land after they were compacted."""

import hashlib
from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.lake.hours import (
    ONE_HOUR,
    floor_hour,
    hour_of_inserted_at,
    inserted_at,
    iter_hours,
    partition_key,
)
from dw_platform.operations.compaction.compact import (
    CompactionEngine,
    CompactionOptions,
    compact_hours,
    late_objects,
)
from dw_platform.operations.compaction.rewrite import RewriteOptions
from dw_platform.operations.settling import check_hours_settled, settle_delay
from dw_platform.orchestration.asset_keys import compaction_key, definition_name
from dw_platform.orchestration.asset_metadata import (
    PARTITION_ROW_COUNT,
    asset_tags,
    describe_numbers,
    owners,
    table_metadata,
)
from dw_platform.orchestration.clock import Clock, utc_now
from dw_platform.orchestration.partitions import BACKFILL_POLICY, closed_hours, run_hours
from dw_platform.orchestration.registration_assets import LATE_DATA_WINDOW
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.settings import Settings


class CompactionConfig(dg.Config):
    target_file_mib: int = 128
    row_group_rows: int = 1_000_000
    dedupe_on_id: bool = False
    grace_minutes: int = 60
    engine: CompactionEngine = "pyarrow"  # or "athena_unload" (AWS profile)
    parallel_hours: int = 2  # hours compacted at once in a multi-hour run (memory: that many hours)

    def options(self) -> CompactionOptions:
        return CompactionOptions(
            rewrite=RewriteOptions(
                target_file_bytes=self.target_file_mib * 1024 * 1024, row_group_rows=self.row_group_rows
            ),
            grace=timedelta(minutes=self.grace_minutes),
            dedupe_key="id" if self.dedupe_on_id else None,
            engine=self.engine,
        )


def compaction_pool(warehouse: ServerlessDataWarehouse, table: str) -> str:
    """One pool per table of a warehouse: two warehouses' tables of one name compact independently."""
    return definition_name(warehouse, f"compaction_{table}")


COMPACTION_NUMBERS = {
    "rows": "rows in the hour's current version (what queries read)",
    "files_before": "files the hour was read from (Firehose's objects, the previous version's files)",
    "files_after": "files of the new version",
    "bytes_before": "bytes of those input files",
    "bytes_after": "bytes of the new version's files",
    "duplicates_removed": "rows dropped as repeats of an `id` (with dedupe_on_id)",
    "late_objects": "raw objects that were not in a version yet",
    "deleted_objects": "raw objects and old versions deleted after the grace period",
    "version": "the hour's current version number",
}


def compaction_asset(
    warehouse: ServerlessDataWarehouse,
    spec: TableSpec,
    settings: Settings,
    registration: dg.AssetKey,
    clock: Clock = utc_now,
) -> dg.AssetsDefinition:
    @dg.asset(
        key=compaction_key(warehouse, spec.name),
        partitions_def=closed_hours(settings.partitions_start),
        backfill_policy=BACKFILL_POLICY,
        deps=[registration],
        pool=compaction_pool(warehouse, spec.name),  # one compaction of a table at a time
        kinds={"parquet", "pyarrow"},
        group_name=warehouse.name,
        metadata=table_metadata(spec),
        owners=owners(warehouse),
        tags=asset_tags(warehouse, spec, "compaction"),
        description=(
            f"Closed hours of `{spec.name}` rewritten from Firehose's small objects into files near the "
            "target size; the partition is switched to the new version in one catalog write."
            + describe_numbers(COMPACTION_NUMBERS)
        ),
    )
    def compact(
        context: dg.AssetExecutionContext, config: CompactionConfig, warehouse_resource: WarehouseResource
    ) -> dg.MaterializeResult:
        runtime = warehouse_resource.runtime(warehouse)
        hours = run_hours(context)
        delay = settle_delay(warehouse, [spec.name])
        check_hours_settled(spec.name, [h for _, h in hours], delay, clock())
        options = config.options()
        totals = {"rows": 0, "files_before": 0, "files_after": 0, "duplicates_removed": 0}
        reports = compact_hours(
            runtime, spec.name, [h for _, h in hours], options, parallel=config.parallel_hours
        )
        refused = []
        for done, ((key, _), report) in enumerate(zip(hours, reports, strict=True), start=1):
            context.add_asset_metadata(
                partition_key=key, metadata={**report.metadata(), PARTITION_ROW_COUNT: report.rows}
            )
            if report.status in ("refused", "deferred"):
                refused.append(report)
                context.log.error(report.reason)
            for name in totals:
                totals[name] += getattr(report, name)
            if done % 24 == 0 or done == len(hours):
                context.log.info(f"compacted {done}/{len(hours)} hours of {spec.name}")
        if refused:  # the other hours are done; the run fails so that the refusal is seen
            raise dg.Failure(
                f"{len(refused)} hours of {spec.name} left as they were: {refused[0].reason}",
                metadata={"refused_hours": ", ".join(r.inserted_at for r in refused)},
            )
        return dg.MaterializeResult(metadata={"hours_in_run": len(hours), **totals})

    return compact


def compaction_schedule(
    warehouse: ServerlessDataWarehouse,
    settings: Settings,
    targets: Sequence[dg.AssetKey],
    partitions_def: dg.PartitionsDefinition,
    default_status: dg.DefaultScheduleStatus,
    clock: Clock = utc_now,
) -> dg.ScheduleDefinition:
    """Hourly, compact the hour that ended `compaction_lag_hours` ago, leaving the most recent hours
    in small files (what is computed from it follows through its automation condition)."""
    job = dg.define_asset_job(
        definition_name(warehouse, "compaction_hourly"),
        selection=dg.AssetSelection.assets(*targets),
        partitions_def=partitions_def,
    )
    lag = timedelta(hours=settings.compaction_lag_hours)

    @dg.schedule(
        name=definition_name(warehouse, "compaction_schedule"),
        cron_schedule=settings.compaction_cron,
        job=job,
        execution_timezone="UTC",
        default_status=default_status,
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        now = context.scheduled_execution_time or clock()
        key = partition_key(floor_hour(now) - ONE_HOUR - lag)
        return dg.RunRequest(run_key=key, partition_key=key)

    return schedule


def late_objects_sensor(
    warehouse: ServerlessDataWarehouse,
    streaming: Sequence[TableSpec],
    default_status: dg.DefaultSensorStatus,
    clock: Clock = utc_now,
) -> dg.SensorDefinition:
    """Firehose delivers at least once and retries for up to 24 hours: an object can land in an hour
    after it was compacted. Such an hour is re-compacted (current version + new objects); what is
    computed from it (aggregates) follows through its automation condition."""
    targets = {s.name: compaction_key(warehouse, s.name) for s in streaming}

    @dg.sensor(
        name=definition_name(warehouse, "late_objects_sensor"),
        minimum_interval_seconds=60,
        asset_selection=sorted(targets.values()),
        default_status=default_status,
    )
    def sensor(context: dg.SensorEvaluationContext, warehouse_resource: WarehouseResource) -> dg.SensorResult:
        runtime = warehouse_resource.runtime(warehouse)
        now = floor_hour(clock())
        hours = [inserted_at(h) for h in iter_hours(now - LATE_DATA_WINDOW - ONE_HOUR, now - ONE_HOUR)]
        requests = []
        for table, key in targets.items():
            problems: dict[str, str] = {}
            for hour, late in late_objects(runtime, table, hours, problems).items():
                digest = hashlib.sha1("\n".join(o.key for o in late).encode()).hexdigest()[:16]
                requests.append(
                    dg.RunRequest(
                        run_key=f"late:{table}:{hour}:{digest}",
                        partition_key=partition_key(hour_of_inserted_at(hour)),
                        asset_selection=[key],
                    )
                )
            for hour, reason in problems.items():  # reported, and the other hours go on
                context.log.warning(f"{table} hour {hour} is not checked for late objects: {reason}")
        if not requests:
            return dg.SensorResult(skip_reason="no late objects in compacted hours")
        return dg.SensorResult(run_requests=requests)

    return sensor
