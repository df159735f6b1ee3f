"""kill -9 of a compaction while it writes its version: the partial folder is never taken for a
version (not by registration, not by `dw catalog rebuild`), and cleanup later removes it while the
hour keeps every row."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.layout import hour_root
from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour
from dw_platform.operations.compaction.rewrite import RewriteOptions
from dw_platform.operations.compaction.versions import hour_versions
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

HOUR = "2026/03/01/10"
ARRIVAL = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
SMALL = CompactionOptions(rewrite=RewriteOptions(target_file_bytes=40_000, row_group_rows=500))

# The compaction in its own process, killed (SIGKILL) as it opens its second output file.
CRASHING_COMPACTION = textwrap.dedent(
    """
    import os, signal, sys
    from dw_platform.defs.analytics_dw.warehouse import analytics_dw
    from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour
    from dw_platform.operations.compaction.rewrite import RewriteOptions
    from dw_platform.lake.store import Lake
    from dw_platform.runtime.backends import Runtime
    from dw_platform.runtime.settings import Settings

    opened = []
    original = Lake.open_output

    def open_output(self, key):
        opened.append(key)
        if len(opened) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, key)

    Lake.open_output = open_output
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env())
    # One writer: the first file is whole before the second opens, whatever the machine's load.
    options = CompactionOptions(
        rewrite=RewriteOptions(target_file_bytes=40_000, row_group_rows=500, writers=1)
    )
    compact_hour(runtime, "clicks", sys.argv[1], options)
    """
)


def count(env: dict[str, str]) -> int:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dw_platform.cli.main",
            "query",
            f"SELECT count(*) AS n FROM clicks WHERE inserted_at = '{HOUR}'",
            "--format",
            "json",
        ],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)[0]["n"]


def test_a_compaction_killed_while_writing_leaves_a_folder_nobody_mistakes_for_a_version(
    settings: Settings, tmp_path: Path
) -> None:
    runtime = Runtime.from_settings(analytics_dw, settings)
    records, _ = sample_events(3000, ARRIVAL, seed=7)
    deliver(runtime, "clicks", records, arrival=ARRIVAL, batches=12)
    register_hours(runtime, "clicks", [HOUR], with_stats=False)
    env = {**os.environ, "DW_HOME": str(settings.home), "DAGSTER_HOME": str(tmp_path / "dagster")}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_COMPACTION, HOUR], env=env, timeout=300, capture_output=True
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    [partial] = hour_versions(runtime.lake, "clicks", HOUR)
    assert partial.objects and not partial.complete, partial
    assert count(env) == 3000

    catalog = settings.catalog_path("analytics_dw")
    for path in catalog.parent.glob(f"{catalog.name}*"):
        path.unlink()
    rebuilt = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", "catalog", "rebuild", "--json"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert rebuilt.returncode == 0, rebuilt.stdout.decode() + rebuilt.stderr.decode()
    [clicks] = [h for h in json.loads(rebuilt.stdout)["hours"] if h["table"] == "clicks"]
    assert (clicks["source"], clicks["problem"]) == ("raw", "")
    assert count(env) == 3000

    later = datetime.now(UTC) + timedelta(hours=2)
    report = compact_hour(runtime, "clicks", HOUR, SMALL)
    assert report.status == "compacted", report
    compact_hour(runtime, "clicks", HOUR, SMALL, now=later)  # raw objects and the partial folder go
    versions = hour_versions(runtime.lake, "clicks", HOUR)
    assert [v.complete for v in versions] == [True], versions
    assert {o.key.split("/")[-2] for o in runtime.lake.list_objects(hour_root("clicks", HOUR))} == {
        versions[0].location.split("/")[-2]
    }
    assert count(env) == 3000
