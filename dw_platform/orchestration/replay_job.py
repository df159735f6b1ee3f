"""`<warehouse>_replay_isolated_records`: `dw replay` as a Dagster job, launched from the UI's
launchpad with the table and the hours as config. The run's metadata says what was delivered,
what still fails and which hours' numbers were recomputed."""

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.lake.hours import parse_hour, parse_instant
from dw_platform.operations.replay.run import replay
from dw_platform.orchestration.asset_keys import definition_name
from dw_platform.orchestration.outside_runs import recomputed_materializations
from dw_platform.orchestration.resources import WarehouseResource


class ReplayConfig(dg.Config):
    table: str
    first_hour: str  # 2026-11-20T10, 2026-11-20-10:00 or 2026/11/20/10 (UTC)
    last_hour: str
    error_code: str | None = None
    dry_run: bool = False
    arrival: str | None = None  # local profile: simulated arrival of the replayed records


def replay_job(warehouse: ServerlessDataWarehouse) -> dg.JobDefinition:
    @dg.op(
        name=definition_name(warehouse, "replay_isolated"),
        description="Convert isolated records again with the current schema; deliver those that fit once.",
    )
    def replay_isolated(
        context: dg.OpExecutionContext, config: ReplayConfig, warehouse_resource: WarehouseResource
    ) -> dg.Output[dict]:
        report = replay(
            warehouse_resource.runtime(warehouse),
            config.table,
            parse_hour(config.first_hour),
            parse_hour(config.last_hour),
            error_code=config.error_code,
            dry_run=config.dry_run,
            arrival=parse_instant(config.arrival) if config.arrival else None,
        )
        summary = report.to_json()
        if report.numbers is not None:  # the hours it recomputed: their partitions show the new numbers
            for event in recomputed_materializations(warehouse, report.numbers.results, "the replay job"):
                context.log_event(event)
        verb = "would convert" if report.dry_run else "delivered"
        context.log.info(f"{report.table}: {verb} {report.converted}, still failing {report.still_failing}")
        metadata = {
            "isolated": report.isolated,
            "already_delivered": report.already_delivered,
            "converted": report.converted,
            "still_failing": report.still_failing,
            "rows": report.rows,
            "landed_hour": report.landed_hour or "",
            "replay": dg.MetadataValue.json(summary),
        }
        return dg.Output(summary, metadata=metadata)

    @dg.job(
        name=definition_name(warehouse, "replay_isolated_records"),
        description="dw replay: a streaming table's isolated records of some arrival hours, converted "
        "again with its current schema and delivered once through its delivery path.",
    )
    def job() -> None:
        replay_isolated()

    return job
