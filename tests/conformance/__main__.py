"""`python -m tests.conformance [--verbose] [--category C]`: pass / refused / failed / wrong per category.

On a fresh local warehouse by default; with DW_CONFORMANCE_ATHENA=1 (and DW_PROFILE=aws, AWS
credentials and a provisioned stack) the same cases run on Athena, so the expectations themselves
can be checked against the real engine.
"""

import argparse
import dataclasses
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.conformance.runner import athena_query, athena_requested, judge, load_cases, local_query, report


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance")
    parser.add_argument("--verbose", action="store_true", help="list every wrong and failed case")
    parser.add_argument("--category", action="append", help="only these categories")
    args = parser.parse_args()
    cases = [c for c in load_cases() if not args.category or c.category in args.category]
    if athena_requested():
        query = athena_query(Runtime.from_settings(analytics_dw, Settings.from_env()).athena)
        outcomes = [judge(case, query) for case in cases]
    else:
        with tempfile.TemporaryDirectory() as home:
            settings = dataclasses.replace(
                Settings.from_env({}),
                home=Path(home) / "dw",
                partitions_start=datetime(2026, 1, 1, tzinfo=UTC),
            )
            runtime = Runtime.from_settings(analytics_dw, settings)
            sync_catalog(runtime)
            query = local_query(runtime.engine)
            outcomes = [judge(case, query) for case in cases]
    print(report(outcomes, verbose=args.verbose))
    return 1 if any(o.outcome == "wrong" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
