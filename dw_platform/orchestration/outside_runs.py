"""Telling Dagster what a `dw` command recomputed outside its runs.

`dw catalog rebuild` and `dw replay` recompute the batch tables' hours whose inputs they changed
(operations.dependents). Each recomputed hour is then recorded on the Dagster instance as a runless
materialization of its partition, with the metadata a run would have given it, so the UI shows the
numbers the table holds rather than those of the partition's last run (which no schedule redoes for
a closed hour). The replay job, a Dagster run itself, logs the same materializations in its run.
"""

from collections.abc import Mapping, Sequence

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.lake.hours import hour_of_inserted_at, partition_key
from dw_platform.operations.batch_tables import BatchHourResult
from dw_platform.orchestration.asset_keys import table_asset_key
from dw_platform.orchestration.asset_metadata import PARTITION_ROW_COUNT

RECOMPUTED_BY = "dw/recomputed_by"


def batch_hour_metadata(result: BatchHourResult) -> dict[str, object]:
    """A batch table partition's metadata, as its asset and these records report it."""
    return {
        "inserted_at": result.inserted_at,
        "rows": result.rows,
        PARTITION_ROW_COUNT: result.rows,
        "bytes": result.bytes,
        **result.metrics,
    }


def recomputed_materializations(
    warehouse: ServerlessDataWarehouse, results: Mapping[str, Sequence[BatchHourResult]], command: str
) -> list[dg.AssetMaterialization]:
    """One materialization per recomputed hour, of its batch table's partition."""
    return [
        dg.AssetMaterialization(
            asset_key=table_asset_key(warehouse, table),
            partition=partition_key(hour_of_inserted_at(result.inserted_at)),
            description=f"recomputed by {command} (its inputs changed outside a run of this asset)",
            metadata={**batch_hour_metadata(result), RECOMPUTED_BY: command},
        )
        for table, hours in results.items()
        for result in hours
    ]


def record_recomputed(
    instance: dg.DagsterInstance,
    warehouse: ServerlessDataWarehouse,
    results: Mapping[str, Sequence[BatchHourResult]],
    command: str,
) -> int:
    """Record each recomputed hour on `instance`, outside any run; returns how many."""
    events = recomputed_materializations(warehouse, results, command)
    for event in events:
        instance.report_runless_asset_event(event)
    return len(events)
