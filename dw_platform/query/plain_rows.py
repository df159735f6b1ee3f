"""A query's answer fetched as Python values instead of an Arrow table, for `dw query`.

Converting DuckDB's answer to Arrow means importing pyarrow (and numpy), about 0.15 s of CPU at
every `dw query` start: more than a typical analyst query over the lake takes to run. Where each
result column has a DuckDB type whose Python value is the one Arrow's `to_pylist` gives (integers,
VARCHAR, DOUBLE, BOOLEAN), the rows are fetched directly into a PlainRows, which offers the part
of pyarrow.Table's interface that rendering reads. Any other column type goes through Arrow, as
before, so every answer is the same value either way.
"""

from collections.abc import Sequence
from typing import Any

# DuckDB column types whose fetched Python values equal Arrow's to_pylist values (int, str, float,
# bool or None); FLOAT, DECIMAL, dates, timestamps, nested and binary types are converted by Arrow.
PLAIN_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "VARCHAR", "DOUBLE", "BOOLEAN"})


class PlainColumn:
    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def to_pylist(self) -> list[Any]:
        return list(self._values)


class PlainRows:
    """Rows of plain values under column names, read like a pyarrow.Table."""

    def __init__(self, names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        self.column_names = list(names)
        self._rows = rows

    @property
    def num_columns(self) -> int:
        return len(self.column_names)

    @property
    def num_rows(self) -> int:
        return len(self._rows)

    def column(self, index: int) -> PlainColumn:
        return PlainColumn([row[index] for row in self._rows])

    def to_pylist(self) -> list[dict[str, Any]]:
        # As Arrow: a name given twice keeps its last column's value.
        return [dict(zip(self.column_names, row, strict=True)) for row in self._rows]


def is_plain(duckdb_types: Sequence[object]) -> bool:
    return all(str(t) in PLAIN_TYPES for t in duckdb_types)
