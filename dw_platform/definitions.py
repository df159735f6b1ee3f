"""The code location `dg dev` and `dagster dev` load: everything in the defs folder. `dw` loads the
same (dw_platform/cli/project.py): this and the defs folder are where definitions are assembled."""

import warnings
from pathlib import Path

import dagster as dg

from dw_platform.orchestration.asset_keys import warehouse_names
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import check_one_stack_per_warehouse

# Dagster itself passes SensorDefinition's beta `owners` when it binds resources to a sensor's job
# (the generator's, the seed's); the warning would repeat in every process's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
# Dagster marks its own loading of a defs folder's Python modules as preview: not ours to act on.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def project_tree() -> dg.ComponentTree:
    """The project's component tree, from its [tool.dg] configuration (as `dg dev` finds it)."""
    return dg.ComponentTree.for_project(path_within_project=Path(__file__).parent)


def build_project(tree: dg.ComponentTree) -> dg.Definitions:
    loaded = tree.build_defs()
    # Names of one stack set for the code location must not be shared by several warehouses.
    check_one_stack_per_warehouse(warehouse_names(loaded), Settings.from_env())
    return loaded


@dg.definitions
def defs() -> dg.Definitions:
    return build_project(project_tree())
