"""One declaration model behind the fluent API and the YAML form: the YAML's fields are the fluent
API's (so neither can grow a field the other lacks), both build the same warehouse, and a mistake in
a defs.yaml is one line naming the file and the field."""

import dataclasses
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from dagster.components.testing import DefsFolderSandbox, create_defs_folder_sandbox

from dw_platform.components.warehouse import WarehouseComponent
from dw_platform.components.yaml_declaration import (
    BatchTableModel,
    ColumnModel,
    StreamingTableModel,
    TableModel,
    WarehouseDeclarationModel,
    parse_declaration,
)
from dw_platform.declaration.warehouse import Column, DeclarationError, ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.jobs import click_through, count_events_per_hour


def _parameters(method: Callable[..., object]) -> set[str]:
    return set(inspect.signature(method).parameters) - {"self"}


def test_the_yaml_fields_are_the_fluent_api_fields() -> None:
    assert set(StreamingTableModel.model_fields) == _parameters(
        ServerlessDataWarehouse.with_streaming_input_table
    )
    assert set(TableModel.model_fields) == _parameters(ServerlessDataWarehouse.with_table)
    assert set(BatchTableModel.model_fields) == _parameters(ServerlessDataWarehouse.with_batch_input_table)
    assert set(ColumnModel.model_fields) == {f.name for f in dataclasses.fields(Column)}
    warehouse = {f.name for f in dataclasses.fields(ServerlessDataWarehouse)} - {"tables"}
    lists = {"streaming_tables", "tables", "batch_tables"}
    assert set(WarehouseDeclarationModel.model_fields) == warehouse | lists
    # The component's attributes: a Python declaration's reference, or the YAML declaration's fields.
    assert set(WarehouseComponent.model_fields) == {"declaration"} | warehouse | lists


SALES_YAML = """
name: sales_dw
owners: [team:sales, ops@example.com]
query_cutoff_gib: 50
query_budget_hours: 48
query_budget_gib: 2.5
is_dev: false
streaming_tables:
  - name: orders
    columns: [{name: id}, {name: amount, type: double}, {name: event_time}]
    shard_count: 2
    flush_interval_s: 120
    buffer_size_mib: 64
    error_rate_warn: 0.01
    error_rate_error: 0.2
  - name: visits
    columns: [{name: id}]
    on_demand: true
    partition_projection_from: 2026/01/01/00
tables:
  - name: facts
    columns: [{name: thing}, {name: color}]
    data_format: JSON
    seed_file: facts.json
batch_tables:
  - name: order_counts
    columns: [{name: event_type}, {name: count, type: int}, {name: time}]
    job: dw_platform.defs.analytics_dw.jobs:count_events_per_hour
    inputs: [orders]
    schedule: "5 * * * *"
    lateness_hours: 2
    clock_skew_minutes: 10
    metrics: dw_platform.defs.analytics_dw.jobs:click_through
  - name: by_day
    columns: [{name: n, type: bigint}]
    job: dw_platform.defs.analytics_dw.jobs:count_events_per_hour
    partition_keys: [{name: day}]
"""


def _sales_dw(folder: Path) -> ServerlessDataWarehouse:
    return (
        ServerlessDataWarehouse(
            "sales_dw",
            owners=("team:sales", "ops@example.com"),
            query_cutoff_gib=50,
            query_budget_hours=48,
            query_budget_gib=2.5,
            is_dev=False,
        )
        .with_streaming_input_table(
            "orders",
            [Column("id"), Column("amount", "double"), Column("event_time")],
            shard_count=2,
            flush_interval_s=120,
            buffer_size_mib=64,
            error_rate_warn=0.01,
            error_rate_error=0.2,
        )
        .with_streaming_input_table(
            "visits", [("id", "string")], on_demand=True, partition_projection_from="2026/01/01/00"
        )
        .with_table(
            "facts",
            [("thing", "string"), ("color", "string")],
            data_format="JSON",
            seed_file=folder / "facts.json",
        )
        .with_batch_input_table(
            "order_counts",
            [("event_type", "string"), ("count", "int"), ("time", "string")],
            job=count_events_per_hour,
            inputs=["orders"],
            schedule="5 * * * *",
            lateness_hours=2,
            clock_skew_minutes=10,
            metrics=click_through,
        )
        .with_batch_input_table(
            "by_day", [("n", "bigint")], job=count_events_per_hour, partition_keys=[("day", "string")]
        )
    )


def test_a_warehouse_declared_in_yaml_and_in_python_is_the_same_model(tmp_path: Path) -> None:
    declared = parse_declaration(yaml.safe_load(SALES_YAML), tmp_path / "defs.yaml")
    assert declared == _sales_dw(tmp_path)
    # Fields left out take the fluent API's defaults, not defaults of the YAML's own.
    minimal = "name: m\nstreaming_tables: [{name: e, columns: [{name: id}]}]\n"
    assert parse_declaration(yaml.safe_load(minimal), tmp_path / "defs.yaml") == (
        ServerlessDataWarehouse("m").with_streaming_input_table("e", [("id", "string")])
    )


@pytest.fixture
def sandbox_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[DefsFolderSandbox, Path]]:
    monkeypatch.setenv("DW_HOME", str(tmp_path / "dw"))
    with create_defs_folder_sandbox() as sandbox:
        folder = sandbox.defs_folder_path / "sales_dw"
        folder.mkdir()
        yield sandbox, folder


def _write(folder: Path, attributes: dict[str, object]) -> Path:
    file = folder / "defs.yaml"
    file.write_text(
        yaml.safe_dump({"type": "dw_platform.components.WarehouseComponent", "attributes": attributes})
    )
    return file


def test_the_component_reads_the_yaml_declaration(sandbox_folder: tuple[DefsFolderSandbox, Path]) -> None:
    sandbox, folder = sandbox_folder
    file = _write(folder, yaml.safe_load(SALES_YAML))
    with sandbox.build_component_tree() as tree:
        component = tree.load_component(folder)
    assert isinstance(component, WarehouseComponent)
    assert parse_declaration(component.yaml_declaration(), file) == _sales_dw(folder)


def _orders(**fields: object) -> dict[str, object]:
    return {
        "name": "sales_dw",
        "streaming_tables": [{"name": "orders", "columns": [{"name": "id"}], **fields}],
    }


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (_orders(buffer_size_mb=64), "streaming_tables[0].buffer_size_mb: Extra inputs are not permitted"),
        (_orders(shard_count="many"), "streaming_tables[0].shard_count: Input should be a valid integer"),
        (_orders(columns=[{"name": "id", "typ": "int"}]), "streaming_tables[0].columns[0].typ: Extra inputs"),
        (_orders(buffer_size_mib=500), "table 'orders': buffer_size_mib must be within 64-128"),
        ({"streaming_tables": []}, "name: Field required"),
        ({"name": "sales_dw", "owners": ["nobody"]}, "owner 'nobody' is neither an e-mail address nor team:"),
        (
            {"name": "s", "batch_tables": [{"name": "b", "columns": [{"name": "n"}], "job": "nosuch:fn"}]},
            "table 'b': job 'nosuch:fn' cannot be loaded",
        ),
    ],
)
def test_a_mistake_in_the_yaml_is_one_line_naming_the_file_and_the_field(
    sandbox_folder: tuple[DefsFolderSandbox, Path], attributes: dict[str, object], message: str
) -> None:
    sandbox, folder = sandbox_folder
    file = _write(folder, attributes)
    with sandbox.build_component_tree() as tree, pytest.raises(Exception) as failed:
        tree.build_defs(folder)
    error = failed.value
    while error is not None and not isinstance(
        error, DeclarationError
    ):  # Dagster wraps what a component raises
        error = error.__cause__
    assert isinstance(error, DeclarationError), failed.value
    assert str(error).startswith(f"{file}: {message}")
    assert "\n" not in str(error)
