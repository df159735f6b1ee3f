"""Recording on the Dagster instance at DAGSTER_HOME (the one `dw backfill` runs on) the batch hours a
command recomputed outside Dagster's runs (orchestration.outside_runs)."""

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dw_platform.runtime.settings import ensure_dagster_home

if TYPE_CHECKING:
    from dw_platform.declaration.warehouse import ServerlessDataWarehouse
    from dw_platform.operations.batch_tables import BatchHourResult


def record_recomputed_hours(
    warehouse: "ServerlessDataWarehouse", results: Mapping[str, Sequence["BatchHourResult"]], command: str
) -> None:
    """Record them; if the instance cannot be written, say so on stderr: the tables are right
    already, only the UI's record of them is behind (exit status unchanged)."""
    if not any(results.values()):
        return  # Dagster (and its start-up time) only when there is something to record
    from dw_platform.orchestration.instance import open_instance
    from dw_platform.orchestration.outside_runs import record_recomputed

    try:
        instance = open_instance(Path(os.environ["DAGSTER_HOME"]), ensure_dagster_home)
        record_recomputed(instance, warehouse, results, command)
    except Exception as error:  # the work is done and right: a record it could not write is a note
        print(
            f"{command}: the recomputed hours are right in the lake, but the Dagster instance could not "
            f"record them ({' '.join(str(error).split()) or type(error).__name__}); "
            "the UI shows their last run's numbers until they are materialized again",
            file=sys.stderr,
        )
