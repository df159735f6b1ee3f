"""`dw query`'s plain rows (query/plain_rows.py) against the Arrow path they replace: the same
statement over the same lake prints the same JSON either way, for the column types fetched plainly
and for those still converted by Arrow; and the lake's own listing of a local directory (os.scandir)
against pyarrow's LocalFileSystem listing it replaced."""

import os
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from dw_platform.catalog.sync import sync_catalog
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.store import Lake, LakeObject, is_hidden
from dw_platform.operations.registration import register_hours
from dw_platform.query.plain_rows import PlainRows
from dw_platform.query.rendering import json_rows, rows
from dw_platform.runtime.backends import Runtime

HOUR = "2026/03/01/10"
WHERE = f"WHERE inserted_at = '{HOUR}'"

STATEMENTS = [
    # Plain types: BIGINT, INTEGER, SMALLINT, TINYINT, VARCHAR, DOUBLE, BOOLEAN (NULL, NaN, infinities).
    f"SELECT session_id, count(*) AS n FROM impressions {WHERE} GROUP BY 1 ORDER BY 1 LIMIT 20",
    f"SELECT count(DISTINCT session_id) AS sessions, min(event_time) AS first FROM impressions {WHERE}",
    "SELECT 1 AS a, CAST(2 AS INTEGER) AS b, CAST(3 AS SMALLINT) AS c, CAST(4 AS TINYINT) AS d, "
    "9223372036854775807 AS big, -1 AS neg",
    "SELECT nan() AS x, infinity() AS y, -infinity() AS z, 0.1E0 + 0.2E0 AS w, CAST(NULL AS DOUBLE) AS v",
    "SELECT true AS t, false AS f, CAST(NULL AS BOOLEAN) AS u, NULL AS n, 'straße ✓' AS s, '' AS e",
    "SELECT 1 AS a, 2 AS a",  # one name twice
    f"SELECT session_id FROM impressions {WHERE} AND false",  # no rows
    # Types Arrow still converts: DECIMAL, REAL, dates, timestamps, arrays, maps, rows, varbinary.
    "SELECT DECIMAL '1.50' AS d, REAL '0.1' AS r, DATE '2026-03-01' AS day, "
    "TIMESTAMP '2026-03-01 10:00:00.123' AS ts, ARRAY[1, NULL] AS xs, MAP(ARRAY['k'], ARRAY[1]) AS m, "
    "ROW(1, 'a') AS rw, X'00ff' AS b",
    f"SELECT date_trunc('hour', from_iso8601_timestamp(event_time)) AS hour, count(*) AS n "
    f"FROM impressions {WHERE} GROUP BY 1 ORDER BY 1",
]


@pytest.fixture
def loaded(runtime: Runtime) -> Runtime:
    arrival = datetime(2026, 3, 1, 10, tzinfo=UTC)
    records, _ = sample_events(300, arrival, seed=3)
    deliver(runtime, "impressions", records, arrival=arrival, batches=3)
    sync_catalog(runtime)
    register_hours(runtime, "impressions", [HOUR])
    return runtime


def test_plain_rows_print_what_arrow_prints(loaded: Runtime) -> None:
    plain_seen = 0
    for sql in STATEMENTS:
        arrow = loaded.engine.query(sql)
        plain = loaded.engine.query(sql, plain=True)
        assert not isinstance(arrow.table, PlainRows)
        plain_seen += isinstance(plain.table, PlainRows)
        assert plain.types == arrow.types, sql
        assert json_rows(plain.table, plain.types) == json_rows(arrow.table, arrow.types), sql
        # repr: NaN is not equal to itself, but prints the same
        assert repr(rows(plain.table, plain.types)) == repr(rows(arrow.table, arrow.types)), sql
        assert plain.table.column_names == arrow.table.column_names, sql
        assert repr(plain.table.to_pylist()) == repr(arrow.table.to_pylist()), sql
    assert plain_seen == 7  # the statements of plain types only; the others went through Arrow


def test_the_plan_is_told_before_the_query_runs(loaded: Runtime) -> None:
    told = []
    sql = f"SELECT count(*) AS n FROM impressions {WHERE}"
    result = loaded.engine.query(sql, on_plan=told.append, plain=True)
    assert [p.describe() for p in told] == [loaded.engine.plan(sql).describe()]
    assert result.scans == told[0].scans and result.table.to_pylist() == [{"n": 300}]


def _pyarrow_listing(base: str, prefix: str, include_hidden: bool) -> list[LakeObject]:
    """The listing as pyarrow's LocalFileSystem gives it (the lake's implementation before)."""
    selector = pafs.FileSelector(f"{base}/{prefix.rstrip('/')}", allow_not_found=True, recursive=True)
    found = []
    for info in pafs.LocalFileSystem().get_file_info(selector):
        key = info.path[len(base) + 1 :]
        if info.type == pafs.FileType.File and (include_hidden or not is_hidden(key)):
            found.append(LakeObject(key, info.size or 0, info.mtime.astimezone(UTC) if info.mtime else None))
    return sorted(found, key=lambda o: o.key)


def test_a_local_lake_lists_what_pyarrow_listed(tmp_path: Path) -> None:
    lake = Lake.local(tmp_path / "lake")
    for key in ("t/2026/01/a.parquet", "t/2026/02/b.json", "t/_manifest", "t/.hidden", "u/c", "t/2026/e"):
        lake.put_bytes(key, key.encode() * 3)
    Path(lake.path("t/empty/deeper")).mkdir(parents=True)
    os.utime(lake.path("u/c"), ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    for hidden in (False, True):  # a prefix naming an object, not a folder, fails as it did
        with pytest.raises(NotADirectoryError):
            _pyarrow_listing(lake.base, "u/c", hidden)
        with pytest.raises(NotADirectoryError):
            lake.list_objects("u/c", include_hidden=hidden)
    for prefix in ("", "t", "t/", "t/2026", "u", "missing", "missing/deeper/"):
        for hidden in (False, True):
            expected = [o for o in _pyarrow_listing(lake.base, prefix, hidden) if not o.key.endswith(".tmp")]
            assert lake.list_objects(prefix, include_hidden=hidden) == expected, (prefix, hidden)
    assert lake.exists("u/c") and not lake.exists("t") and not lake.exists("missing")
