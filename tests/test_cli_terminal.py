"""`dw` as it starts and as it shows itself: what a command imports (start-up time, issue 12), the
exit status and one line a failure becomes, and progress bars on a terminal only (issue 13)."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from dw_platform.catalog.sync import sync_catalog
from dw_platform.cli.main import describe_failure
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.kinesis_producer import KinesisPutError
from dw_platform.delivery.sending import deliver
from dw_platform.errors import DwError, UnknownTableError, UserInputError
from dw_platform.operations.registration import register_hours
from dw_platform.query.sql import QueryError
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from dw_platform.state_files import StateError
from tests.dw_process import dw, dw_env, dw_on_terminal

# Packages a command that does not need them must not pay for: seconds of start-up between them.
HEAVY = ("dagster", "boto3", "botocore", "pandas", "sqlalchemy")

IMPORTS_OF = """
import json, sys
from dw_platform.cli.main import main
loaded = {}
for args in (["--help"], ["status", "--json"], ["query", "SELECT 1 AS n"]):
    before = set(sys.modules)
    try:
        main(args)
    except SystemExit:  # --help
        pass
    loaded[args[0]] = sorted({m.split(".")[0] for m in set(sys.modules) - before})
print(json.dumps(loaded))
"""


@pytest.mark.e2e
def test_help_status_and_query_import_neither_dagster_nor_boto3_nor_pandas(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF], env=dw_env(tmp_path), capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    loaded = json.loads(result.stdout.decode().splitlines()[-1])
    for command, packages in loaded.items():
        assert not set(HEAVY) & set(packages), (command, sorted(set(HEAVY) & set(packages)))
    assert "duckdb" not in loaded["--help"] and "pyarrow" not in loaded["--help"]


QUERY_MODULES = """
import json, sys
from dw_platform.cli.main import main
main(["query", "--json", "SELECT 1 AS n"])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("dw_platform."))))
"""


@pytest.mark.e2e
def test_query_imports_no_delivery_nor_batch_machinery(tmp_path: Path) -> None:
    """Every module is paid for at each `dw query`'s start (issue 24): a query needs the declaration,
    the catalog, the lake and the engine, not Firehose's conversion, Kinesis or the batch jobs' runner
    (the declaration names the jobs, which only annotate with the batch context)."""
    result = subprocess.run(
        [sys.executable, "-c", QUERY_MODULES], env=dw_env(tmp_path), capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    loaded = json.loads(result.stdout.decode().splitlines()[-1])
    unneeded = [m for m in loaded if m.startswith(("dw_platform.delivery", "dw_platform.operations"))]
    assert unneeded == []
    assert "dw_platform.catalog.sync" not in loaded


QUERY_OVER_THE_LAKE = """
import json, sys
from dw_platform.query.engine import DuckDBEngine
translated = []
translate = DuckDBEngine.translate
DuckDBEngine.translate = lambda self, sql: translated.append(sql) or translate(self, sql)
from dw_platform.cli.main import main
main(["query", "--json", sys.argv[1]])
print(json.dumps({"translated": len(translated), "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


@pytest.mark.e2e
def test_a_query_over_the_lake_translates_once_and_never_imports_arrow(tmp_path: Path) -> None:
    """Each `dw query` pays its imports and its translation (issue 24): the statement is translated
    once (the plan it prints and the query it runs come from one translation), and an answer of
    plain types is fetched without pyarrow and numpy (about 0.15 s of CPU to import)."""
    env = dw_env(tmp_path)
    runtime = Runtime.from_settings(analytics_dw, Settings.from_env(env))
    sync_catalog(runtime)
    arrival = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    deliver(runtime, "impressions", sample_events(200, arrival, seed=1)[0], arrival=arrival)
    register_hours(runtime, "impressions", ["2026/03/01/10"])
    sql = (
        "SELECT date_trunc('hour', from_iso8601_timestamp(event_time)) AS hour, count(*) AS n "
        "FROM impressions WHERE inserted_at = '2026/03/01/10' GROUP BY 1 ORDER BY 1"
    )
    result = subprocess.run(
        [sys.executable, "-c", QUERY_OVER_THE_LAKE, sql], env=env, capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    *answer, found = result.stdout.decode().splitlines()
    assert sum(r["n"] for r in json.loads(answer[-1])) == 200
    assert result.stderr.decode().startswith("reads impressions: 1 partition")
    found = json.loads(found)
    assert found["translated"] == 1
    assert not {"pyarrow", "numpy", "pandas"} & set(found["loaded"]), found["loaded"]


def test_failures_become_one_line_with_their_exit_status() -> None:
    """2: refused (bad input, a state or stack unfit for the command); 1: the work failed; a bug (not
    a DwError, even a ValueError or KeyError) is not dressed up as bad input (its traceback is the report)."""
    aws = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "DescribeStream")
    cases = {
        UserInputError("bad hour"): 2,
        QueryError("cannot parse query: unexpected '1' at line 1, column 7"): 2,
        StateError("DW_HOME /x cannot be written"): 2,
        UnknownTableError("warehouse 'analytics_dw' has no table 'x'"): 2,
        aws: 2,
        KinesisPutError("3 records were not accepted"): 1,
        DwError("the run failed"): 1,
    }
    for error, status in cases.items():
        found = describe_failure(error)
        assert found is not None and found[0] == status, (error, found)
        assert "\n" not in found[1] and not found[1].startswith("'")
    for bug in (RuntimeError("a bug"), KeyError("x"), ValueError("not a user's mistake")):
        assert describe_failure(bug) is None, bug  # dw writes its traceback (tests/test_cli_errors.py)
    assert describe_failure(KeyboardInterrupt()) == (130, "interrupted")


@pytest.mark.e2e
def test_a_long_send_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    send = ("send", "impressions", "--count", "10000", "--batches", "4", "--arrival", "2026-03-01T10:05:00Z")
    status, shown = dw_on_terminal(env, *send)
    assert status == 0 and "send impressions" in shown and "%|" in shown, shown
    assert "impressions: sent 10,000, delivered 10,000, errors 0, in 4 objects" in shown
    status, shown = dw_on_terminal(env, *send, "--json")
    assert status == 0 and "%|" not in shown and json.loads(shown.strip())["sent"] == 10_000
    piped = dw(env, *send)
    assert piped.stderr == b"" and piped.stdout.decode().startswith("impressions: sent 10,000")
