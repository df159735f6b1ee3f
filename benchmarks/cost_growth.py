"""Cost growth: the bytes one hourly aggregate reads when its input tables hold 24 hours, and when
they hold 720. An hourly job's cost (Athena bills bytes scanned) must not grow with the table's age.

    python -m benchmarks.cost_growth [--events-per-hour 10000] [--repeats 5]
"""

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from benchmarks.backfill import FIRST_HOUR, make_hours
from benchmarks.common import Row, Section, peak_rss_mib, run_section, spread
from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import TableKind
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.hours import ONE_HOUR, inserted_at
from dw_platform.operations.batch_tables import BatchContext
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

AGES = (24, 720)
AGGREGATES = ("aggregates", "aggregates_by_event_time")


@dataclasses.dataclass(frozen=True)
class MeteredContext(BatchContext):
    """A batch job's context that notes the bytes each of its queries scans."""

    scanned: list[int] = dataclasses.field(default_factory=list)

    def query(self, sql: str) -> pa.Table:
        result = self.runtime.engine.query(sql)
        self.scanned.append(result.bytes_scanned)
        return result.table


def one_hour_cost(runtime: Runtime, table: str, hour: str, repeats: int) -> tuple[int, list[float]]:
    """Bytes scanned by the job computing `hour` of `table`, and the run times."""
    spec = analytics_dw.table(table)
    assert spec.batch is not None
    scanned, times = 0, []
    for _ in range(repeats):
        context = MeteredContext(analytics_dw, spec, (hour,), runtime)
        start = time.perf_counter()
        spec.batch.job(context)
        times.append(time.perf_counter() - start)
        scanned = sum(context.scanned)
    return scanned, times


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events-per-hour", type=int, default=10_000, help="per table")
    parser.add_argument("--repeats", type=int, default=5)


def measure(args: argparse.Namespace) -> Section:
    # The hour computed: the first of the last day, so that the lateness window (24 hours after it,
    # for counts by event time) holds data at both ages.
    results: dict[tuple[str, int], tuple[int, list[float]]] = {}
    for age in AGES:
        with tempfile.TemporaryDirectory() as home:
            settings = Settings.from_env({"DW_HOME": str(Path(home) / "dw")})
            runtime = Runtime.from_settings(analytics_dw, settings)
            make_hours(runtime, age, args.events_per_hour, objects_per_hour=4)
            sync_catalog(runtime)
            hours = [inserted_at(FIRST_HOUR + index * ONE_HOUR) for index in range(age)]
            for spec in analytics_dw.tables_of(TableKind.STREAMING):
                register_hours(runtime, spec.name, hours, with_stats=False)
            for table in AGGREGATES:
                results[table, age] = one_hour_cost(runtime, table, hours[-24], args.repeats)
    rows = []
    for table in AGGREGATES:
        (young, young_times), (old, old_times) = results[table, AGES[0]], results[table, AGES[1]]
        rows.append(
            Row(
                f"`{table}`, one hour, inputs {AGES[1]} hours old: bytes scanned",
                f"{old:,} ({statistics.median(old_times) * 1000:.0f} ms)",
                f"inputs {AGES[0]} hours old: {young:,} ({statistics.median(young_times) * 1000:.0f} ms)",
                f"{old / young:.2f}",
                "<= 1.1",
                old / young <= 1.1,
                f"{spread(old_times)} / {spread(young_times)}",
                peak_rss_mib(),
            )
        )
    return Section(
        title="Cost growth of an hourly job",
        command=f"python -m benchmarks.cost_growth --events-per-hour {args.events_per_hour} "
        f"--repeats {args.repeats}",
        rows=rows,
        notes=[
            f"Both streaming tables hold {AGES[0]} or {AGES[1]} registered hours of {args.events_per_hour:,} "
            "events in 4 objects each. Bytes are what the query plan reads (the objects of the partitions "
            "its `inserted_at` predicates allow), the figure Athena bills. `aggregates` reads one arrival "
            "hour per input; `aggregates_by_event_time` reads the hour and the 24 after it (its lateness "
            "window), at any table age.",
            "The partition predicate is what keeps the cost flat; the query guard rail refuses a query "
            "on a partitioned table that does not bound its key (`FullScanRefused`).",
        ],
    )


if __name__ == "__main__":
    run_section(__doc__, add_arguments, measure)
