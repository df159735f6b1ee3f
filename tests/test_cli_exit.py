"""The `dw` program ends a query without the interpreter's teardown (a tenth of a second of CPU per
query process), and that loses none of its output nor changes its exit status."""

import json
import subprocess
import sys
from pathlib import Path

from tests.dw_process import dw_env

# `dw` as the installed program runs it (the run() entry point), with an exit handler that reports
# whether the interpreter's teardown ran.
PROGRAM = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('teardown ran', file=sys.stderr))\n"
    "from dw_platform.cli.main import run\n"
    "sys.argv = ['dw', *sys.argv[1:]]\n"
    "run()\n"
)


def _dw(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *args],
        env=dw_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_query_ends_without_teardown_and_with_all_its_output(tmp_path: Path) -> None:
    sql = "SELECT x, y FROM UNNEST(sequence(1, 5000)) AS t (x) CROSS JOIN UNNEST(sequence(1, 2)) AS u (y)"
    result = _dw(tmp_path, "query", "--json", sql)
    assert result.returncode == 0, result.stderr
    assert "teardown ran" not in result.stderr
    rows = json.loads(result.stdout)  # all of it, flushed before the process ended
    assert len(rows) == 10_000 and sum(r["x"] for r in rows) == 2 * 5000 * 5001 // 2


def test_a_refused_query_keeps_its_status_and_message(tmp_path: Path) -> None:
    result = _dw(tmp_path, "query", "SELECT nosuch")
    assert result.returncode == 2
    assert result.stderr.startswith("dw query: column 'nosuch' cannot be resolved")
    assert "teardown ran" not in result.stderr


def test_other_commands_keep_the_interpreter_teardown(tmp_path: Path) -> None:
    result = _dw(tmp_path, "status", "--json")
    assert result.returncode == 0, result.stderr
    assert "teardown ran" in result.stderr
