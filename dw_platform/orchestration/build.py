"""Everything Dagster runs, derived from a warehouse declaration and the deployment settings."""

import functools

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.orchestration.batch_assets import batch_asset
from dw_platform.orchestration.clock import Clock, utc_now
from dw_platform.orchestration.compaction_assets import (
    compaction_asset,
    compaction_schedule,
    late_objects_sensor,
)
from dw_platform.orchestration.dev_history import dev_history
from dw_platform.orchestration.generator import GeneratorConfig, event_generator
from dw_platform.orchestration.partitions import closed_hours
from dw_platform.orchestration.registration_assets import registration_asset, registration_sensor
from dw_platform.orchestration.replay_job import replay_job
from dw_platform.orchestration.resources import ProvisioningResource, WarehouseResource
from dw_platform.orchestration.static_assets import infrastructure_asset, static_table_asset
from dw_platform.runtime.settings import Settings


def build_definitions(
    warehouse: ServerlessDataWarehouse, settings: Settings, clock: Clock = utc_now
) -> dg.Definitions:
    """The warehouse's assets, checks, schedules, sensors and resources under `settings`; sensors
    decide and assets run by `clock` (a test's fixed time). Building them writes nothing."""
    warehouse = warehouse.deployed(is_dev=settings.is_dev)
    resources = deployment_resources(settings)
    local = settings.profile == "local"
    sensor_status = dg.DefaultSensorStatus.RUNNING
    schedule_status = dg.DefaultScheduleStatus.RUNNING
    generator_status = dg.DefaultSensorStatus.RUNNING if local else dg.DefaultSensorStatus.STOPPED

    infrastructure = infrastructure_asset(warehouse)
    assets: list[dg.AssetsDefinition] = [infrastructure]
    sensors: list[dg.SensorDefinition] = []
    schedules: list[dg.ScheduleDefinition] = []
    streaming = warehouse.tables_of(TableKind.STREAMING)
    compacted: dict[str, dg.AssetKey] = {}
    registrations: dict[str, dg.AssetKey] = {}
    hourly: list[dg.AssetKey] = []  # every hourly asset: what a dev instance's seeded history runs
    for spec in streaming:
        registration = registration_asset(warehouse, spec, settings, infrastructure.key, clock)
        registrations[spec.name] = registration.key
        hourly.append(registration.key)
        assets.append(registration)
        if spec.streaming and spec.streaming.projection_start:
            continue  # Athena ignores registered locations under projection: nothing to switch to
        compaction = compaction_asset(warehouse, spec, settings, registration.key, clock)
        assets.append(compaction)
        hourly.append(compaction.key)
        compacted[spec.name] = compaction.key
    for spec in warehouse.tables:
        if spec.kind is TableKind.STREAMING:
            continue
        if spec.kind is TableKind.BATCH:
            # Follows its inputs' hours through its automation condition (batch_assets.follows_inputs).
            asset = batch_asset(warehouse, spec, settings, infrastructure.key, compacted, clock)
            hourly.append(asset.key)
        elif spec.seed_file is not None:
            asset = static_table_asset(warehouse, spec, infrastructure.key)
        else:
            continue  # a plain table filled from outside: its catalog entry comes with the infrastructure
        assets.append(asset)

    jobs: list[dg.JobDefinition] = [replay_job(warehouse)]
    if streaming:
        sensors.append(
            registration_sensor(warehouse, streaming, settings, registrations, hourly, sensor_status, clock)
        )
        if local and settings.seed_hours > 0:
            seed_job, seed_sensor = dev_history(warehouse, settings, sensor_status, clock)
            jobs.append(seed_job)
            sensors.append(seed_sensor)
    generator_job, generator_sensor = event_generator(
        warehouse,
        GeneratorConfig(
            events_per_table=settings.generator_events_per_minute,
            malformed_ratio=settings.generator_malformed_ratio,
        ),
        generator_status,
        clock,
    )
    jobs.append(generator_job)
    if compacted:
        closed = closed_hours(settings.partitions_start)  # the compaction assets' partitions
        schedules.append(
            compaction_schedule(warehouse, settings, list(compacted.values()), closed, schedule_status, clock)
        )
        compactable = [spec for spec in streaming if spec.name in compacted]
        sensors.append(late_objects_sensor(warehouse, compactable, sensor_status, clock))
    # The assets that carry an automation condition: the catalog, the static tables and the batch
    # tables (which follow their inputs over the recent hours only: evaluated every tick).
    automated = [a.key for a in assets if any(a.automation_conditions_by_key.values())]
    automation = dg.AutomationConditionSensorDefinition(
        f"{warehouse.name}_automation",
        target=dg.AssetSelection.assets(*automated),
        default_status=sensor_status,
    )
    return dg.Definitions(
        # Local profile: a run's steps in its own process, one after the other (a process per step
        # costs seconds of CPU each, most of a dev instance's); `dw backfill` runs in-process too.
        executor=dg.in_process_executor if local else None,
        assets=assets,
        jobs=jobs,
        schedules=schedules,
        sensors=[*sensors, generator_sensor, automation],
        resources=resources,
    )


@functools.cache
def deployment_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The resources of a deployment, the same objects for every warehouse it runs (Dagster merges
    the definitions of two warehouses only if their resources are the very same)."""
    resource = WarehouseResource.from_settings(settings)
    return {"warehouse_resource": resource, "provisioning": ProvisioningResource(warehouse_settings=resource)}
