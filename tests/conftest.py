import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import DAGSTER_ENV, Settings

# The AWS emulator fixtures (moto_endpoint, aws_endpoint) and the PostgreSQL ones (postgres, postgres_url).
pytest_plugins = ["tests.aws_emulator", "tests.postgres_server"]


# A test that uses one of these starts a server in its own process (moto, PostgreSQL): it is `e2e`,
# whether it asks for the fixture itself or through another fixture. Tests that start `dw` or another
# platform process carry the mark themselves.
SERVER_FIXTURES = frozenset({"moto_endpoint", "aws_endpoint", "postgres", "postgres_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def dagster_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Dagster settings `dw` and the image set (planned events per range, batched materializations),
    for runs a test executes in its own process."""
    for name, value in DAGSTER_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(
        Settings.from_env({}),
        home=tmp_path / "dw",
        partitions_start=datetime(2026, 1, 1, tzinfo=UTC),
        seed_hours=0,  # a test seeds history only when it asks to
    )


@pytest.fixture
def runtime(settings: Settings) -> Runtime:
    return Runtime.from_settings(analytics_dw, settings)
