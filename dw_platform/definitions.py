"""The code location `dagster dev` loads (see [tool.dagster] in pyproject.toml)."""

import warnings

import dagster as dg

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.orchestration.build import build_definitions
from dw_platform.runtime.settings import Settings

# Single-run backfill policies are marked beta; the warning would repeat in every process's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

defs = build_definitions(analytics_dw, Settings.from_env())
