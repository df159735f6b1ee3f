"""A local dev instance's first start: a job that delivers a few closed hours of sample history (a
visible run), and the sensor that asks for it once per DW_HOME. The registration sensor then runs
every hourly asset over those hours (see registration_assets)."""

from datetime import datetime

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.lake.hours import floor_hour, hour_of_inserted_at, inserted_at, iter_hours
from dw_platform.operations.seeding import claim_seed, first_seeded_hour, mark_seeded, seed_history
from dw_platform.operations.settling import settle_delay
from dw_platform.orchestration.asset_keys import definition_name
from dw_platform.orchestration.clock import Clock, utc_now
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.legacy_home import seed_marker
from dw_platform.runtime.settings import Settings


class SeedConfig(dg.Config):
    first_hour: str  # inserted_at of the first and last hour seeded (YYYY/MM/DD/HH)
    last_hour: str


def seed_hours_at(warehouse: ServerlessDataWarehouse, settings: Settings, now: datetime) -> list[datetime]:
    """The `seed_hours` most recent hours closed and settled at `now`, from the partitions' start on."""
    settle = settle_delay(warehouse, [t.name for t in warehouse.tables_of(TableKind.STREAMING)])
    first = max(first_seeded_hour(now, settings.seed_hours, settle), floor_hour(settings.partitions_start))
    return list(iter_hours(first, first_seeded_hour(now, 1, settle)))


def dev_history(
    warehouse: ServerlessDataWarehouse,
    settings: Settings,
    default_status: dg.DefaultSensorStatus,
    clock: Clock = utc_now,
) -> tuple[dg.JobDefinition, dg.SensorDefinition]:
    """The seed job and its sensor (local profile with `seed_hours`)."""

    @dg.op(
        name=definition_name(warehouse, "seed_sample_history"),
        description=f"Deliver {settings.seed_events_per_hour} sample events per streaming table into "
        "each hour of the range, with simulated arrival times.",
    )
    def seed(
        context: dg.OpExecutionContext, config: SeedConfig, warehouse_resource: WarehouseResource
    ) -> None:
        hours = list(
            iter_hours(hour_of_inserted_at(config.first_hour), hour_of_inserted_at(config.last_hour))
        )
        # Marked first, so that a crash never seeds twice (the history is sample data).
        if not claim_seed(settings.home, warehouse.name, hours):
            context.log.info(f"{warehouse.name} was seeded before: nothing delivered")
            return
        runtime = warehouse_resource.runtime(warehouse)
        seeded = seed_history(
            runtime, hours, settings.seed_events_per_hour, settings.generator_malformed_ratio
        )
        mark_seeded(settings.home, warehouse.name, hours)
        context.log.info(
            f"seeded {sum(s.sent for s in seeded)} events into {len(hours)} hours of "
            f"{', '.join(sorted({s.table for s in seeded}))}"
        )

    @dg.job(
        name=definition_name(warehouse, "seed_history"),
        description="First start of a dev instance: sample history in every streaming table.",
    )
    def seed_job() -> None:
        seed()

    @dg.sensor(
        name=definition_name(warehouse, "seed_history_sensor"),
        minimum_interval_seconds=60,
        job=seed_job,
        default_status=default_status,
        description=(
            f"On a dev instance's first start (once per DW_HOME): {settings.seed_hours} closed hours of "
            "sample history, after which the registration sensor runs every hourly asset over them."
        ),
    )
    def sensor(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        if seed_marker(settings.home, warehouse.name).exists():
            return dg.SkipReason(f"{warehouse.name} is seeded in {settings.home}")
        hours = seed_hours_at(warehouse, settings, clock())
        if not hours:
            return dg.SkipReason("no closed hour after the partitions' start yet")
        first, last = inserted_at(hours[0]), inserted_at(hours[-1])
        return dg.RunRequest(
            run_key=f"seed:{first}",
            run_config={"ops": {seed.name: {"config": {"first_hour": first, "last_hour": last}}}},
        )

    return seed_job, sensor
