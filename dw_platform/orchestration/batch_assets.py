"""Per batch table: an hourly asset running the declared job over closed hours, and its schedule."""

from datetime import UTC, datetime

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.lake.hours import ONE_HOUR, floor_hour, iter_hours, partition_key
from dw_platform.operations.batch_tables import batch_cron, inputs_settle_delay, run_batch_hours
from dw_platform.orchestration.asset_keys import definition_name, table_asset_key
from dw_platform.orchestration.asset_metadata import (
    asset_tags,
    describe_numbers,
    hourly_freshness,
    owners,
    table_metadata,
)
from dw_platform.orchestration.outside_runs import batch_hour_metadata
from dw_platform.orchestration.partitions import BACKFILL_POLICY, closed_hours, range_run_request, run_hours
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.settings import Settings


def batch_asset(
    warehouse: ServerlessDataWarehouse,
    spec: TableSpec,
    settings: Settings,
    upstream: dg.AssetKey,
    compacted: dict[str, dg.AssetKey],
) -> dg.AssetsDefinition:
    """`compacted` maps input tables to their compaction assets: an hour is recomputed after its
    compaction (which may remove duplicates or fold in late objects)."""
    batch = spec.batch_options()
    inputs = [table_asset_key(warehouse, name) for name in batch.inputs]
    inputs += [compacted[name] for name in batch.inputs if name in compacted]
    numbers = {
        "rows": "rows written for the hour (one per input table for the aggregates)",
        "bytes": "size of the hour's result object",
    }
    if batch.metrics is not None:
        numbers["(declared metrics)"] = f"what `{batch.metrics.__name__}` computes from the hour's rows" + (
            f": {batch.metrics.__doc__.strip()}" if batch.metrics.__doc__ else ""
        )

    @dg.asset(
        key=table_asset_key(warehouse, spec.name),
        partitions_def=closed_hours(settings.partitions_start),
        backfill_policy=BACKFILL_POLICY,
        deps=[upstream, *inputs],
        kinds={spec.data_format.lower(), "duckdb"},
        group_name=warehouse.name,
        metadata=table_metadata(spec),
        owners=owners(warehouse),
        tags=asset_tags(warehouse, spec, "batch"),
        freshness_policy=hourly_freshness(),
        description=(
            f"Batch table `{spec.name}` computed by `{batch.job.__name__}` for each closed hour "
            f"of {', '.join(batch.inputs) or 'its inputs'}; written to `{spec.prefix}YYYY/MM/DD/HH/`."
            + describe_numbers(numbers)
        ),
    )
    def compute(
        context: dg.AssetExecutionContext, warehouse_resource: WarehouseResource
    ) -> dg.MaterializeResult:
        hours = run_hours(context)
        results = run_batch_hours(warehouse_resource.runtime(warehouse), spec.name, [h for _, h in hours])
        for (key, _), result in zip(hours, results, strict=True):
            context.add_asset_metadata(partition_key=key, metadata=batch_hour_metadata(result))
        return dg.MaterializeResult(metadata={"hours_in_run": len(hours)})

    return compute


def batch_schedule(
    warehouse: ServerlessDataWarehouse,
    spec: TableSpec,
    asset: dg.AssetsDefinition,
    default_status: dg.DefaultScheduleStatus,
    partitions_start: datetime,
) -> dg.ScheduleDefinition:
    """On the declared cron, compute the last closed hour once its inputs have settled."""
    batch = spec.batch_options()
    job = dg.define_asset_job(
        definition_name(warehouse, f"{spec.name}_hourly"),
        selection=[asset.key],
        partitions_def=asset.partitions_def,
    )
    delay = inputs_settle_delay(warehouse, spec)
    lateness = batch.lateness_hours
    start = floor_hour(partitions_start)

    @dg.schedule(
        name=definition_name(warehouse, f"{spec.name}_schedule"),
        cron_schedule=batch_cron(warehouse, spec),
        job=job,
        execution_timezone="UTC",
        default_status=default_status,
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        now = context.scheduled_execution_time or datetime.now(UTC)
        hour = floor_hour(now) - ONE_HOUR
        if hour + ONE_HOUR + delay > now.astimezone(UTC):
            return dg.SkipReason(f"hour {hour:%Y/%m/%d/%H} has not settled ({int(delay.total_seconds())} s)")
        key = partition_key(hour)
        if not lateness:
            return dg.RunRequest(run_key=key, partition_key=key)
        # The hours whose rows late arrivals can still change, recomputed in one run.
        first = max(hour - lateness * ONE_HOUR, start)
        return range_run_request(iter_hours(first, hour), run_key=key, asset_keys=[asset.key])

    return schedule
