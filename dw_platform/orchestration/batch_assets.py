"""Per batch table: an hourly asset running the declared job over closed hours, which follows its
inputs through its automation condition (declared here, once)."""

import math
from datetime import timedelta

import dagster as dg

from dw_platform.declaration.warehouse import DeclarationError, ServerlessDataWarehouse, TableKind, TableSpec
from dw_platform.lake.hours import ONE_HOUR
from dw_platform.operations.batch_tables import inputs_settle_delay, run_batch_hours
from dw_platform.operations.settling import settle_delay
from dw_platform.orchestration.asset_keys import table_asset_key
from dw_platform.orchestration.asset_metadata import (
    asset_tags,
    describe_numbers,
    hourly_freshness,
    owners,
    table_metadata,
)
from dw_platform.orchestration.clock import Clock, utc_now
from dw_platform.orchestration.outside_runs import batch_hour_metadata
from dw_platform.orchestration.partitions import BACKFILL_POLICY, closed_hours, run_hours
from dw_platform.orchestration.registration_assets import LATE_DATA_WINDOW
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.settings import Settings

# Tables with hourly assets (partitioned by arrival hour), whose hours a batch table's hours map to.
HOURLY_KINDS = (TableKind.STREAMING, TableKind.BATCH)


def input_hours(warehouse: ServerlessDataWarehouse, spec: TableSpec) -> dg.TimeWindowPartitionMapping:
    """The input (arrival) hours a partition of the table is computed from: the same hour; for a table
    by event time (`lateness_hours`), from the hours its events can arrive in before it (the inputs'
    flush interval and the clock skew) to `lateness_hours` after it."""
    batch = spec.batch_options()
    if not batch.lateness_hours:
        return dg.TimeWindowPartitionMapping()
    early = settle_delay(warehouse, batch.inputs) + timedelta(minutes=batch.clock_skew_minutes)
    return dg.TimeWindowPartitionMapping(
        start_offset=-math.ceil(early / ONE_HOUR),
        end_offset=batch.lateness_hours,
        allow_nonexistent_upstream_partitions=True,  # the hours after the latest have not begun
    )


def follows_inputs(
    warehouse: ServerlessDataWarehouse, spec: TableSpec, settings: Settings, infrastructure: dg.AssetKey
) -> dg.AutomationCondition:
    """An hour is recomputed once any input hour it reads was (re)materialized and no input is in
    progress: the registration sensor's refresh of a closed, settled hour; its compaction; a
    re-compaction for late objects. The latest closed hour waits until its inputs have settled (the
    minute the hourly schedule used to run at), so no run fails on a still-filling hour. Only the
    hours late objects or a compaction can still reach are evaluated (the daemon evaluates this every
    tick); a declared cron batches the recomputations to its ticks."""
    batch = spec.batch_options()
    inputs = dg.AssetSelection.all() - dg.AssetSelection.assets(infrastructure)
    # The oldest input hour a run can still change (a late object, the compaction lag), the event
    # hours it holds (lateness) and the hour in progress.
    reach = max(LATE_DATA_WINDOW, (settings.compaction_lag_hours + 1) * ONE_HOUR) + ONE_HOUR
    window = reach + (batch.lateness_hours + 2) * ONE_HOUR
    settled_minute = math.ceil(inputs_settle_delay(warehouse, spec) / timedelta(minutes=1)) + 1
    if settled_minute > 59:
        raise DeclarationError(f"{spec.name}: its inputs settle after the next hour has ended")
    # From the hour's end to the settled minute (stated this way round, a first evaluation, which
    # sees no cron tick pass, takes the hour as settled rather than waiting an hour).
    settling = dg.AutomationCondition.cron_tick_passed("0 * * * *", "UTC").since(
        dg.AutomationCondition.cron_tick_passed(f"{settled_minute} * * * *", "UTC")
    )
    trigger = dg.AutomationCondition.any_deps_updated().allow(inputs).since_last_handled()
    if batch.schedule is not None:
        trigger = (
            trigger & dg.AutomationCondition.cron_tick_passed(batch.schedule, "UTC").since_last_handled()
        )
    return (
        dg.AutomationCondition.in_latest_time_window(window)
        & ~(dg.AutomationCondition.in_latest_time_window() & settling)
        & trigger
        & ~dg.AutomationCondition.any_deps_in_progress().allow(inputs)
        & ~dg.AutomationCondition.in_progress()
    ).with_label(f"follows {', '.join(batch.inputs)}")


def batch_asset(
    warehouse: ServerlessDataWarehouse,
    spec: TableSpec,
    settings: Settings,
    infrastructure: dg.AssetKey,
    compacted: dict[str, dg.AssetKey],
    clock: Clock = utc_now,
) -> dg.AssetsDefinition:
    """`compacted` maps input tables to their compaction assets: an hour follows its registration and
    its compaction (which may remove duplicates or fold in late objects)."""
    batch = spec.batch_options()
    mapping = input_hours(warehouse, spec)
    hourly = [name for name in batch.inputs if warehouse.table(name).kind in HOURLY_KINDS]
    inputs = [table_asset_key(warehouse, name) for name in batch.inputs if name not in hourly]
    hourly_inputs = [table_asset_key(warehouse, name) for name in hourly]
    hourly_inputs += [compacted[name] for name in hourly if name in compacted]
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
        deps=[
            infrastructure,
            *inputs,
            *(dg.AssetDep(key, partition_mapping=mapping) for key in hourly_inputs),
        ],
        automation_condition=follows_inputs(warehouse, spec, settings, infrastructure),
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
        results = run_batch_hours(
            warehouse_resource.runtime(warehouse), spec.name, [h for _, h in hours], now=clock()
        )
        for (key, _), result in zip(hours, results, strict=True):
            context.add_asset_metadata(partition_key=key, metadata=batch_hour_metadata(result))
        return dg.MaterializeResult(metadata={"hours_in_run": len(hours)})

    return compute
