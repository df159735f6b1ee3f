"""Per streaming table: the hourly registration asset and the sensor that registers hours as data lands."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.lake.hours import floor_hour, inserted_at, iter_hours
from dw_platform.lake.layout import hour_folder
from dw_platform.operations.error_rates import ERROR, OK, ErrorRateVerdict, judge_error_rates
from dw_platform.operations.registration import register_hours
from dw_platform.orchestration.asset_keys import definition_name, table_asset_key
from dw_platform.orchestration.partitions import BACKFILL_POLICY, open_hours, range_run_request, run_hours
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.settings import Settings

# Firehose retries S3 delivery for up to 24 hours, so objects can land in an hour that long after it.
LATE_DATA_WINDOW = timedelta(hours=24)
SENSOR_INTERVAL_S = 30
ERROR_RATE_CHECK = "error_rate"


def registration_asset(
    warehouse: ServerlessDataWarehouse, spec: TableSpec, settings: Settings, upstream: dg.AssetKey
) -> dg.AssetsDefinition:
    options = spec.streaming
    if options is None:
        raise ValueError(f"table {spec.name!r} is not a streaming table")

    @dg.asset(
        key=table_asset_key(warehouse, spec.name),
        check_specs=[
            dg.AssetCheckSpec(
                ERROR_RATE_CHECK,
                asset=table_asset_key(warehouse, spec.name),
                description="Share of records isolated as errors per hour of the run: WARN above "
                f"{options.error_rate_warn:.2%}, ERROR above {options.error_rate_error:.2%}",
            )
        ],
        partitions_def=open_hours(settings.partitions_start),
        backfill_policy=BACKFILL_POLICY,
        deps=[upstream],
        kinds={"parquet", "firehose"},
        group_name=warehouse.name,
        description=(
            f"Streaming table `{spec.name}`: Firehose delivers Parquet objects into hourly folders "
            f"`{spec.prefix}YYYY/MM/DD/HH/`; each partition registers that hour in the catalog."
        ),
    )
    def register(
        context: dg.AssetExecutionContext, warehouse_resource: WarehouseResource
    ) -> dg.MaterializeResult:
        hours = run_hours(context)
        runtime = warehouse_resource.runtime(warehouse)
        report = register_hours(runtime, spec.name, [h for _, h in hours])
        for (key, _), stats in zip(hours, report.hours, strict=True):
            metadata: dict[str, object] = {
                "inserted_at": stats.inserted_at,
                "rows": stats.rows,
                "objects": stats.objects,
                "bytes": stats.bytes,
                "error_records": stats.error_records,
                "error_rate": stats.error_rate,
            }
            if stats.ledger is not None:  # the local delivery's own count of what it was sent
                metadata |= {"sent": stats.ledger.records, "reconciled": bool(stats.reconciled)}
            context.add_asset_metadata(partition_key=key, metadata=metadata)
        context.log.info(f"registered {len(hours)} hours of {spec.name} ({report.created} new partitions)")
        verdict = judge_error_rates(runtime.lake, spec, report.hours)
        return dg.MaterializeResult(
            metadata={"hours_in_run": len(hours), "partitions_created": report.created},
            check_results=[error_rate_check_result(verdict)],
        )

    return register


def error_rate_check_result(verdict: ErrorRateVerdict) -> dg.AssetCheckResult:
    """One result per run, judged by its worst hour; every hour's rate is also in the partition's
    materialization metadata (`error_rate`), where the UI plots it."""
    return dg.AssetCheckResult(
        check_name=ERROR_RATE_CHECK,
        passed=verdict.level == OK,
        severity=dg.AssetCheckSeverity.ERROR if verdict.level == ERROR else dg.AssetCheckSeverity.WARN,
        metadata={
            "worst_hour": verdict.worst_hour or "",
            "worst_error_rate": verdict.worst_rate,
            "hours_over_warn": len(verdict.hours_over_warn),
            "hours_over_error": len(verdict.hours_over_error),
            "hours_over_error_list": dg.MetadataValue.json(list(verdict.hours_over_error)),
            "top_errors": dg.MetadataValue.md(
                "\n".join(
                    ["| code | message | records |", "|---|---|---|"]
                    + [
                        f"| {code} | {message.replace('|', '/')} | {count} |"
                        for code, message, count in verdict.top_errors
                    ]
                )
            ),
        },
    )


def hours_to_register(
    object_counts: dict[str, int], registered: set[str], requested: dict[str, int]
) -> list[str]:
    """Hours with data that are unregistered or whose object count changed since last requested."""
    return sorted(
        hour
        for hour, count in object_counts.items()
        if count > 0 and (hour not in registered or requested.get(hour) != count)
    )


def registration_sensor(
    warehouse: ServerlessDataWarehouse,
    spec: TableSpec,
    settings: Settings,
    asset: dg.AssetsDefinition,
    default_status: dg.DefaultSensorStatus,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=definition_name(warehouse, f"{spec.name}_registration_sensor"),
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        asset_selection=[asset.key],
        default_status=default_status,
        description=(
            f"Registers hours of {spec.name} as objects land (including late objects up to "
            f"{int(LATE_DATA_WINDOW.total_seconds() // 3600)} h old), refreshing their metadata."
        ),
    )
    def sensor(context: dg.SensorEvaluationContext, warehouse_resource: WarehouseResource) -> dg.SensorResult:
        runtime = warehouse_resource.runtime(warehouse)
        now = datetime.now(UTC)
        first = max(floor_hour(now) - LATE_DATA_WINDOW, floor_hour(settings.partitions_start))
        hours = {inserted_at(h): h for h in iter_hours(first, floor_hour(now))}
        counts = {value: len(runtime.lake.list_objects(hour_folder(spec.name, value))) for value in hours}
        registered = {
            p.values[0]
            for p in runtime.catalog.get_partitions(runtime.database, spec.name, [(v,) for v in hours])
        }
        requested: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        due = hours_to_register(counts, registered, requested)
        cursor = {h: c for h, c in {**requested, **counts}.items() if h in hours}
        if not due:
            return dg.SensorResult(skip_reason="no new objects", cursor=json.dumps(cursor))
        # Run keys are de-duplicated forever: the same state is requested once, but an hour still
        # unregistered (its run failed) is requested again every 10 minutes.
        retry_bucket = int(now.timestamp() // 600) if any(h not in registered for h in due) else None
        state = json.dumps({"hours": {h: counts[h] for h in due}, "retry": retry_bucket}, sort_keys=True)
        run_key = hashlib.sha1(state.encode()).hexdigest()
        request = range_run_request([hours[h] for h in due], run_key=run_key, asset_key=asset.key)
        return dg.SensorResult(run_requests=[request], cursor=json.dumps(cursor))

    return sensor
