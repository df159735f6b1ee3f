import json
from datetime import UTC, datetime

import pytest

from dw_platform.catalog import Partition
from dw_platform.catalog.sync import load_seed, sync_catalog
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.layout import hour_folder
from dw_platform.operations.registration import add_partitions, register_hours
from dw_platform.query.sql import QueryError
from dw_platform.runtime.backends import Runtime

HOURS = ["2026/03/01/10", "2026/03/01/11", "2026/03/01/12"]


@pytest.fixture
def loaded(runtime: Runtime) -> Runtime:
    for index, hour in enumerate(HOURS):
        arrival = datetime.strptime(hour, "%Y/%m/%d/%H").replace(tzinfo=UTC)
        records, _ = sample_events(100 * (index + 1), arrival, seed=index)
        deliver(runtime, "impressions", records, arrival=arrival, batches=3)
    return runtime


def count(runtime: Runtime, sql: str) -> int:
    return runtime.engine.query(sql, allow_full_scan=True).table.column(0)[0].as_py()


def test_only_registered_partitions_are_visible(loaded: Runtime) -> None:
    sync_catalog(loaded)
    assert count(loaded, "SELECT count(*) FROM impressions") == 0
    register_hours(loaded, "impressions", HOURS[:2])
    assert count(loaded, "SELECT count(*) FROM impressions") == 300
    assert (
        count(loaded, "SELECT count(*) FROM analytics_dw.impressions WHERE inserted_at = '2026/03/01/12'")
        == 0
    )
    register_hours(loaded, "impressions", HOURS)
    assert (
        count(loaded, "SELECT count(*) FROM analytics_dw.impressions WHERE inserted_at = '2026/03/01/12'")
        == 300
    )


def test_rows_come_from_the_registered_location(loaded: Runtime) -> None:
    sync_catalog(loaded)
    # Hour 12 is registered pointing at hour 10's folder: its rows are hour 10's.
    add_partitions(loaded, "impressions", [Partition(("2026/03/01/12",), "impressions/2026/03/01/10/")])
    result = loaded.engine.query(
        "SELECT inserted_at, count(*) AS n FROM impressions GROUP BY 1", allow_full_scan=True
    )
    assert result.table.to_pylist() == [{"inserted_at": "2026/03/01/12", "n": 100}]


def test_two_partitions_on_one_location_each_read_it_once(loaded: Runtime) -> None:
    """As in Athena, a partition reads its location's objects once, whichever other partition is
    registered on the same location (issue 23, finding 5): never the rows times the partitions."""
    register_hours(loaded, "impressions", HOURS[:1])  # hour 10: 100 rows in 3 objects
    add_partitions(loaded, "impressions", [Partition((HOURS[2],), hour_folder("impressions", HOURS[0]))])
    per_hour = loaded.engine.query(
        "SELECT inserted_at, count(*) AS n FROM impressions GROUP BY 1 ORDER BY 1", allow_full_scan=True
    )
    assert per_hour.table.to_pylist() == [
        {"inserted_at": HOURS[0], "n": 100},
        {"inserted_at": HOURS[2], "n": 100},
    ]
    assert count(loaded, f"SELECT count(*) FROM impressions WHERE inserted_at = '{HOURS[0]}'") == 100
    # A JSON table too: one object of 2 lines under two partitions.
    folder = hour_folder("aggregates", HOURS[0])
    lines = [{"event_type": e, "count": n, "time": "t"} for e, n in (("clicks", 5), ("views", 7))]
    loaded.lake.put_bytes(f"{folder}results.json", "".join(json.dumps(r) + "\n" for r in lines).encode())
    add_partitions(loaded, "aggregates", [Partition((hour,), folder) for hour in (HOURS[0], HOURS[1])])
    totals = loaded.engine.query(
        "SELECT inserted_at, sum(count) AS n FROM aggregates GROUP BY 1 ORDER BY 1", allow_full_scan=True
    )
    assert totals.table.to_pylist() == [
        {"inserted_at": HOURS[0], "n": 12},
        {"inserted_at": HOURS[1], "n": 12},
    ]


def test_a_query_reads_only_the_partitions_its_predicate_allows(loaded: Runtime) -> None:
    register_hours(loaded, "impressions", HOURS)
    result = loaded.engine.query("SELECT count(*) FROM impressions WHERE inserted_at = '2026/03/01/11'")
    [scan] = result.scans
    assert (scan.partitions, scan.objects) == (1, 3)
    full = loaded.engine.query("SELECT count(*) FROM impressions", allow_full_scan=True)
    assert (full.scans[0].partitions, full.scans[0].objects) == (3, 9)
    assert full.bytes_scanned > result.bytes_scanned


def test_json_tables_and_unpartitioned_tables(runtime: Runtime) -> None:
    sync_catalog(runtime)
    load_seed(runtime, runtime.warehouse.table("facts"))
    rows = runtime.engine.query("SELECT thing, color FROM facts ORDER BY thing").table.to_pylist()
    assert {"thing": "sky", "color": "blue"} in rows and len(rows) == 4


def test_typed_empty_view_when_nothing_is_registered(runtime: Runtime) -> None:
    sync_catalog(runtime)
    table = runtime.engine.query("SELECT * FROM aggregates", allow_full_scan=True).table
    assert table.num_rows == 0
    assert table.column_names == ["event_type", "count", "time", "inserted_at"]


def test_sql_errors_are_reported(runtime: Runtime) -> None:
    sync_catalog(runtime)
    with pytest.raises(QueryError, match="column 'no_such_column' cannot be resolved"):
        runtime.engine.query("SELECT no_such_column FROM clicks", allow_full_scan=True)


def test_registration_refuses_values_that_are_not_hours(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="must be an hour written YYYY/MM/DD/HH"):
        register_hours(runtime, "clicks", ["2026/03/01/10' OR '1'='1"])
