"""One Dagster run in its own process, as a run worker does it: the assets given (user strings such as
analytics_dw/clicks_compacted) over an inclusive range of partition keys, on the instance at
DAGSTER_HOME, for the warehouse at DW_HOME. Prints the run's id and whether it succeeded.

    python -m tests.dagster_run_worker FIRST_KEY LAST_KEY ASSET [ASSET ...]
"""

import json
import sys

import dagster as dg

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.settings import Settings


def main() -> None:
    first, last, *assets = sys.argv[1:]
    defs = build_definitions(analytics_dw, Settings.from_env())
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey.from_user_string(a) for a in assets],
            tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
            raise_on_error=False,
        )
    print(json.dumps({"run_id": result.run_id, "success": result.success}))


if __name__ == "__main__":
    main()
