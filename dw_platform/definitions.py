"""The code location `dagster dev` loads (see [tool.dagster] in pyproject.toml)."""

from dw_platform.analytics_dw import analytics_dw
from dw_platform.defs.definitions import build_definitions
from dw_platform.settings import Settings

defs = build_definitions(analytics_dw, Settings.from_env())
