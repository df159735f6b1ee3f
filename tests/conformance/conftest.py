import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """A fresh local warehouse with its catalog: the engine the conformance cases run on."""
    home = tmp_path_factory.mktemp("conformance")
    settings = dataclasses.replace(
        Settings.from_env({}), home=Path(home) / "dw", partitions_start=datetime(2026, 1, 1, tzinfo=UTC)
    )
    runtime = Runtime.from_settings(analytics_dw, settings)
    sync_catalog(runtime)
    return runtime
