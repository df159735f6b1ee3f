"""Development event generator: every minute, sample events into every streaming table.

The `event_generator` job sends: one batch a minute for `minutes` minutes from `start` (a visible
run; from the launchpad, one batch now). Its sensor only decides: one run per block of
GENERATOR_RUN_MINUTES minutes (a run a minute would be most of a dev instance's history and CPU).
"""

import math
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.delivery.events import sample_events
from dw_platform.orchestration.asset_keys import definition_name
from dw_platform.orchestration.clock import Clock, utc_now
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime import settings
from dw_platform.runtime.backends import Runtime

GENERATOR_INTERVAL_S = 60
# Minutes of batches per run: 2 runs an hour (each run's event log is a fixed ~0.3 MiB locally)
GENERATOR_RUN_MINUTES = 30
ONE_MINUTE = timedelta(minutes=1)


class GeneratorConfig(dg.Config):
    # The launchpad's defaults: the settings' (DW_GENERATOR_*), as the sensor's.
    events_per_table: int = settings.default("generator_events_per_minute")
    malformed_ratio: float = settings.default("generator_malformed_ratio")
    # The first minute (ISO 8601; empty: the minute the run starts) and how many minutes of batches.
    start: str = ""
    minutes: int = 1


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
        # Locally the batch lands in `now`'s hour (a test's clock); Kinesis/Firehose set their own.
        arrival = now if runtime.events.controls_arrival else None
        log(runtime.events.send(table, records, arrival=arrival).line)
        sent += len(records)
    return sent


def batch_minutes(start: datetime, minutes: int, now: datetime) -> list[datetime]:
    """The minutes of a run's batches still to send at `now`: a minute that has already ended (the
    run started late) is left out, so two runs never send for one minute."""
    first = start.replace(second=0, microsecond=0)
    return [m for m in (first + i * ONE_MINUTE for i in range(minutes)) if m + ONE_MINUTE > now]


def send_batches(
    runtime: Runtime,
    tables: Sequence[str],
    config: GeneratorConfig,
    clock: Clock,
    log: Callable[[str], None],
) -> int:
    """One batch per table at the start of each of the run's minutes (waiting for it); the events sent."""
    now = clock()
    start = datetime.fromisoformat(config.start) if config.start else now
    sent = 0
    for minute in batch_minutes(start, config.minutes, now):
        wait = (minute - clock()).total_seconds()
        if wait > 0:
            time.sleep(wait)
        sent += send_sample_batch(runtime, tables, config, max(minute, clock()), log)
    return sent


def event_generator(
    warehouse: ServerlessDataWarehouse,
    config: GeneratorConfig,
    default_status: dg.DefaultSensorStatus,
    clock: Clock = utc_now,
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
        sent = send_batches(runtime, tables, config, clock, context.log.info)
        context.log.info(f"sent {sent} sample events to {', '.join(tables)}")

    @dg.job(
        name=definition_name(warehouse, "event_generator"),
        description="Sample events a minute: into the lake (local) or the Kinesis streams (AWS).",
    )
    def generator_job() -> None:
        send_sample_events()

    @dg.sensor(
        name=definition_name(warehouse, "event_generator_sensor"),
        minimum_interval_seconds=GENERATOR_INTERVAL_S,
        job=generator_job,
        default_status=default_status,
        description=(
            f"Development only: {config.events_per_table} sample events a minute into each of "
            f"{', '.join(tables)} ({config.malformed_ratio:.2%} malformed), sent by one "
            f"`event_generator` run per {GENERATOR_RUN_MINUTES} minutes."
        ),
    )
    def generator_sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest:
        now = clock()
        block = now.replace(minute=now.minute - now.minute % GENERATOR_RUN_MINUTES, second=0, microsecond=0)
        run_config = config.model_copy(
            update={"start": block.isoformat(), "minutes": GENERATOR_RUN_MINUTES}
        ).model_dump()
        # One run per block (run keys are de-duplicated): a restart within a block adds none.
        return dg.RunRequest(
            run_key=f"{block:%Y-%m-%dT%H:%M}",
            run_config={"ops": {op_name: {"config": run_config}}},
        )

    return generator_job, generator_sensor
