"""The YAML form of a warehouse declaration: the same tables, columns and jobs as the fluent Python
API, built through it, so validation and error messages are the same.

    type: dw_platform.components.WarehouseComponent
    attributes:
      name: sales_dw
      streaming_tables:
        - name: orders
          columns: [{name: id}, {name: amount, type: double}, {name: event_time}]
      batch_tables:
        - name: order_counts
          columns: [{name: event_type}, {name: count, type: int}, {name: time}]
          job: my_package.jobs:count_orders      # a Python reference, as in the fluent API
          inputs: [orders]
"""

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from dw_platform.declaration.warehouse import DeclarationError, ServerlessDataWarehouse


class ColumnModel(dg.Model):
    name: str
    type: str = "string"


class StreamingTableModel(dg.Model):
    name: str
    columns: list[ColumnModel]
    partition_key: str = "inserted_at"
    shard_count: int = 1
    flush_interval_s: int | None = None
    on_demand: bool = False
    error_rate_warn: float = 0.001
    error_rate_error: float = 0.05


class TableModel(dg.Model):
    name: str
    columns: list[ColumnModel]
    data_format: str = "PARQUET"
    partition_keys: list[ColumnModel] | None = None
    seed_file: str | None = Field(default=None, description="A path relative to defs.yaml.")


class BatchTableModel(dg.Model):
    name: str
    columns: list[ColumnModel]
    job: str = Field(description="`module:function`, the job computing the table's rows per hour.")
    schedule: str | None = None
    inputs: list[str] = []
    data_format: str = "JSON"
    partition_keys: list[ColumnModel] | None = None
    lateness_hours: int = 0
    clock_skew_minutes: int = 5


def _columns(models: list[ColumnModel]) -> list[tuple[str, str]]:
    return [(c.name, c.type) for c in models]


def python_reference(reference: str, what: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise DeclarationError(f"{what} must be `module:attribute`, got {reference!r}")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise DeclarationError(f"{what} {reference!r} cannot be loaded: {error}") from None
    if not callable(target):
        raise DeclarationError(f"{what} {reference!r} is not callable")
    return target


def declared_warehouse(
    name: str,
    folder: Path,
    streaming_tables: list[StreamingTableModel],
    tables: list[TableModel],
    batch_tables: list[BatchTableModel],
    is_dev: bool | None = None,
) -> ServerlessDataWarehouse:
    """The warehouse the YAML declares: streaming tables first, then plain, then batch tables (a
    batch table's inputs must be declared before it, as in the fluent API)."""
    warehouse = ServerlessDataWarehouse(name, is_dev=is_dev)
    for table in streaming_tables:
        warehouse = warehouse.with_streaming_input_table(
            table.name,
            _columns(table.columns),
            partition_key=table.partition_key,
            shard_count=table.shard_count,
            flush_interval_s=table.flush_interval_s,
            on_demand=table.on_demand,
            error_rate_warn=table.error_rate_warn,
            error_rate_error=table.error_rate_error,
        )
    for plain in tables:
        warehouse = warehouse.with_table(
            plain.name,
            _columns(plain.columns),
            data_format=plain.data_format,
            partition_keys=_columns(plain.partition_keys) if plain.partition_keys else None,
            seed_file=folder / plain.seed_file if plain.seed_file else None,
        )
    for batch in batch_tables:
        keys = _columns(batch.partition_keys) if batch.partition_keys else [("inserted_at", "string")]
        warehouse = warehouse.with_batch_input_table(
            batch.name,
            _columns(batch.columns),
            job=python_reference(batch.job, f"table {batch.name!r}: job"),
            schedule=batch.schedule,
            inputs=tuple(batch.inputs),
            data_format=batch.data_format,
            partition_keys=keys,
            lateness_hours=batch.lateness_hours,
            clock_skew_minutes=batch.clock_skew_minutes,
        )
    return warehouse
