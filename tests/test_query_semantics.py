"""The local engine's answers are Athena's, or a one-line refusal: the findings of issue 11 and the
query findings of the red team (issues 16 and 17), each in a real `dw` process over real files."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.lake.layout import hour_folder
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.dw_process import warehouse_lake

pytestmark = pytest.mark.e2e  # every test here starts `dw` or another platform process

HOURS = ("2026/03/01/10", "2026/03/01/11", "2026/03/01/12")
ROWS = (100, 200, 400)


def dw(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "dw_platform.cli.main", *args], env=env, capture_output=True, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"dw {' '.join(args)} failed:\n{result.stdout.decode()}\n{result.stderr.decode()}"
        )
    return result


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("query")
    env = {**os.environ, "DW_HOME": str(home / "dw"), "DAGSTER_HOME": str(home / "dagster")}
    for hour, count in zip(HOURS, ROWS, strict=True):
        arrival = f"{hour[:10].replace('/', '-')}T{hour[11:]}:15:00Z"
        dw(env, "send", "impressions", "--count", str(count), "--arrival", arrival, "--seed", "1")
    dw(env, "backfill", "--from", HOURS[0], "--to", HOURS[-1], "--only", "register")
    return env


def rows(env: dict[str, str], sql: str, *extra: str) -> list[dict]:
    return json.loads(dw(env, "query", sql, "--format", "json", *extra).stdout)


def refused(env: dict[str, str], sql: str, *extra: str) -> str:
    result = dw(env, "query", sql, *extra, check=False)
    message = result.stderr.decode()
    assert result.returncode == 2, message
    # What the query would read may come first; the error itself is one line.
    errors = [line for line in message.strip().splitlines() if not line.startswith("reads ")]
    assert "Traceback" not in message and len(errors) == 1 and errors[0].startswith("dw query: "), message
    return errors[0]


@pytest.mark.slow
def test_examples_of_the_issue_give_trinos_answers(env: dict[str, str]) -> None:
    [row] = rows(
        env,
        "SELECT 5 / 2 AS a, -7 / 2 AS b, 100.0 * 3 / 7 AS c, round(100.0 * 3 / 7, 2) AS d, "
        "date_diff('hour', TIMESTAMP '2026-11-20 10:59', TIMESTAMP '2026-11-20 11:01') AS e, "
        "hour(from_iso8601_timestamp('2026-11-20T10:15:00+02:00')) AS f, "
        "regexp_extract('abc', 'x') AS g, split_part('a,b', ',', 3) AS h, "
        "json_extract_scalar('{\"a\": {\"b\": 1}}', '$.a') AS i, "
        "regexp_replace('2026-11', '(\\d{4})-(\\d{2})', '$2/$1') AS j, "
        "CAST(2.5e0 AS integer) AS k, typeof(round(100.0 * 3 / 7, 2)) AS l",
    )
    # Trino: integer division truncates; decimal(…,1) rounded half up; whole hours elapsed; the zone is
    # kept; no match / no field / an object are NULL; $g groups; casts of doubles round half away.
    assert row == {
        "a": 2,
        "b": -3,
        "c": 42.9,
        "d": 42.9,
        "e": 0,
        "f": 10,
        "g": None,
        "h": None,
        "i": None,
        "j": "11/2026",
        "k": 3,
        "l": "decimal(15,1)",
    }
    [zone] = rows(
        env,
        "SELECT CAST(from_iso8601_timestamp('2026-11-20T10:15:00Z') AT TIME ZONE 'Europe/Berlin' AS varchar) "
        "AS t, count_if(x = NULL) AS n FROM (VALUES 1, 2) AS v(x)",
    )
    assert zone == {"t": "2026-11-20 11:15:00.000 Europe/Berlin", "n": 0}
    for failing in ("SELECT 1 / 0", "SELECT CAST('2026-11-20T10:15:00Z' AS timestamp)"):
        message = refused(env, failing)
        assert "query failed" in message


def test_decimals_print_exactly_and_bigints_as_numbers(env: dict[str, str]) -> None:
    output = dw(
        env,
        "query",
        "SELECT CAST(1810 AS bigint) AS n, DECIMAL '0.10' + DECIMAL '0.20' AS d, "
        "from_base64('AAEC') AS b, nan() AS x",
        "--format",
        "json",
    ).stdout.decode()
    assert json.loads(output) == [
        {"n": 1810, "d": 0.3, "b": base64.b64encode(b"\x00\x01\x02").decode(), "x": "NaN"}
    ]
    assert '"d": 0.30' in output, "a decimal keeps its scale's digits"


def test_the_session_is_utc_whatever_the_machines_zone(env: dict[str, str]) -> None:
    sql = (
        "SELECT hour(CAST(from_iso8601_timestamp('2026-11-20T10:15:00Z') AS timestamp)) AS h, "
        "CAST(CAST(TIMESTAMP '2026-11-20 10:15:00' AS timestamp with time zone) AS varchar) AS z"
    )
    for zone in ("UTC", "America/Los_Angeles", "Asia/Kolkata"):
        assert rows({**env, "TZ": zone}, sql) == [{"h": 10, "z": "2026-11-20 10:15:00.000 UTC"}]


def test_metadata_statements_and_hidden_columns(env: dict[str, str]) -> None:
    tables = {r["tab_name"] for r in rows(env, "SHOW TABLES")}
    assert {"impressions", "clicks", "aggregates", "impressions_errors"} <= tables
    assert rows(env, "SHOW TABLES LIKE 'imp*'") == [
        {"tab_name": "impressions"},
        {"tab_name": "impressions_errors"},
    ]
    columns = rows(env, "DESCRIBE impressions")
    assert [c["col_name"] for c in columns] == ["id", "session_id", "event_time", "inserted_at"]
    partitions = [r["partition"] for r in rows(env, "SHOW PARTITIONS impressions")]
    assert partitions == [f"inserted_at={h.replace('/', '%2F')}" for h in HOURS]
    paths = rows(
        env,
        f"SELECT \"$path\" AS p, count(*) AS n FROM impressions WHERE inserted_at = '{HOURS[0]}' GROUP BY 1",
    )
    assert [p["n"] for p in paths] == [ROWS[0]] and paths[0]["p"].startswith("file://")
    assert Path(paths[0]["p"].removeprefix("file://")).is_file()


def test_one_scans_filter_never_prunes_another_scan_of_the_same_table(env: dict[str, str]) -> None:
    for name in ("impressions", "IMPRESSIONS", '"Impressions"', "analytics_dw.impressions"):
        sql = (
            f"SELECT (SELECT count(*) FROM impressions WHERE inserted_at = '{HOURS[0]}') AS a, "
            f"(SELECT count(*) FROM {name}) AS b"
        )
        assert rows(env, sql, "--allow-full-scan") == [{"a": ROWS[0], "b": sum(ROWS)}], name
    symmetric = (
        "SELECT count(*) AS n FROM impressions "
        f"WHERE inserted_at BETWEEN SYMMETRIC '{HOURS[2]}' AND '{HOURS[0]}'"
    )
    assert rows(env, symmetric) == [{"n": sum(ROWS)}]


def test_bounded_scans_in_subqueries_pass_the_guard_rail_and_unbounded_ones_do_not(
    env: dict[str, str],
) -> None:
    bounded = (
        f"SELECT count(*) AS n FROM impressions i WHERE i.inserted_at = '{HOURS[0]}' AND session_id IN "
        f"(SELECT session_id FROM impressions WHERE inserted_at = '{HOURS[0]}')"
    )
    [row] = rows(env, bounded)
    assert row["n"] > 0
    message = refused(
        env,
        f"SELECT count(*) FROM impressions i WHERE i.inserted_at = '{HOURS[0]}' AND "
        "session_id IN (SELECT session_id FROM impressions)",
    )
    assert "without bounding its partition key" in message


def test_what_athena_would_refuse_is_refused_and_reads_nothing(env: dict[str, str]) -> None:
    for sql in (
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('/etc/*')",
        "COPY (SELECT 1) TO '/tmp/x.csv'",
        "ATTACH '/tmp/x.db'",
        "PRAGMA version",
        "SET threads = 1",
        "SELECT 1; SELECT 2",
        "SELECT checksum(id) FROM impressions WHERE inserted_at = '2026/03/01/10'",
    ):
        refused(env, sql)
    # Beneath the translator, DuckDB itself may read nothing outside the lake.
    settings = Settings.from_env({"DW_HOME": env["DW_HOME"]})
    engine = Runtime.from_settings(analytics_dw, settings).engine
    with pytest.raises(duckdb.PermissionException):
        engine._connection().execute("SELECT * FROM read_csv('/etc/passwd')")


def test_a_star_in_an_object_key_does_not_multiply_rows(tmp_path: Path) -> None:
    env = {**os.environ, "DW_HOME": str(tmp_path / "dw"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    dw(env, "send", "impressions", "--count", "100", "--arrival", "2026-03-01T10:05:00Z")
    folder = warehouse_lake(env) / hour_folder("impressions", "2026/03/01/10")
    [existing] = list(folder.glob("*.parquet"))
    # A second object whose name would match every object as a glob pattern.
    pq.write_table(pq.read_table(existing).slice(0, 7), folder / f"{existing.name.split('-')[0]}-*.parquet")
    expected = sum(pq.read_metadata(p).num_rows for p in folder.iterdir() if p.suffix == ".parquet")
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    [row] = rows(env, "SELECT count(*) AS n FROM impressions WHERE inserted_at = '2026/03/01/10'")
    assert row["n"] == expected == 107


@pytest.mark.slow
def test_unreadable_objects_and_deep_nesting_end_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DW_HOME": str(tmp_path / "dw"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    dw(env, "send", "impressions", "--count", "10", "--arrival", "2026-03-01T10:05:00Z")
    dw(env, "backfill", "--from", "2026-03-01T10", "--to", "2026-03-01T10", "--only", "register")
    folder = warehouse_lake(env) / hour_folder("impressions", "2026/03/01/10")
    sql = "SELECT count(*) FROM impressions WHERE inserted_at = '2026/03/01/10'"
    for damage in (b"", b"PAR1 this is not parquet"):
        (folder / "broken.parquet").write_bytes(damage)
        message = refused(env, sql)
        assert "could not be read" in message
    (folder / "broken.parquet").unlink()
    assert dw(env, "query", sql, "--format", "csv").stdout.decode().splitlines()[1] == "10"
    refused(env, "SELECT " + "(" * 5000 + "1" + ")" * 5000)
    refused(env, "SELECT " + " + ".join(["1"] * 3000))


def test_arrow_results_keep_trino_types(env: dict[str, str]) -> None:
    settings = Settings.from_env({"DW_HOME": env["DW_HOME"]})
    result = Runtime.from_settings(analytics_dw, settings).engine.query(
        "SELECT count(*) AS n, DECIMAL '1.50' AS d, TIMESTAMP '2026-11-20 10:15:00.123' AS t"
    )
    assert result.table.schema == pa.schema(
        [("n", pa.int64()), ("d", pa.decimal128(3, 2)), ("t", pa.timestamp("us"))]
    )
    assert [t.trino() for t in result.types] == ["bigint", "decimal(3,2)", "timestamp(3)"]
