"""What a query will read, worked out before it runs: for each catalog table it references, the
partitions its partition-key predicates allow and the objects (with sizes) under them.

Both engines use it: DuckDB builds its views from it, and both apply the cost guard rail with it.
The guard rail: every scan of a partitioned table must restrict the partition key with an equality,
an `IN` list or a bounded range (both ends), or the query is refused naming the table and the key,
unless the caller allows a full scan. Athena's workgroup cutoff stays as the backstop.
"""

import dataclasses
from collections.abc import Sequence

from sqlglot import exp

from dw_platform.catalog import Catalog, Partition, TableDefinition
from dw_platform.hours import is_inserted_at
from dw_platform.lake import Lake, LakeObject, hour_folder
from dw_platform.query.partition_filter import KeyBound, TableReference, table_references
from dw_platform.query.sql import QueryError


class FullScanRefused(QueryError):
    """A query would read a partitioned table without bounding its partition key."""


@dataclasses.dataclass(frozen=True)
class TableScan:
    """What a query reads from one table."""

    table: str
    partitions: int
    objects: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class TableSource:
    definition: TableDefinition
    files: list[tuple[LakeObject, tuple[str, ...]]]  # object and its partition values
    partitions: int

    @property
    def scan(self) -> TableScan:
        return TableScan(
            self.definition.name, self.partitions, len(self.files), sum(o.size for o, _ in self.files)
        )


@dataclasses.dataclass(frozen=True)
class ScanPlan:
    references: list[TableReference]
    sources: dict[str, TableSource]

    @property
    def scans(self) -> tuple[TableScan, ...]:
        return tuple(source.scan for _, source in sorted(self.sources.items()))

    def describe(self) -> str:
        """One line per table, e.g. `impressions: 1 partition, 4 objects, 1.2 MiB`."""
        return "\n".join(
            f"{s.table}: {s.partitions} partition{'s' * (s.partitions != 1)}, {s.objects} objects, "
            f"{_size(s.bytes)}"
            for s in self.scans
        )


def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


class ScanPlanner:
    def __init__(self, catalog: Catalog, lake: Lake, database: str) -> None:
        self.catalog = catalog
        self.lake = lake
        self.database = database

    def plan(self, tree: exp.Expression, *, allow_full_scan: bool = False) -> ScanPlan:
        definitions = {t.name: t for t in self.catalog.list_tables(self.database)}
        keys = {
            name: (d.partition_keys[0][0] if d.partition_keys else None) for name, d in definitions.items()
        }
        references = table_references(tree, self.database, keys)
        if not allow_full_scan:
            for reference in references:
                key = keys[reference.table]
                if key is not None and (reference.bound is None or not reference.bound.is_bounded):
                    raise FullScanRefused(
                        f"the query reads table {reference.table!r} without bounding its partition key "
                        f"{key!r}: add {key} = '...', {key} IN (...) or {key} BETWEEN '...' AND '...' "
                        f"(both ends) to its WHERE clause, or allow a full scan (dw query --allow-full-scan)"
                    )
        sources = {
            name: self._source(definitions[name], [r for r in references if r.table == name])
            for name in {r.table for r in references}
        }
        return ScanPlan(references, sources)

    def _source(self, definition: TableDefinition, references: Sequence[TableReference]) -> TableSource:
        if not definition.partition_keys:
            objects = self.lake.list_objects(definition.location)
            return TableSource(definition, [(o, ()) for o in objects], 0)
        bounds = [r.bound for r in references]
        if definition.projection_start is not None:
            partitions = self._projected_partitions(definition, bounds)
        else:
            partitions = self._partitions(definition.name, bounds)
        files = [(o, p.values) for p in partitions for o in self.lake.list_objects(p.location)]
        return TableSource(definition, files, len(partitions))

    def _partitions(self, table: str, bounds: Sequence[KeyBound | None]) -> list[Partition]:
        if any(b is None for b in bounds):
            return self.catalog.get_partitions(self.database, table)
        explicit = [b for b in bounds if b is not None]
        if all(b.values is not None for b in explicit):
            wanted = sorted({v for b in explicit for v in b.values or ()})
            candidates = self.catalog.get_partitions(self.database, table, [(v,) for v in wanted])
        else:
            candidates = self.catalog.get_partitions(self.database, table)
        return [p for p in candidates if any(b.allows(p.values[0]) for b in explicit)]

    def _projected_partitions(
        self, definition: TableDefinition, bounds: Sequence[KeyBound | None]
    ) -> list[Partition]:
        """Partition projection: every hour folder from the projection start on is a partition. Listed
        values need no lookup; anything else lists the table's folders once."""
        start = definition.projection_start or ""
        explicit = [b for b in bounds if b is not None]
        if len(explicit) == len(bounds) and all(b.values is not None for b in explicit):
            hours = {v for b in explicit for v in b.values or () if is_inserted_at(v)}
        else:
            prefix = definition.location
            keys = (o.key[len(prefix) :] for o in self.lake.list_objects(prefix))
            hours = {key[:13] for key in keys if is_inserted_at(key[:13])}
        # The view serves every reference of the table: the union of what each may read.
        return [
            Partition((hour,), hour_folder(definition.name, hour))
            for hour in sorted(hours)
            if hour >= start and any(b is None or b.allows(hour) for b in bounds)
        ]
