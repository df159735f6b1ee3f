"""The query guard rail judges the scan: bounds found wherever they bound it (a LEFT JOIN's ON bounds
its right side), and the plan's partitions and bytes held to the declaration's per-query budget."""

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from dw_platform.declaration.warehouse import DeclarationError, ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.sending import deliver
from dw_platform.operations.registration import register_hours
from dw_platform.query.scan_plan import FullScanRefused
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

HOURS = ["2026/03/01/10", "2026/03/01/11", "2026/03/01/12"]
H = HOURS[0]

# (table, hour, id, session_id): sessions s3 and s1 also have impressions in another hour.
EVENTS = [
    ("clicks", H, "c1", "s1"),
    ("clicks", H, "c2", "s2"),
    ("clicks", H, "c3", "s3"),
    ("clicks", H, "c4", "s4"),
    ("clicks", HOURS[1], "c5", "s1"),
    ("impressions", H, "i1", "s1"),
    ("impressions", H, "i2", "s2"),
    ("impressions", H, "i3", "s2"),
    ("impressions", HOURS[1], "i4", "s3"),
    ("impressions", HOURS[1], "i5", "s1"),
    ("impressions", HOURS[2], "i6", "s4"),
    ("clicks", HOURS[2], "c6", "s4"),
]


def load(warehouse: ServerlessDataWarehouse, settings: Settings) -> Runtime:
    runtime = Runtime.from_settings(warehouse, settings)
    for table in ("clicks", "impressions"):
        for hour in HOURS:
            arrival = datetime.strptime(hour, "%Y/%m/%d/%H").replace(tzinfo=UTC)
            records = [
                json.dumps({"id": i, "session_id": s, "event_time": f"{arrival:%Y-%m-%dT%H:%M:%SZ}"}).encode()
                for t, h, i, s in EVENTS
                if (t, h) == (table, hour)
            ]
            deliver(runtime, table, records, arrival=arrival)
        register_hours(runtime, table, HOURS)
    return runtime


def test_a_left_joins_on_bound_bounds_its_right_side_and_the_answer_is_right(settings: Settings) -> None:
    runtime = load(analytics_dw, settings)
    result = runtime.engine.query(
        "SELECT c.id AS click, i.id AS impression FROM clicks c LEFT JOIN impressions i "
        f"ON c.session_id = i.session_id AND i.inserted_at = '{H}' WHERE c.inserted_at = '{H}'"
    )
    # Each click of hour H with every impression of its session in hour H, or NULL: the bound in the
    # ON clause keeps the click whose session has impressions in other hours only (c3), where the
    # same bound in WHERE would drop it.
    impressions = [(i, s) for t, h, i, s in EVENTS if t == "impressions" and h == H]
    expected = sorted(
        (click, impression)
        for t, h, click, session in EVENTS
        if t == "clicks" and h == H
        for impression in ([i for i, s in impressions if s == session] or [None])
    )
    got = sorted((r["click"], r["impression"]) for r in result.table.to_pylist())
    assert got == expected
    assert ("c3", None) in got
    assert [s.partitions for s in result.scans] == [1, 1]  # each side reads hour H only


def test_a_left_joins_on_bound_does_not_bound_its_left_side(settings: Settings) -> None:
    runtime = load(analytics_dw, settings)
    # The left rows are kept whatever the ON clause says: the clicks scan is unbounded.
    with pytest.raises(FullScanRefused, match="'clicks' without bounding its partition key"):
        runtime.engine.query(
            "SELECT c.id FROM clicks c LEFT JOIN impressions i "
            f"ON c.session_id = i.session_id AND c.inserted_at = '{H}' AND i.inserted_at = '{H}'"
        )


def test_a_range_bounded_in_letter_only_is_refused_by_the_budget(settings: Settings) -> None:
    runtime = load(dataclasses.replace(analytics_dw, query_budget_hours=2), settings)
    with pytest.raises(FullScanRefused) as refused:
        runtime.engine.query("SELECT count(*) FROM clicks WHERE inserted_at BETWEEN '' AND 'zzzz'")
    message = str(refused.value)
    assert "clicks: 3 partitions, 3 objects" in message and "budget of 2 partitions (hours)" in message
    assert "query_budget_hours" in message
    # The same through `plan` (what dw query prints first), and allowed when the caller says so.
    with pytest.raises(FullScanRefused):
        runtime.engine.plan("SELECT count(*) FROM clicks WHERE inserted_at BETWEEN '' AND 'zzzz'")
    everything = runtime.engine.query(
        "SELECT count(*) AS n FROM clicks WHERE inserted_at BETWEEN '' AND 'zzzz'", allow_full_scan=True
    )
    assert everything.table.to_pylist() == [{"n": sum(t == "clicks" for t, *_ in EVENTS)}]


def test_a_bounded_query_within_budget_is_answered(settings: Settings) -> None:
    runtime = load(dataclasses.replace(analytics_dw, query_budget_hours=2), settings)
    # Two hours of each table: the budget counts hours per scan, not across the join's two tables.
    result = runtime.engine.query(
        "SELECT count(*) AS n FROM clicks c JOIN impressions i ON c.session_id = i.session_id "
        f"AND i.inserted_at BETWEEN '{HOURS[0]}' AND '{HOURS[1]}' "
        f"WHERE c.inserted_at BETWEEN '{HOURS[0]}' AND '{HOURS[1]}'"
    )
    window = HOURS[:2]
    clicks = [s for t, h, _, s in EVENTS if t == "clicks" and h in window]
    impressions = [s for t, h, _, s in EVENTS if t == "impressions" and h in window]
    assert result.table.to_pylist() == [{"n": sum(c == i for c in clicks for i in impressions)}]
    assert [s.partitions for s in result.scans] == [2, 2]


def test_the_bytes_budget_refuses_what_the_plan_would_read(settings: Settings) -> None:
    runtime = load(dataclasses.replace(analytics_dw, query_budget_gib=1e-7), settings)  # 107 bytes
    with pytest.raises(
        FullScanRefused, match=r"clicks: 1 partition, 1 objects, .* over the per-query budget"
    ):
        runtime.engine.query(f"SELECT count(*) FROM clicks WHERE inserted_at = '{H}'")


def test_the_budget_is_declared_within_the_workgroups_cutoff() -> None:
    with pytest.raises(DeclarationError, match="query_budget_gib must be above 0 and at most"):
        ServerlessDataWarehouse("w", query_cutoff_gib=5, query_budget_gib=6)
    with pytest.raises(DeclarationError, match="query_budget_hours must be at least 1"):
        ServerlessDataWarehouse("w", query_budget_hours=0)
    assert ServerlessDataWarehouse("w").query_budget == (744, 10.0)
    assert ServerlessDataWarehouse("w", query_cutoff_gib=5).query_budget == (744, 5)
