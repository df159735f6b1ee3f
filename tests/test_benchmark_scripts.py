"""The benchmark scripts still run (at toy sizes, so no figure here means anything): `make bench`
must not find a broken script after a change. Nothing is timed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import SECTIONS
from benchmarks.common import Section

REPO = Path(__file__).resolve().parents[1]

TOY_SIZES = {
    "delivery": ["--events", "2000", "--repeats", "1"],
    "compaction": ["--rows", "60000", "--hours", "3", "--rows-per-object", "10", "--repeats", "1"],
    "backfill": ["--hours", "3", "--events-per-hour", "100", "--sample", "1"],
    "postgres_backfill": [
        *("--hours", "1", "--events-per-hour", "20", "--sample", "1"),
        *("--year-hours", "2", "--year-events-per-hour", "4", "--chunk-hours", "1", "--queries", "1"),
    ],
    "registration": ["--hours", "150", "--repeats", "1"],
    "cost_growth": ["--events-per-hour", "8", "--repeats", "1"],
    "freshness": ["--events", "20", "--repeats", "1"],
    "query": ["--events-per-hour", "20", "--repeats", "1", "--baseline", "none"],
    "engine_speed": ["--hours", "2", "--events-per-hour", "200", "--repeats", "1"],
    "cli_startup": ["--events-per-hour", "20", "--repeats", "1", "--baseline", "none"],
}


def test_every_section_has_toy_sizes() -> None:
    assert set(TOY_SIZES) == set(SECTIONS)


@pytest.mark.e2e
@pytest.mark.parametrize("name", SECTIONS)
def test_benchmark_section_runs_and_reports_rows(name: str) -> None:
    output = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", f"benchmarks.{name}", *TOY_SIZES[name], "--json"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    section = Section.from_dict(json.loads(output.strip().splitlines()[-1]))
    assert section.rows and section.command.startswith(f"python -m benchmarks.{name}")
    assert all(row.measured for row in section.rows)
    assert section.markdown().startswith(f"## {section.title}")


@pytest.mark.e2e
def test_scaling_model_prints_both_scales() -> None:
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.scaling_model"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    assert "| shards_packed | 9.00 | 87.00 |" in output
