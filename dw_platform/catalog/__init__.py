"""The catalog: databases, tables and partitions, as in the Glue Data Catalog."""

from dw_platform.catalog.model import (
    Catalog,
    Partition,
    TableDefinition,
    TableNotFoundError,
    table_definition,
)

__all__ = ["Catalog", "Partition", "TableDefinition", "TableNotFoundError", "table_definition"]
