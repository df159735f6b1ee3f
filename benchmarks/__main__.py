"""Every benchmark, one after the other, each in its own process; writes the report (`make bench`).

python -m benchmarks [--output docs/benchmarks.md] [--only delivery compaction ...]
"""

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks.common import Section, run_module

# In report order; each entry's command line is the section's own `command`.
SECTIONS = (
    "delivery",
    "compaction",
    "backfill",
    "postgres_backfill",
    "registration",
    "cost_growth",
    "freshness",
    "query",
    "engine_speed",
    "cli_startup",
)
PACKAGES = ("dagster", "pyarrow", "duckdb", "boto3", "moto")


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line
        ]
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, {versions}"
    )


def run(name: str) -> Section:
    print(f"benchmarks.{name} ...", file=sys.stderr, flush=True)
    section = Section.from_dict(run_module(f"benchmarks.{name}", "--json"))
    print(f"benchmarks.{name}: {section.seconds:.0f} s", file=sys.stderr, flush=True)
    return section


# Sections measured on their own (they take an hour), kept as they are when the report is rewritten.
KEPT_TITLES = ("Dev instance steady state",)


def kept_sections(previous: str) -> list[str]:
    """The KEPT_TITLES sections of an earlier report, each from its heading to the next heading."""
    kept = []
    for title in KEPT_TITLES:
        start = previous.find(f"## {title}\n")
        if start < 0:
            continue
        end = previous.find("\n## ", start + 1)
        pointer = previous.find("\nFor 1 billion events a day", start + 1)
        ends = [e for e in (end, pointer) if e >= 0]
        kept.append(previous[start : min(ends) if ends else len(previous)].rstrip() + "\n")
    return kept


def report(sections: list[Section], seconds: float, kept: list[str] | None = None) -> str:
    summary = ["| section | figure | measured | ratio | target | met |", "|---|---|---|---|---|---|"]
    for section in sections:
        for row in section.rows:
            if row.met is not None:
                met = "yes" if row.met else "**no**"
                cells = (section.title, row.figure, row.measured, row.ratio, row.target, met)
                summary.append("| " + " | ".join(cells) + " |")
    return "\n".join(
        [
            "# Benchmarks",
            "",
            "Written by `make bench` (`python -m benchmarks`): scripts in `benchmarks/`, not tests. Each row "
            "is a figure, the baseline measured in the same run on the same machine and input, their "
            "ratio, the target, how noisy the runs were (spread: (max - min) / median) and the peak "
            "resident memory of the process that did the work. Any section runs on its own with the "
            "command above its table.",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}. The whole run took "
            f"{seconds / 60:.1f} minutes. The machine is shared and noisy: compare spreads before "
            "reading much into a few percent.",
            "",
            "## Targets",
            "",
            *summary,
            "",
            *(section.markdown() + "\n" for section in sections),
            *(text + "\n" for text in kept or []),
            "For 1 billion events a day and beyond, which this machine cannot hold, see "
            "[scaling.md](scaling.md).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, help="write the report here (default: print it)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args()
    start = time.perf_counter()
    sections = [run(name) for name in (args.only or SECTIONS)]
    previous = args.output.read_text() if args.output and args.output.exists() else ""
    text = report(sections, time.perf_counter() - start, kept_sections(previous))
    if args.output:
        args.output.write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)


if __name__ == "__main__":
    main()
