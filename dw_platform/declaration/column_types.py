"""Column types of the catalog (Hive/Glue names) and their Arrow and DuckDB equivalents."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    ARROW_TYPES: dict[str, pa.DataType]

DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}

SUPPORTED_TYPES = frozenset(DUCKDB_TYPES)


def _arrow_types() -> "dict[str, pa.DataType]":
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "smallint": pa.int16(),
        "tinyint": pa.int8(),
        "double": pa.float64(),
        "float": pa.float32(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("ms"),
        "date": pa.date32(),
    }


def __getattr__(name: str) -> Any:
    # ARROW_TYPES is built on first use: importing pyarrow costs `dw query` (which declares
    # warehouses but never writes Arrow) about 0.15 s of CPU at every start.
    if name == "ARROW_TYPES":
        types = _arrow_types()
        globals()["ARROW_TYPES"] = types
        return types
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
