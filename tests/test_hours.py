from datetime import UTC, datetime, timedelta, timezone

import pytest

from dw_platform.lake.hours import (
    hour_of_inserted_at,
    hours_between,
    inserted_at,
    is_inserted_at,
    parse_hour,
    partition_key,
)

TEN = datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-11-20T10", "2026-11-20-10:00", "2026/11/20/10", "2026-11-20T10:42:00Z", "2026-11-20T11:42+01:00"],
)
def test_parse_hour_accepts_every_documented_form(text: str) -> None:
    assert parse_hour(text) == TEN


def test_parse_hour_rejects_garbage_with_the_forms_it_accepts() -> None:
    with pytest.raises(ValueError, match="2026-11-20T10, 2026-11-20-10:00 or 2026/11/20/10"):
        parse_hour("yesterday")


def test_dagster_key_and_inserted_at_describe_the_same_utc_hour() -> None:
    moment = datetime(2026, 11, 20, 11, 59, 59, tzinfo=timezone(timedelta(hours=1)))
    assert partition_key(moment) == "2026-11-20-10:00"
    assert inserted_at(moment) == "2026/11/20/10"
    assert hour_of_inserted_at("2026/11/20/10") == TEN


def test_inserted_at_validation() -> None:
    assert is_inserted_at("2026/01/31/23")
    for bad in ("2026/02/30/00", "2026/1/1/1", "2026/01/01/24", "x' OR '1'='1"):
        assert not is_inserted_at(bad)


def test_hours_between_is_inclusive_and_crosses_days() -> None:
    hours = hours_between(datetime(2026, 1, 1, 22, tzinfo=UTC), datetime(2026, 1, 2, 1, 30, tzinfo=UTC))
    assert [inserted_at(h) for h in hours] == [
        "2026/01/01/22",
        "2026/01/01/23",
        "2026/01/02/00",
        "2026/01/02/01",
    ]
