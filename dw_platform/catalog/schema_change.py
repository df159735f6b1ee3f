"""A table's schema change, column by column: what `dw provision plan` shows and what it refuses.

Safe, applied in place (Glue table, its partitions' columns, the delivery stream re-reading the
schema; the local catalog follows the declaration): a column added at the end, and a type widened
where Parquet and Athena read the old files as the new type (tinyint -> smallint -> int -> bigint,
float -> double: Athena's compatible types). Old objects read an added column as NULL.

Refused, with what to do instead: removing or renaming a column (old objects keep the name, and a
rename reads as remove + add: the old values would vanish from queries), reordering columns,
narrowing or changing a type (old files cannot be read as the new type), changing the partition
key or the data format.
"""

import dataclasses
from collections.abc import Sequence

from dw_platform.catalog.model import TableDefinition
from dw_platform.errors import UserInputError

# What each type may become (Athena's "compatible data types" for Parquet; transitive).
WIDENINGS: dict[str, frozenset[str]] = {
    "tinyint": frozenset({"smallint", "int", "bigint"}),
    "smallint": frozenset({"int", "bigint"}),
    "int": frozenset({"bigint"}),
    "float": frozenset({"double"}),
}

ADD, WIDEN = "add", "widen"


class UnsafeSchemaChange(UserInputError):
    """A declaration change the lake's existing objects cannot follow; the message says why and what
    to do instead."""


@dataclasses.dataclass(frozen=True)
class ColumnChange:
    action: str  # ADD or WIDEN
    column: str
    type: str
    old_type: str | None = None

    def describe(self) -> str:
        if self.action == ADD:
            return f"+ column {self.column} {self.type}"
        return f"~ column {self.column} {self.old_type} -> {self.type}"


@dataclasses.dataclass(frozen=True)
class SchemaChange:
    table: str
    changes: tuple[ColumnChange, ...]

    def describe(self) -> str:
        return ", ".join(c.describe() for c in self.changes)


def _refuse(table: str, what: str, instead: str) -> UnsafeSchemaChange:
    return UnsafeSchemaChange(f"table {table}: {what} cannot be applied safely; {instead}")


def _columns_change(
    table: str, current: Sequence[tuple[str, str]], desired: Sequence[tuple[str, str]]
) -> list[ColumnChange]:
    old = dict(current)
    new = dict(desired)
    removed = [name for name in old if name not in new]
    added = [name for name in new if name not in old]
    if removed and added:
        raise _refuse(
            table,
            f"renaming or replacing column(s) {removed} by {added}",
            "old objects keep the old name, so its values would read as NULL: add the new column and keep "
            "the old one (declare both), then stop writing the old field",
        )
    if removed:
        raise _refuse(
            table,
            f"removing column(s) {removed}",
            "keep the column in the declaration (producers may stop sending it: it reads as NULL), or "
            "create a new table and copy what you need",
        )
    kept = [name for name, _ in desired if name in old]
    if kept != [name for name, _ in current]:
        raise _refuse(
            table,
            "reordering columns",
            "declare existing columns in their order and add new ones at the end",
        )
    if [name for name, _ in desired[: len(current)]] != kept:
        raise _refuse(table, "inserting a column between existing ones", "add new columns at the end")
    changes: list[ColumnChange] = []
    for name, type_ in desired:
        if name not in old:
            changes.append(ColumnChange(ADD, name, type_))
        elif old[name] != type_:
            if type_ not in WIDENINGS.get(old[name], frozenset()):
                narrowing = old[name] in WIDENINGS.get(type_, frozenset())
                raise _refuse(
                    table,
                    f"{'narrowing' if narrowing else 'changing'} column {name} from {old[name]} to {type_}",
                    "old Parquet files cannot be read as the new type: only widenings (tinyint -> smallint "
                    "-> int -> bigint, float -> double) are applied in place; otherwise add a new column "
                    "of the new type",
                )
            changes.append(ColumnChange(WIDEN, name, type_, old[name]))
    return changes


def schema_change(current: TableDefinition, desired: TableDefinition) -> SchemaChange:
    """The column changes from `current` (the catalog's) to `desired` (the declaration's); raises
    UnsafeSchemaChange for a change existing objects and partitions cannot follow."""
    table = desired.name
    if current.partition_keys != desired.partition_keys:
        raise _refuse(
            table,
            f"changing the partition key from {list(current.partition_keys)} to "
            f"{list(desired.partition_keys)}",
            "every registered partition and every object's folder is keyed by the old one: declare a new "
            "table with the new key and backfill it",
        )
    if current.data_format != desired.data_format:
        raise _refuse(
            table,
            f"changing the data format from {current.data_format} to {desired.data_format}",
            "existing objects stay in the old format: declare a new table",
        )
    return SchemaChange(table, tuple(_columns_change(table, current.columns, desired.columns)))


def check_schema_change(current: TableDefinition | None, desired: TableDefinition) -> SchemaChange | None:
    """None for a table that does not exist yet; raises UnsafeSchemaChange for an unsafe change."""
    return None if current is None else schema_change(current, desired)
