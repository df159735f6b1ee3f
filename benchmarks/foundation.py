"""Foundation figures: `dw demo` wall time, and local delivery throughput against bare pyarrow.

python -m benchmarks.foundation [--events 200000] [--repeats 3]
"""

import argparse
import dataclasses
import io
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

from benchmarks.common import peak_rss_mib, spread, timed
from dw_platform.analytics_dw import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.runtime import Runtime
from dw_platform.sending import deliver
from dw_platform.settings import Settings

ARRIVAL = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


def demo_seconds(repeats: int) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as home:
        command = [sys.executable, "-m", "dw_platform.cli.main", "demo", "--home", f"{home}/demo"]
        return timed(lambda: subprocess.run(command, check=True, capture_output=True), repeats)


def delivery_rates(events: int, repeats: int) -> tuple[float, float, list[float], list[float]]:
    records, _ = sample_events(events, ARRIVAL, seed=1)
    ndjson = b"\n".join(records) + b"\n"
    schema = pa.schema([(c.name, pa.string()) for c in analytics_dw.table("impressions").columns])

    def platform() -> None:
        with tempfile.TemporaryDirectory() as home:
            settings = dataclasses.replace(Settings.from_env({}), home=Path(home))
            summary = deliver(
                Runtime.from_settings(analytics_dw, settings), "impressions", records, arrival=ARRIVAL
            )
            assert summary.delivered == events

    def baseline() -> None:
        options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        table = pajson.read_json(io.BytesIO(ndjson), parse_options=options)
        pq.write_table(table, io.BytesIO(), compression="snappy")
        assert table.num_rows == events

    platform_s, platform_runs = timed(platform, repeats)
    baseline_s, baseline_runs = timed(baseline, repeats)
    return events / platform_s, events / baseline_s, platform_runs, baseline_runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    demo_s, demo_runs = demo_seconds(args.repeats)
    ours, bare, our_runs, bare_runs = delivery_rates(args.events, args.repeats)
    print("| figure | measured | baseline | ratio | target | spread |")
    print("|---|---|---|---|---|---|")
    print(
        f"| `dw demo` (3 h x 1,000 events x 2 tables) | {demo_s:.1f} s | - | - | < 60 s "
        f"| {spread(demo_runs)} |"
    )
    print(
        f"| local delivery, NDJSON -> Parquet + errors | {ours:,.0f} events/s | {bare:,.0f} events/s "
        f"(pyarrow read_json + write_table) | {ours / bare:.2f}x | (issue 6: >= 0.7x) | "
        f"{spread(our_runs)} / {spread(bare_runs)} |"
    )
    print(f"\npeak RSS of this process: {peak_rss_mib():.0f} MiB; medians of {args.repeats} runs")


if __name__ == "__main__":
    main()
