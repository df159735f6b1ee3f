import dataclasses
import os
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import DAGSTER_ENV, Settings

# The AWS emulator fixtures (moto_endpoint, aws_endpoint) and the PostgreSQL ones (postgres, postgres_url).
pytest_plugins = ["tests.aws_emulator", "tests.postgres_server"]

REPO = Path(__file__).resolve().parent.parent
ChildPatch = Callable[[dict[str, str], str], dict[str, str]]


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


@pytest.fixture
def child_patch(tmp_path: Path) -> ChildPatch:
    """`patch(env, code)`: `env` for a child process (a real `dw`) that runs `code` when Python starts,
    as a `sitecustomize` module first on its PYTHONPATH. How a test puts a fault or a bug into a child
    (replacing a function there) without a hook in production code."""
    count = 0

    def patch(env: dict[str, str], code: str) -> dict[str, str]:
        nonlocal count
        count += 1
        folder = tmp_path / f"child-patch-{count}"
        folder.mkdir()
        (folder / "sitecustomize.py").write_text(textwrap.dedent(code))
        path = [str(folder), str(REPO), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        return {**env, "PYTHONPATH": os.pathsep.join(path)}

    return patch
