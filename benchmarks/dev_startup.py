"""Seconds from starting `dagster dev` on a fresh local warehouse until the UI shows materialized
partitions of every streaming table (the generator, sensors and schedules run on their own).

    python -m benchmarks.dev_startup [--port 3333] [--limit 300]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from dw_platform.declaration.warehouse import TableKind
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.runtime.settings import ensure_dagster_home

QUERY = (
    "{ assetsOrError { ... on AssetConnection { nodes { key { path } "
    "assetMaterializations(limit: 1) { partition } } } } }"
)


def materialized(port: int) -> set[str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        nodes = json.load(response)["data"]["assetsOrError"]["nodes"]
    return {"/".join(n["key"]["path"]) for n in nodes if n["assetMaterializations"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=3333)
    parser.add_argument("--limit", type=int, default=300, help="give up after this many seconds")
    args = parser.parse_args()
    wanted = {f"{analytics_dw.name}/{t.name}" for t in analytics_dw.tables_of(TableKind.STREAMING)}
    with tempfile.TemporaryDirectory() as home:
        ensure_dagster_home(Path(home) / "dagster")
        env = {**os.environ, "DW_HOME": home, "DAGSTER_HOME": f"{home}/dagster"}
        dagster = Path(sys.executable).parent / "dagster"
        start = time.monotonic()
        process = subprocess.Popen(
            [str(dagster), "dev", "--host", "127.0.0.1", "--port", str(args.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            seen: set[str] = set()
            while time.monotonic() - start < args.limit and not wanted <= seen:
                time.sleep(5)
                try:
                    seen = materialized(args.port)
                except OSError:
                    continue  # the webserver is still starting
            elapsed = time.monotonic() - start
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    state = "all streaming tables materialized" if wanted <= seen else f"only {sorted(seen)}"
    print(f"dagster dev -> {state} after {elapsed:.0f} s (target: < 180 s); materialized: {sorted(seen)}")


if __name__ == "__main__":
    main()
