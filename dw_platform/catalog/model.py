"""What the catalog stores and the operations every catalog (local or Glue) offers.

Locations are lake keys (`impressions/2026/01/01/00/`), not URIs: each adapter maps them to its
storage, so the same assets work over the local lake and over S3.
"""

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Protocol

from dw_platform.declaration.warehouse import TableSpec
from dw_platform.errors import UserInputError


@dataclasses.dataclass(frozen=True)
class TableDefinition:
    name: str
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]
    data_format: str
    location: str
    # Partition projection (Athena computes hourly partitions from this hour on; none registered).
    projection_start: str | None = None
    # JSON tables: column -> key in the objects, where they differ (the SerDe's `mapping.*`).
    json_keys: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "TableDefinition":
        return cls(
            name=data["name"],
            columns=tuple(tuple(c) for c in data["columns"]),
            partition_keys=tuple(tuple(k) for k in data["partition_keys"]),
            data_format=data["data_format"],
            location=data["location"],
            projection_start=data.get("projection_start"),
            json_keys=tuple(tuple(k) for k in data.get("json_keys", ())),
        )


class TableNotFoundError(UserInputError, LookupError):
    """The catalog has no such table (yet): sync the declaration and try again."""


@dataclasses.dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]
    location: str


def table_definition(spec: TableSpec) -> TableDefinition:
    return TableDefinition(
        name=spec.name,
        columns=tuple((c.name, c.type) for c in spec.columns),
        partition_keys=tuple((k.name, k.type) for k in spec.partition_keys),
        data_format=spec.data_format,
        location=spec.prefix,
        projection_start=spec.streaming.projection_start if spec.streaming else None,
        json_keys=spec.json_keys,
    )


class Catalog(Protocol):
    def ensure_database(self, database: str) -> bool:
        """Create the database if missing; True if it was created."""
        ...

    def upsert_table(self, database: str, table: TableDefinition) -> bool:
        """Create or update a table definition; True if anything changed."""
        ...

    def get_table(self, database: str, name: str) -> TableDefinition | None: ...

    def list_tables(self, database: str) -> list[TableDefinition]: ...

    def register_partitions(
        self, database: str, table: TableDefinition, partitions: Iterable[Partition]
    ) -> int:
        """Add partitions that do not exist yet (existing ones keep their location); returns how
        many were created. The caller's definition gives new partitions their storage descriptor,
        so registering costs no extra lookup. Raises TableNotFoundError for an unknown table."""
        ...

    def switch_partition_location(
        self, database: str, table: str, values: tuple[str, ...], new_location: str, expected_location: str
    ) -> bool:
        """Point a partition at `new_location` in one operation, only if it still points at
        `expected_location` (a conditional write: of two concurrent switches, one wins)."""
        ...

    def get_partitions(
        self, database: str, table: str, values: Sequence[tuple[str, ...]] | None = None
    ) -> list[Partition]:
        """All partitions of a table, or only those with the given values, sorted by values."""
        ...
