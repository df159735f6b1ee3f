"""Helpers shared by the benchmark scripts (scripts, not tests: `make bench`, or python -m benchmarks.X).

Each script measures one section: rows of figure, the baseline measured in the same run on the same
input, their ratio, the target, how noisy the runs were and the peak memory of the process that did
the work. `python -m benchmarks` runs every section and writes docs/benchmarks.md.
"""

import argparse
import dataclasses
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any


def timed(function: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    """Median wall time of `repeats` runs, and every run's time."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mib() -> float:
    """The largest peak resident memory of any child process waited for so far."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def spread(values: list[float]) -> str:
    """How noisy the runs were: (max - min) / median."""
    if len(values) < 2:
        return "1 run"
    return f"{(max(values) - min(values)) / statistics.median(values):.0%}"


@dataclasses.dataclass
class Row:
    figure: str
    measured: str
    baseline: str  # what it is compared with, measured in the same run ("-" when nothing is)
    ratio: str
    target: str
    met: bool | None  # None: no target
    spread: str  # ours / baseline
    peak_mib: float | None


@dataclasses.dataclass
class Section:
    title: str
    command: str
    rows: list[Row]
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def markdown(self) -> str:
        lines = [
            f"## {self.title}",
            "",
            "```bash",
            self.command,
            "```",
            "",
            "| figure | measured | baseline (same run) | ratio | target | met | spread (ours / baseline) "
            "| peak RSS |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            met = {True: "yes", False: "**no**", None: "-"}[row.met]
            peak = "-" if row.peak_mib is None else f"{row.peak_mib:,.0f} MiB"
            lines.append(
                f"| {row.figure} | {row.measured} | {row.baseline} | {row.ratio} | {row.target} | {met} "
                f"| {row.spread} | {peak} |"
            )
        lines.append("")
        lines += [f"- {note}" for note in self.notes]
        lines.append(f"\nSection measured in {self.seconds:.0f} s.")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Section":
        return cls(**{**data, "rows": [Row(**row) for row in data["rows"]]})


def run_module(module: str, *arguments: str) -> Any:
    """Run `python -m module arguments` in a child process (its peak memory is its own) and return
    the JSON of the last line it prints."""
    output = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", module, *arguments],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_section(
    description: str | None,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    measure: Callable[[argparse.Namespace], Section],
    worker: Callable[[argparse.Namespace], None] | None = None,
) -> None:
    """The `main` of a benchmark script: parse its options, measure, print the section as Markdown
    (or, with --json, as one JSON line for `python -m benchmarks`). A script that measures in child
    processes declares a hidden `--worker` option: with it, `worker` runs instead."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the section as JSON")
    args = parser.parse_args()
    if worker is not None and args.worker:
        worker(args)
        return
    start = time.perf_counter()
    section = measure(args)
    section.seconds = time.perf_counter() - start
    print(section.to_json() if args.json else section.markdown())
