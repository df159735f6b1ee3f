"""Seconds from starting `dagster dev` on a fresh local warehouse until the UI shows materialized
partitions of every hourly asset (registration, compacted, aggregates) and every asset check green;
the first start seeds a few closed hours and runs every hourly asset over them on its own.

    python -m benchmarks.dev_startup [--limit 300]
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.dev_steady_state import free_port
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.orchestration.backfill import hourly_asset_keys
from dw_platform.runtime.settings import DAGSTER_ENV, ensure_dagster_home

QUERY = (
    "{ assetNodes { assetKey { path } partitionStats { numMaterialized numPartitions } "
    "assetChecksOrError { ... on AssetChecks { checks { name "
    "executionForLatestMaterialization { status } } } } } }"
)
TARGET_S = 180


def ui_state(port: int) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Per partitioned asset (materialized, partitions), and per asset check its latest status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        nodes = json.load(response)["data"]["assetNodes"]
    partitions, checks = {}, {}
    for node in nodes:
        name = "/".join(node["assetKey"]["path"])
        if node["partitionStats"]:
            stats = node["partitionStats"]
            partitions[name] = (stats["numMaterialized"], stats["numPartitions"])
        for check in (node.get("assetChecksOrError") or {}).get("checks", []):
            latest = check["executionForLatestMaterialization"]
            checks[f"{name}:{check['name']}"] = latest["status"] if latest else "none"
    return partitions, checks


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--limit", type=int, default=300, help="give up after this many seconds")
    args = parser.parse_args()
    port = args.port or free_port()
    wanted = {key.to_user_string() for key in hourly_asset_keys(analytics_dw)}
    repo = Path(__file__).resolve().parents[1]
    partitions: dict[str, tuple[int, int]] = {}
    checks: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as home:
        ensure_dagster_home(Path(home) / "dagster")
        env = {
            **os.environ,
            "DW_HOME": home,
            "DAGSTER_HOME": f"{home}/dagster",
            **DAGSTER_ENV,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
        }
        dagster = Path(sys.executable).parent / "dagster"
        start = time.monotonic()
        process = subprocess.Popen(
            [str(dagster), "dev", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def done() -> bool:
            filled = all(partitions.get(name, (0, 0))[0] > 0 for name in wanted)
            return filled and bool(checks) and all(status == "SUCCEEDED" for status in checks.values())

        try:
            while time.monotonic() - start < args.limit and not done():
                time.sleep(5)
                try:
                    partitions, checks = ui_state(port)
                except OSError:
                    continue  # the webserver is still starting
            elapsed = time.monotonic() - start
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=90)
            # A loaded machine, or what it left behind (code servers, runs): nothing stays running.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    state = "every hourly asset materialized, every check green" if done() else "not all there"
    filled = ", ".join(f"{name} {m}/{n}" for name, (m, n) in sorted(partitions.items()))
    print(
        f"dagster dev -> {state} after {elapsed:.0f} s (target: < {TARGET_S} s)\n"
        f"partitions materialized: {filled}\nchecks: {json.dumps(checks, sort_keys=True)}"
    )


if __name__ == "__main__":
    main()
