"""Development event generator: every minute, sample events into every streaming table."""

import random
from datetime import UTC, datetime

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.delivery.events import sample_events
from dw_platform.orchestration.asset_keys import definition_name
from dw_platform.orchestration.resources import WarehouseResource


class GeneratorConfig(dg.Config):
    events_per_table: int = 100
    malformed_ratio: float = 0.01


def event_generator(
    warehouse: ServerlessDataWarehouse,
    config: GeneratorConfig,
    default_status: dg.DefaultScheduleStatus,
) -> tuple[dg.JobDefinition, dg.ScheduleDefinition]:
    tables = [t.name for t in warehouse.tables_of(TableKind.STREAMING)]

    op_name = definition_name(warehouse, "send_sample_events")

    @dg.op(
        name=op_name, description=f"Send sample events to {', '.join(tables)} through their delivery streams."
    )
    def send_sample_events(
        context: dg.OpExecutionContext, config: GeneratorConfig, warehouse_resource: WarehouseResource
    ) -> None:
        runtime = warehouse_resource.runtime(warehouse)
        now = datetime.now(UTC)
        for table in tables:
            records, _ = sample_events(
                config.events_per_table,
                now,
                malformed_ratio=config.malformed_ratio,
                seed=random.getrandbits(64),
            )
            context.log.info(runtime.events.send(table, records).line)

    @dg.job(
        name=definition_name(warehouse, "event_generator"),
        description="Sample events for development: into the lake (local) or the Kinesis streams (AWS).",
    )
    def generator_job() -> None:
        send_sample_events()

    schedule = dg.ScheduleDefinition(
        name=definition_name(warehouse, "event_generator_schedule"),
        job=generator_job,
        cron_schedule="* * * * *",
        execution_timezone="UTC",
        default_status=default_status,
        run_config=dg.RunConfig(ops={op_name: config}),
    )
    return generator_job, schedule
