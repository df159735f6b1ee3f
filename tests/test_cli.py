"""The `dw` command as a user runs it: real subprocesses on a fresh DW_HOME and DAGSTER_HOME."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dw_platform.lake.layout import hour_folder
from tests.dw_process import warehouse_lake

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

REPO = Path(__file__).resolve().parent.parent
HOURS = ("2026-03-01T10", "2026-03-01-11:00", "2026/03/01/12")  # every accepted spelling


def dw(
    env: dict[str, str], *args: str, input: bytes | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *args],
        env=env,
        input=input,
        capture_output=True,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"dw {' '.join(args)} failed:\n{result.stdout.decode()}\n{result.stderr.decode()}"
        )
    return result


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DW_HOME": str(tmp_path / "dw"), "DAGSTER_HOME": str(tmp_path / "dagster")}


def query_json(env: dict[str, str], sql: str) -> list[dict]:
    return json.loads(dw(env, "query", sql, "--format", "json").stdout)


@pytest.mark.slow
def test_scripted_send_backfill_query_gives_exact_counts(env: dict[str, str]) -> None:
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for index, hour in enumerate(("2026-03-01T10", "2026-03-01T11", "2026-03-01T12")):
        for table in ("impressions", "clicks"):
            count = 300 + 100 * index + (7 if table == "clicks" else 0)
            out = dw(
                env,
                "send",
                table,
                "--count",
                str(count),
                "--arrival",
                f"{hour}:15:00Z",
                "--batches",
                "4",
                "--malformed-ratio",
                "0.03",
                "--seed",
                str(index),
                "--json",
            )
            summary = json.loads(out.stdout)
            assert summary["sent"] == count and summary["objects"] == 4
            assert summary["errors"] == round(count * 0.03)
            assert summary["delivered"] + summary["errors"] == summary["sent"]
            expected[(table, hour.replace("-", "/").replace("T", "/"))] = (
                summary["delivered"],
                summary["errors"],
            )

    backfill = dw(env, "backfill", "--from", HOURS[0], "--to", HOURS[2])
    assert "backfill succeeded: 3 hours" in backfill.stdout.decode()

    aggregates = query_json(
        env,
        "SELECT event_type, time, count FROM analytics_dw.aggregates "
        "WHERE inserted_at BETWEEN '2026/03/01/10' AND '2026/03/01/12'",
    )
    assert {(r["event_type"], r["time"]): r["count"] for r in aggregates} == {
        k: v[0] for k, v in expected.items()
    }
    raw = query_json(
        env,
        "SELECT 'clicks' AS t, inserted_at, count(*) AS n FROM clicks "
        "WHERE inserted_at IN ('2026/03/01/10', '2026/03/01/11', '2026/03/01/12') GROUP BY 1, 2 "
        "UNION ALL SELECT 'impressions', inserted_at, count(*) FROM impressions "
        "WHERE inserted_at BETWEEN '2026/03/01/10' AND '2026/03/01/12' GROUP BY 1, 2",
    )
    assert {(r["t"], r["inserted_at"]): r["n"] for r in raw} == {k: v[0] for k, v in expected.items()}

    status = {s["table"]: s for s in json.loads(dw(env, "status", "--json").stdout)}
    for table in ("impressions", "clicks"):
        assert status[table]["rows"] == sum(v[0] for (t, _), v in expected.items() if t == table)
        assert status[table]["error_records"] == sum(v[1] for (t, _), v in expected.items() if t == table)
        # The backfill compacted each hour's 4 Firehose objects into one file.
        assert status[table]["partitions"] == 3 and status[table]["objects"] == 3
    hourly = json.loads(dw(env, "status", "--from", HOURS[0], "--to", HOURS[2], "--json").stdout)
    assert len(hourly) == 6 and all(h["reconciled"] for h in hourly)
    for h in hourly:
        delivered, errors = expected[(h["table"], h["inserted_at"])]
        assert (h["sent"], h["rows"], h["error_records"]) == (delivered + errors, delivered, errors)

    lake = warehouse_lake(env)
    before = sorted((p.relative_to(lake), p.read_bytes()) for p in lake.rglob("*") if p.is_file())
    dw(env, "backfill", "--from", HOURS[0], "--to", HOURS[2])
    after = sorted((p.relative_to(lake), p.read_bytes()) for p in lake.rglob("*") if p.is_file())
    assert after == before
    assert query_json(
        env,
        "SELECT count(*) AS n FROM aggregates WHERE inserted_at >= '2026/03/01/10' "
        "AND inserted_at <= '2026/03/01/12'",
    ) == [{"n": 6}]


def test_send_from_file_or_stdin_isolates_malformed_lines(env: dict[str, str], tmp_path: Path) -> None:
    lines = b'{"id": "1", "session_id": "s", "event_time": "t"}\n[1, 2]\n\n{"id": "2"}{"id": "3"}\n'
    path = tmp_path / "events.ndjson"
    path.write_bytes(lines)
    summary = json.loads(
        dw(
            env, "send", "clicks", "--from-file", str(path), "--arrival", "2026-03-01T10:00:00Z", "--json"
        ).stdout
    )
    # The blank line is not a record: neither sent nor isolated.
    assert summary == {"table": "clicks", "sent": 3, "delivered": 2, "errors": 1, "objects": 1}
    summary = json.loads(
        dw(
            env,
            "send",
            "clicks",
            "--from-file",
            "-",
            "--arrival",
            "2026-03-01T10:00:00Z",
            "--json",
            input=lines,
        ).stdout
    )
    assert summary["errors"] == 1


@pytest.mark.slow
def test_query_formats_and_clear_errors(env: dict[str, str]) -> None:
    dw(env, "send", "impressions", "--count", "5", "--arrival", "2026-03-01T10:05:00Z")
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    csv = dw(
        env,
        "query",
        "SELECT count(*) AS n FROM impressions WHERE inserted_at = '2026/03/01/10'",
        "--format",
        "csv",
    ).stdout.decode()
    assert csv == "n\n5\n"
    refused = dw(env, "query", "select * from impressions", check=False)
    assert refused.returncode == 2 and b"Traceback" not in refused.stderr
    assert b"reads table 'impressions' without bounding its partition key 'inserted_at'" in refused.stderr
    table = dw(env, "query", "SELECT count(*) AS n FROM impressions", "--allow-full-scan")
    assert table.stdout.decode().split() == ["n", "5"]
    assert b"reads impressions: 1 partition, " in table.stderr
    bad = dw(env, "query", "DROP TABLE impressions", check=False)
    assert bad.returncode == 2 and b"only queries" in bad.stderr
    bad = dw(env, "backfill", "--from", "yesterday", "--to", "2026-03-01T10", check=False)
    assert bad.returncode == 2 and b"cannot read hour 'yesterday'" in bad.stderr
    bad = dw(env, "send", "facts", check=False)
    assert bad.returncode == 2 and b"not a streaming table" in bad.stderr


# The analytics_dw declaration's tables, and what the issue asks errors to name.
TABLES = ("impressions", "clicks", "facts", "aggregates", "aggregates_by_event_time")
EVENT_COLUMNS = ("id", "session_id", "event_time")
ANSI = re.compile(r"\x1b\[")


def error_line(result: subprocess.CompletedProcess, command: str) -> str:
    """A refused command's stderr: one line `dw COMMAND: ...`, exit 2, in the platform's words."""
    err = result.stderr.decode()
    assert result.returncode == 2, (result.returncode, err)
    assert err.count("\n") == 1 and err.startswith(f"dw {command}: "), err
    assert not ANSI.search(err) and "Traceback" not in err, err
    for internal in ("Did you mean", "<class", "Binder Error", "Catalog Error", "Parser Error", "sqlglot"):
        assert internal not in err, err
    return err


@pytest.mark.slow
def test_status_and_errors_read_like_a_finished_tool(env: dict[str, str]) -> None:
    """Issue 13, the CLI: integers and blanks in `dw status`, one-line errors that name what exists,
    the accepted hour formats, the streaming tables, plurals."""
    sent = dw(env, "send", "clicks", "--count", "3", "--arrival", "2026-03-01T10:05:00Z").stdout.decode()
    assert sent == "clicks: sent 3, delivered 3, errors 0, in 1 object\n"
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")

    status = dw(env, "status").stdout.decode()
    for artefact in ("NaN", "None", ".0 ", "nan"):
        assert artefact not in status, status
    rows = {line.split()[0]: line.split() for line in status.splitlines()[1:]}
    # clicks: 1 partition, 1 object, bytes, 3 rows, 0 error records; facts has no partitions (blank).
    assert rows["clicks"][1:3] == ["streaming", "1"] and rows["clicks"][3] == "1"
    assert rows["clicks"][-3:] == ["3", "0", "0"]  # rows, error records, replayed
    assert rows["clicks_errors"][-1] == "0" and len(rows["clicks_errors"]) == 6  # no error records
    assert rows["facts"][1:] == ["static", "0", "0", "0"]  # partitions and error records blank
    hourly = dw(env, "status", "--from", "2026-03-01T10", "--to", "2026-03-01T11").stdout.decode()
    assert "NaN" not in hourly and "None" not in hourly
    assert re.search(r"clicks\s+2026/03/01/10\s+3\s+3\s+0\s+0\.00%\s+yes\s+0\s+0\n", hourly), hourly
    # nothing sent: sent and reconciled blank
    assert re.search(r"clicks\s+2026/03/01/11\s+0\s+0\s+0\.00%\s+0\s+0\n", hourly), hourly

    where = "WHERE inserted_at = '2026/03/01/10'"
    unknown_table = error_line(dw(env, "query", f"SELECT * FROM nosuch {where}", check=False), "query")
    assert "nosuch" in unknown_table and all(t in unknown_table for t in TABLES)
    unknown_column = error_line(dw(env, "query", f"SELECT nosuch FROM clicks {where}", check=False), "query")
    assert "nosuch" in unknown_column and all(c in unknown_column for c in EVENT_COLUMNS)
    syntax = {
        "SELEC 1": "at line 1, column 7",
        "SELECT count(* FROM clicks": "expected )",
        "SELECT * FROM duckdb_tables": "duckdb_tables does not exist",  # no "Did you mean" (above)
        "SELECT 'open": "unclosed quote",
    }
    for sql, expected in syntax.items():
        assert expected in error_line(dw(env, "query", sql, check=False), "query")

    for hour in ("2026-03-01T1O", "2026-02-30T10"):
        bad = error_line(dw(env, "status", "--from", hour, check=False), "status")
        assert "2026-11-20T10, 2026-11-20-10:00 or 2026/11/20/10" in bad and "unconverted" not in bad
    bad = error_line(dw(env, "send", "clicks", "--arrival", "soon", check=False), "send")
    assert "ISO-8601" in bad
    nosuch = error_line(dw(env, "send", "nosuch", check=False), "send")
    assert "impressions" in nosuch and "clicks" in nosuch and "facts" not in nosuch


@pytest.mark.slow
def test_backfill_refuses_hours_that_are_not_partitions(env: dict[str, str]) -> None:
    result = dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2099-01-01T00", check=False)
    assert result.returncode == 2 and b"is not within them" in result.stderr
    result = dw(env, "backfill", "--from", "2025-12-31T23", "--to", "2026-01-01T00", check=False)
    assert result.returncode == 2 and b"is not within them" in result.stderr


@pytest.mark.parametrize("command", ["", "send", "backfill", "query", "status", "demo"])
def test_every_subcommand_has_help(env: dict[str, str], command: str) -> None:
    result = dw(env, *([command] if command else []), "--help")
    assert b"usage: dw" in result.stdout


LEAF_COMMANDS = [
    ["send"],
    ["drain"],
    ["backfill"],
    ["query"],
    ["status"],
    ["demo"],
    ["catalog", "rebuild"],
    *(["provision", action] for action in ("plan", "apply", "destroy", "outputs", "policy")),
    ["replay"],
]


@pytest.mark.parametrize("command", LEAF_COMMANDS, ids=" ".join)
def test_every_subcommand_offers_json(env: dict[str, str], command: list[str]) -> None:
    assert b"--json" in dw(env, *command, "--help").stdout


@pytest.mark.slow
def test_demo_json_is_one_summary_with_exact_counts(env: dict[str, str], tmp_path: Path) -> None:
    out = dw(
        env, "demo", "--hours", "2", "--events-per-hour", "200", "--home", str(tmp_path / "demo"), "--json"
    ).stdout
    report = json.loads(out)  # nothing else on stdout
    assert report["home"] == str(tmp_path / "demo") and report["backfill"]["hours"] == 2
    deliveries = report["deliveries"]
    assert len(deliveries) == 4 and all(d["sent"] == 200 for d in deliveries)
    assert all(d["delivered"] + d["errors"] == 200 and d["errors"] == 2 for d in deliveries)  # 1 % malformed
    counts = {(a["time"], a["event_type"]): a["count"] for a in report["aggregates"]}
    assert counts == {(d["inserted_at"], d["table"]): 198 for d in deliveries}
    sql = "SELECT time, event_type, count FROM aggregates WHERE inserted_at >= '2026/01/01/00' ORDER BY 1, 2"
    demo_env = {**env, "DW_HOME": str(tmp_path / "demo")}
    as_json = dw(demo_env, "query", sql, "--json", "--allow-full-scan").stdout
    assert as_json == dw(demo_env, "query", sql, "--format", "json", "--allow-full-scan").stdout
    assert json.loads(as_json) == report["aggregates"]


@pytest.mark.slow
def test_demo_runs_on_a_fresh_warehouse(env: dict[str, str], tmp_path: Path) -> None:
    out = dw(
        env, "demo", "--hours", "2", "--events-per-hour", "200", "--home", str(tmp_path / "demo")
    ).stdout.decode()
    assert "backfilled 2 hours" in out
    assert out.count(" 198\n") + out.count(" 198") >= 4  # 200 events, 1 % malformed, per table and hour
    # its own Dagster home, telemetry off, so no banner; the printed query works as it is typed
    assert "enabled: false" in (tmp_path / "demo" / "dagster" / "dagster.yaml").read_text()
    assert "usage statistics" not in out.lower() and "telemetry" not in out.lower()
    hint = out.strip().splitlines()[-1]
    assert hint.startswith("Query it: DW_HOME=")
    program = hint.split()[3]  # `dw` on the PATH, else the virtualenv's, relative to where dw ran
    assert program == "dw" or os.access(Path.cwd() / program, os.X_OK), hint


@pytest.mark.slow
def test_dagster_definitions_validate(env: dict[str, str]) -> None:
    Path(env["DAGSTER_HOME"]).mkdir(parents=True)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate"], cwd=REPO, env=env, capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"All code locations passed validation" in result.stderr + result.stdout


@pytest.mark.slow
def test_failed_backfill_run_exits_non_zero(env: dict[str, str]) -> None:
    corrupt = warehouse_lake(env) / hour_folder("clicks", "2026/03/01/10") / "corrupt.parquet"
    corrupt.parent.mkdir(parents=True)
    corrupt.write_bytes(b"not parquet")
    result = dw(
        env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register", check=False
    )
    assert result.returncode == 1 and b"backfill FAILED" in result.stdout
