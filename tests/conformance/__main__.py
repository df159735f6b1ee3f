"""`python -m tests.conformance [--verbose] [--category C]`: pass / refused / failed / wrong per category."""

import argparse
import dataclasses
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from dw_platform.analytics_dw import analytics_dw
from dw_platform.runtime import Runtime
from dw_platform.settings import Settings
from dw_platform.tables import sync_catalog
from tests.conformance.runner import judge, load_cases, local_query, report


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance")
    parser.add_argument("--verbose", action="store_true", help="list every wrong and failed case")
    parser.add_argument("--category", action="append", help="only these categories")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = dataclasses.replace(
            Settings.from_env({}), home=Path(home) / "dw", partitions_start=datetime(2026, 1, 1, tzinfo=UTC)
        )
        runtime = Runtime.from_settings(analytics_dw, settings)
        sync_catalog(runtime)
        query = local_query(runtime.engine)
        cases = [c for c in load_cases() if not args.category or c.category in args.category]
        outcomes = [judge(case, query) for case in cases]
    print(report(outcomes, verbose=args.verbose))
    return 1 if any(o.outcome == "wrong" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
