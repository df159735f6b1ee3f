"""Development event generator: every minute, sample events into every streaming table.

It runs as a sensor that sends and launches no run (a run a minute would be most of a dev
instance's history and CPU); the `event_generator` job sends one batch on demand (launchpad).
"""

import math
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.delivery.events import sample_events
from dw_platform.orchestration.asset_keys import definition_name
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime import settings
from dw_platform.runtime.backends import Runtime

GENERATOR_INTERVAL_S = 60


class GeneratorConfig(dg.Config):
    # The launchpad's defaults: the settings' (DW_GENERATOR_*), as the sensor's.
    events_per_table: int = settings.default("generator_events_per_minute")
    malformed_ratio: float = settings.default("generator_malformed_ratio")


def malformed_in_minute(minute: int, events: int, ratio: float) -> int:
    """Malformed records among the `events` of the batch of epoch minute `minute`: the share is kept
    over time, so a share below one record per batch still shows (0.05 % of 100: one every 20 min)."""
    expected = events * ratio  # malformed per batch, on average (1e-9: a product just under an integer)
    return math.floor((minute + 1) * expected + 1e-9) - math.floor(minute * expected + 1e-9)


def send_sample_batch(
    runtime: Runtime,
    tables: Sequence[str],
    config: GeneratorConfig,
    now: datetime,
    log: Callable[[str], None],
) -> int:
    """One batch of sample events per table; returns the events sent."""
    minute = int(now.timestamp() // 60)
    malformed = malformed_in_minute(minute, config.events_per_table, config.malformed_ratio)
    ratio = malformed / config.events_per_table if config.events_per_table else 0.0
    sent = 0
    for table in tables:
        records, _ = sample_events(
            config.events_per_table, now, malformed_ratio=ratio, seed=random.getrandbits(64)
        )
        log(runtime.events.send(table, records).line)
        sent += len(records)
    return sent


def event_generator(
    warehouse: ServerlessDataWarehouse,
    config: GeneratorConfig,
    default_status: dg.DefaultSensorStatus,
) -> tuple[dg.JobDefinition, dg.SensorDefinition]:
    tables = [t.name for t in warehouse.tables_of(TableKind.STREAMING)]

    op_name = definition_name(warehouse, "send_sample_events")

    @dg.op(
        name=op_name, description=f"Send sample events to {', '.join(tables)} through their delivery streams."
    )
    def send_sample_events(
        context: dg.OpExecutionContext, config: GeneratorConfig, warehouse_resource: WarehouseResource
    ) -> None:
        runtime = warehouse_resource.runtime(warehouse)
        send_sample_batch(runtime, tables, config, datetime.now(UTC), context.log.info)

    @dg.job(
        name=definition_name(warehouse, "event_generator"),
        description="One batch of sample events: into the lake (local) or the Kinesis streams (AWS).",
    )
    def generator_job() -> None:
        send_sample_events()

    @dg.sensor(
        name=definition_name(warehouse, "event_generator_sensor"),
        minimum_interval_seconds=GENERATOR_INTERVAL_S,
        default_status=default_status,
        description=(
            f"Development only: every minute, {config.events_per_table} sample events into each of "
            f"{', '.join(tables)} ({config.malformed_ratio:.2%} malformed), sent by the sensor itself "
            "(no run)."
        ),
    )
    def generator_sensor(
        context: dg.SensorEvaluationContext, warehouse_resource: WarehouseResource
    ) -> dg.SkipReason:
        runtime = warehouse_resource.runtime(warehouse)
        sent = send_sample_batch(runtime, tables, config, datetime.now(UTC), context.log.debug)
        return dg.SkipReason(f"sent {sent} sample events to {', '.join(tables)} (no run needed)")

    return generator_job, generator_sensor
