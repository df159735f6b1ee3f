"""Dagster's standard metadata for the warehouse's assets, derived from the declaration: the column
schema, owners, tags, freshness expectations, and descriptions of the numbers each partition carries."""

from collections.abc import Mapping
from datetime import timedelta

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec

PARTITION_ROW_COUNT = "dagster/partition_row_count"
ROW_COUNT = "dagster/row_count"
COLUMN_SCHEMA = "dagster/column_schema"

# An hourly asset is refreshed every hour (registration when the hour closes, aggregates a few
# minutes later): older than this warns, older than twice it fails.
FRESHNESS_WARN = timedelta(minutes=90)
FRESHNESS_FAIL = timedelta(hours=3)


def column_schema(spec: TableSpec) -> dg.TableSchema:
    """The table's columns as declared (partition keys last, as Athena lists them)."""
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.type) for c in spec.columns]
        + [
            dg.TableColumn(c.name, c.type, description="partition key (arrival hour, YYYY/MM/DD/HH)")
            for c in spec.partition_keys
        ]
    )


def table_metadata(spec: TableSpec) -> dict[str, object]:
    return {COLUMN_SCHEMA: column_schema(spec)}


def asset_tags(warehouse: ServerlessDataWarehouse, spec: TableSpec, role: str) -> dict[str, str]:
    """`role`: what the asset does to the table (registration, compaction, batch, static)."""
    return {"warehouse": warehouse.name, "table": spec.name, "table_kind": spec.kind.value, "role": role}


def owners(warehouse: ServerlessDataWarehouse) -> list[str]:
    return list(warehouse.owners)


def hourly_freshness() -> dg.FreshnessPolicy:
    return dg.FreshnessPolicy.time_window(fail_window=FRESHNESS_FAIL, warn_window=FRESHNESS_WARN)


def describe_numbers(numbers: Mapping[str, str]) -> str:
    """A Markdown list of what each number in a partition's metadata is (the UI plots them)."""
    return "\n\nNumbers per partition (plotted per hour):\n" + "\n".join(
        f"- `{name}`: {meaning}" for name, meaning in numbers.items()
    )
