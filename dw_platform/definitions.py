"""The code location `dagster dev` loads (see [tool.dagster] in pyproject.toml)."""

import warnings

import dagster as dg

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.operations.seeding import start_dev_instance
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.settings import Settings

# Single-run backfill policies are marked beta; the warning would repeat in every process's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

# A local dev instance's partitions start on the day its data starts (remembered in DW_HOME).
defs = build_definitions(analytics_dw, start_dev_instance(analytics_dw, Settings.from_env()))
