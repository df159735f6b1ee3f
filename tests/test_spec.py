import dataclasses

import pytest

from dw_platform.declaration.identifiers import InvalidIdentifierError
from dw_platform.declaration.warehouse import Column, DeclarationError, ServerlessDataWarehouse, TableKind
from dw_platform.defs.analytics_dw.warehouse import analytics_dw

COLUMNS = [("id", "string"), ("session_id", "string")]


def _job(context):  # pragma: no cover - never run here
    return {}


def test_fluent_calls_return_new_immutable_warehouses() -> None:
    empty = ServerlessDataWarehouse("dw")
    one = empty.with_streaming_input_table("events", COLUMNS)
    assert empty.tables == ()
    assert one.table_names == ("events", "events_errors")  # every streaming table brings its errors table
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "other"  # type: ignore[misc]


def test_streaming_table_is_parquet_partitioned_hourly_by_arrival() -> None:
    spec = ServerlessDataWarehouse("dw").with_streaming_input_table("events", COLUMNS).table("events")
    assert spec.kind is TableKind.STREAMING
    assert spec.data_format == "PARQUET"
    assert spec.partition_keys == (Column("inserted_at", "string"),)
    assert spec.streaming is not None and spec.streaming.flush_interval_s == 900


def test_dev_warehouse_flushes_every_minute() -> None:
    spec = ServerlessDataWarehouse("dw", is_dev=True).with_streaming_input_table("e", COLUMNS).table("e")
    assert spec.streaming is not None and spec.streaming.flush_interval_s == 60


def test_duplicate_table_name_is_named() -> None:
    warehouse = ServerlessDataWarehouse("dw").with_table("facts", COLUMNS)
    with pytest.raises(DeclarationError, match="duplicate table 'facts'"):
        warehouse.with_streaming_input_table("facts", COLUMNS)


def test_unknown_format_is_named() -> None:
    with pytest.raises(DeclarationError, match="table 'facts': unknown data_format 'CSV'"):
        ServerlessDataWarehouse("dw").with_table("facts", COLUMNS, data_format="CSV")


@pytest.mark.parametrize("name", ["Bad", "1abc", "with-dash", "drop table x;--", "", "a" * 129])
def test_invalid_table_identifier_is_named(name: str) -> None:
    with pytest.raises(InvalidIdentifierError, match="invalid table name"):
        ServerlessDataWarehouse("dw").with_table(name, COLUMNS)


def test_invalid_column_and_type_are_named() -> None:
    with pytest.raises(InvalidIdentifierError, match="invalid column name 'Bad Column'"):
        ServerlessDataWarehouse("dw").with_table("t", [("Bad Column", "string")])
    with pytest.raises(DeclarationError, match="column 'c' has unknown type 'varchar2'"):
        ServerlessDataWarehouse("dw").with_table("t", [("c", "varchar2")])
    with pytest.raises(DeclarationError, match="declares columns more than once: \\['c'\\]"):
        ServerlessDataWarehouse("dw").with_table("t", [("c", "string"), ("c", "int")])


def test_streaming_options_are_validated() -> None:
    warehouse = ServerlessDataWarehouse("dw")
    with pytest.raises(DeclarationError, match="buffer_size_mib must be within 64-128"):
        warehouse.with_streaming_input_table("e", COLUMNS, buffer_size_mib=32)
    with pytest.raises(DeclarationError, match="flush_interval_s must be within 0-900"):
        warehouse.with_streaming_input_table("e", COLUMNS, flush_interval_s=901)


def test_batch_table_inputs_must_be_declared_first() -> None:
    with pytest.raises(DeclarationError, match="input table 'clicks' is not declared"):
        ServerlessDataWarehouse("dw").with_batch_input_table(
            "agg", [("n", "int")], job=_job, schedule="3 * * * *", inputs=["clicks"]
        )
    with pytest.raises(DeclarationError, match="exactly one string partition key"):
        ServerlessDataWarehouse("dw").with_batch_input_table(
            "agg", [("n", "int")], job=_job, schedule="3 * * * *", partition_keys=None
        )
    with pytest.raises(DeclarationError, match="5-field cron"):
        ServerlessDataWarehouse("dw").with_batch_input_table(
            "agg", [("n", "int")], job=_job, schedule="hourly"
        )


def test_analytics_dw_declaration() -> None:
    assert analytics_dw.name == "analytics_dw"
    assert analytics_dw.table_names == (
        "impressions",
        "impressions_errors",
        "clicks",
        "clicks_errors",
        "facts",
        "aggregates",
        "aggregates_by_event_time",
    )
    for name in ("impressions", "clicks"):
        spec = analytics_dw.table(name)
        assert spec.kind is TableKind.STREAMING
        assert spec.column_names == ("id", "session_id", "event_time")
    facts = analytics_dw.table("facts")
    assert (facts.data_format, facts.column_names) == ("JSON", ("thing", "color"))
    assert facts.seed_file is not None and facts.seed_file.exists()
    aggregates = analytics_dw.table("aggregates")
    assert aggregates.kind is TableKind.BATCH and aggregates.data_format == "JSON"
    assert [(c.name, c.type) for c in aggregates.columns] == [
        ("event_type", "string"),
        ("count", "int"),
        ("time", "string"),
    ]
    assert aggregates.batch is not None and aggregates.batch.inputs == ("impressions", "clicks")
