"""The code location `dg dev` and `dagster dev` load: everything in the defs folder."""

import warnings
from pathlib import Path

import dagster as dg

from dw_platform.orchestration.asset_keys import warehouse_names
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import check_one_stack_per_warehouse

# Dagster itself passes SensorDefinition's beta `owners` when it binds resources to a sensor's job
# (the generator's, the seed's); the warning would repeat in every process's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    # Names of one stack set for the code location must not be shared by several warehouses.
    check_one_stack_per_warehouse(warehouse_names(loaded), Settings.from_env())
    return loaded
