"""The engine's translation of the analyst shapes costs about what DuckDB's own SQL costs for the same
question (benchmarks/engine_speed.py measures whole processes; this checks the translated SQL alone).

Both sides run in one DuckDB database over the same generated rows; CPU time (process_time, every
thread), the best of three runs each, so a busy machine slows both sides alike."""

import time

import duckdb
import pytest

from dw_platform.query import trino_types as tt
from dw_platform.query.macros import Macros
from dw_platform.query.translator import TableShape, Translator, parse_written

ROWS = 1_000_000
# In memory DuckDB's own side is cheap (no file scan): the translation costs about 2x it now, 5-8x
# before (a regular expression per value and ICU's calendar for each conversion and truncation).
MAX_RATIO = 3.0


def _cpu(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, list[tuple]]:
    best, rows = float("inf"), []
    for _ in range(3):
        start = time.process_time()
        rows = connection.execute(sql).fetchall()
        best = min(best, time.process_time() - start)
    return best, rows


@pytest.fixture(scope="module")
def events() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    # Event times as JavaScript writes them (toISOString), spread over a day, one per row.
    connection.execute(
        f"CREATE TABLE __dw_scan_0 AS SELECT strftime(TIMESTAMP '2026-03-01' + to_milliseconds(i * 86), "
        f"'%Y-%m-%dT%H:%M:%S.%gZ') AS event_time FROM range({ROWS}) AS r(i)"
    )
    return connection


@pytest.mark.parametrize(
    ("trino", "duckdb_sql"),
    [
        (
            "SELECT date_trunc('hour', from_iso8601_timestamp(event_time)) AS hour, count(*) AS n "
            "FROM events GROUP BY 1 ORDER BY 1",
            "SELECT date_trunc('hour', CAST(event_time AS TIMESTAMPTZ)) AS hour, count(*) AS n "
            "FROM __dw_scan_0 GROUP BY 1 ORDER BY 1",
        ),
        (
            "SELECT date_trunc('minute', from_iso8601_timestamp(event_time)) AS minute, count(*) AS n "
            "FROM events GROUP BY 1 ORDER BY 1",
            "SELECT date_trunc('minute', CAST(event_time AS TIMESTAMPTZ)) AS minute, count(*) AS n "
            "FROM __dw_scan_0 GROUP BY 1 ORDER BY 1",
        ),
    ],
    ids=["event-hour histogram", "per-minute counts"],
)
def test_zoned_timestamp_shapes_cost_about_what_duckdb_costs(
    events: duckdb.DuckDBPyConnection, trino: str, duckdb_sql: str
) -> None:
    shape = TableShape("events", [("event_time", tt.VARCHAR)], None)
    translation = Translator({"events": shape}, "analytics_dw").translate(parse_written(trino))
    Macros(events).ensure(translation.sql)
    ours, answer = _cpu(events, translation.sql)
    theirs, expected = _cpu(events, duckdb_sql)
    assert [r[-1] for r in answer] == [r[-1] for r in expected]
    assert sum(r[-1] for r in answer) == ROWS
    assert ours / theirs <= MAX_RATIO, f"translated {ours:.2f} s CPU, DuckDB's own {theirs:.2f} s"
