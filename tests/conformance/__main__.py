"""`python -m tests.conformance [--suite docs|trino|all] [--verbose] [--category C] [--refusals]`:
the figures per category of the documented cases (pass / refused / failed / wrong) and of Trino's
own unit-test assertions (pass / refused / wrong / error).

On a fresh local warehouse by default; with DW_CONFORMANCE_ATHENA=1 (and DW_PROFILE=aws, AWS
credentials and a provisioned stack) the documented cases run on Athena instead, so that the
expectations themselves can be checked against the real engine.
"""

import argparse
import dataclasses
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from dw_platform.catalog.sync import sync_catalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.conformance import trino_cases
from tests.conformance.runner import athena_query, athena_requested, judge, load_cases, local_query, report


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance")
    parser.add_argument("--suite", choices=("docs", "trino", "all"), default="all")
    parser.add_argument("--verbose", action="store_true", help="list every wrong, failed and error case")
    parser.add_argument("--category", action="append", help="only these categories")
    parser.add_argument("--refusals", action="store_true", help="count the Trino cases' refusal reasons")
    args = parser.parse_args()
    if athena_requested():
        cases = [c for c in load_cases() if not args.category or c.category in args.category]
        query = athena_query(Runtime.from_settings(analytics_dw, Settings.from_env()).athena)
        outcomes = [judge(case, query) for case in cases]
        print(report(outcomes, verbose=args.verbose))
        return 1 if any(o.outcome == "wrong" for o in outcomes) else 0
    failed = False
    with tempfile.TemporaryDirectory() as home:
        settings = dataclasses.replace(
            Settings.from_env({}),
            home=Path(home) / "dw",
            partitions_start=datetime(2026, 1, 1, tzinfo=UTC),
        )
        runtime = Runtime.from_settings(analytics_dw, settings)
        sync_catalog(runtime)
        if args.suite in ("docs", "all"):
            cases = [c for c in load_cases() if not args.category or c.category in args.category]
            outcomes = [judge(case, local_query(runtime.engine)) for case in cases]
            print("Documented cases (tests/conformance/cases):")
            print(report(outcomes, verbose=args.verbose))
            failed |= any(o.outcome == "wrong" for o in outcomes)
        if args.suite in ("trino", "all"):
            shared = [
                c for c in trino_cases.load_trino_cases() if not args.category or c.category in args.category
            ]
            trino_outcomes = [trino_cases.judge(case, runtime.engine) for case in shared]
            print("\nTrino's unit-test assertions (tests/conformance/trino/cases.jsonl):")
            print(trino_cases.report(trino_outcomes, verbose=args.verbose))
            if args.refusals:
                reasons = Counter(o.detail for o in trino_outcomes if o.outcome == "refused")
                for reason, count in reasons.most_common():
                    print(f"{count:6d}  {reason}")
            failed |= any(o.outcome in ("wrong", "error") for o in trino_outcomes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
