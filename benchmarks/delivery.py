"""Local delivery throughput: NDJSON records in, Parquet objects and error records out (the local
stand-in for Kinesis + Firehose), against a bare pyarrow `read_json` + `write_table` of the same
bytes into a file on the same disk. Each side runs in its own process, so each peak RSS is its own.

    python -m benchmarks.delivery [--events 200000] [--repeats 5]
"""

import argparse
import dataclasses
import io
import json
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

from benchmarks.common import Row, Section, peak_rss_mib, run_module, run_section, spread, timed
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

ARRIVAL = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
ERROR_SHARE = 0.001  # the error-rate check's warning threshold


def worker(kind: str, events: int, repeats: int, malformed_ratio: float) -> None:
    """In a child process: one warm-up, then `repeats` timed runs; prints the times and peak RSS."""
    records, malformed = sample_events(events, ARRIVAL, malformed_ratio=malformed_ratio, seed=1)
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        if kind == "platform":
            settings = dataclasses.replace(Settings.from_env({}), home=home)
            runtime = Runtime.from_settings(analytics_dw, settings)

            def run() -> None:
                summary = deliver(runtime, "impressions", records, arrival=ARRIVAL)
                assert (summary.delivered, summary.errors) == (events - malformed, malformed)

        else:
            ndjson = b"\n".join(records) + b"\n"
            schema = pa.schema([(c.name, pa.string()) for c in analytics_dw.table("impressions").columns])
            options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")

            def run() -> None:
                table = pajson.read_json(io.BytesIO(ndjson), parse_options=options)
                pq.write_table(table, home / "bare.parquet", compression="snappy")
                assert table.num_rows == events

        run()  # warm-up: imports, allocator, page cache
        _, times = timed(run, repeats)
    print(json.dumps({"times": times, "peak_rss_mib": peak_rss_mib()}))


def run_worker(kind: str, events: int, repeats: int, malformed_ratio: float = 0.0) -> dict:
    return run_module(
        "benchmarks.delivery",
        *("--worker", kind, "--events", str(events), "--repeats", str(repeats)),
        *("--malformed-ratio", str(malformed_ratio)),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=200_000, help="events per delivery (one flush)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", choices=["platform", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--malformed-ratio", type=float, default=0.0, help=argparse.SUPPRESS)


def measure(args: argparse.Namespace) -> Section:
    bare = run_worker("bare", args.events, args.repeats)
    clean = run_worker("platform", args.events, args.repeats)
    dirty = run_worker("platform", args.events, args.repeats, ERROR_SHARE)
    bare_rates = [args.events / t for t in bare["times"]]
    bare_rate = statistics.median(bare_rates)
    rows = []
    for label, result, target in (
        ("local delivery, valid events", clean, 0.7),
        (f"local delivery, {ERROR_SHARE:.1%} malformed (isolated as error records)", dirty, None),
    ):
        rates = [args.events / t for t in result["times"]]
        rate = statistics.median(rates)
        rows.append(
            Row(
                figure=f"{label}, events/s",
                measured=f"{rate:,.0f}",
                baseline=f"pyarrow read_json + write_table {bare_rate:,.0f}",
                ratio=f"{rate / bare_rate:.2f}x",
                target=f">= {target}x" if target else "-",
                met=None if target is None else rate / bare_rate >= target,
                spread=f"{spread(rates)} / {spread(bare_rates)}",
                peak_mib=result["peak_rss_mib"],
            )
        )
    rows.append(
        Row("bare pyarrow peak RSS", f"{bare['peak_rss_mib']:,.0f} MiB", "-", "-", "-", None, "-", None)
    )
    return Section(
        title="Local delivery",
        command="python -m benchmarks.delivery --events 200000 --repeats 5",
        rows=rows,
        notes=[
            f"{args.events:,} sample events (about 140 bytes each) in one flush; medians of {args.repeats} "
            "runs after a warm-up; each side in its own process. The baseline cannot take the malformed "
            "input at all (pyarrow refuses the whole buffer), so both platform rows are compared with it "
            "on the valid bytes.",
            "The platform does what the baseline does plus Firehose's rules: it screens the whole flush "
            "with byte operations (one flat object per line, no `\\u` escapes, UTF-8, size limit), parses "
            "in pyarrow's strict mode (every key exactly a column name) and writes the object "
            "atomically (temporary + rename) and a ledger entry. It receives a list of records, as "
            "Kinesis delivers them, and joins them into one buffer; the baseline is handed that buffer.",
            "With malformed records the flush-wide checks find the records at fault, the rest is still "
            "parsed by pyarrow in one call, and only those records go through the record-by-record "
            "converter (Firehose's error codes and messages).",
        ],
    )


if __name__ == "__main__":
    run_section(
        __doc__,
        add_arguments,
        measure,
        lambda args: worker(args.worker, args.events, args.repeats, args.malformed_ratio),
    )
