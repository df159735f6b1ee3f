"""What a query will read, worked out before it runs: for each catalog table it references, the
partitions its partition-key predicates allow and the objects (with sizes) under them.

Both engines use it: DuckDB builds its views from it, and both apply the cost guard rail with it.
The guard rail judges the scan, in two lines. First the shape: every scan of a partitioned table
must restrict the partition key with an equality, an `IN` list or a bounded range (both ends), or
the query is refused naming the table and the key. Then what the plan reads: no scan may read more
partitions (hours) than the budget's `hours`, and the query no more bytes than its `bytes` (whole
objects: an upper bound), so `inserted_at BETWEEN '' AND 'zzzz'` is refused on a lake older than the
budget. The caller can allow a full scan (both lines); the platform's own jobs, which read the hours
their run was given, are held to the shape only. Athena's workgroup cutoff stays as the backstop.
"""

import dataclasses
from collections.abc import Sequence

from sqlglot import exp

from dw_platform.catalog import Catalog, Partition, TableDefinition
from dw_platform.lake.hours import is_inserted_at
from dw_platform.lake.layout import hour_folder
from dw_platform.lake.store import Lake, LakeObject
from dw_platform.query.partition_filter import KeyBound, find_scans
from dw_platform.query.sql import QueryError, parse_query
from dw_platform.query.unresolvable import refuse_unresolvable, refuse_unresolved_unnest


class FullScanRefused(QueryError):
    """A query would read a partitioned table without bounding its partition key, or more than the
    per-query budget."""


GIB = 1024**3


@dataclasses.dataclass(frozen=True)
class ScanBudget:
    """The most one query may read: partitions (hours) per scan, and bytes in all (the declaration's
    `ServerlessDataWarehouse.query_budget`)."""

    hours: int
    bytes: int


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
    sources: dict[str, TableSource]  # by scan (view) name

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
    """Resolves each scan of a query to the partitions and objects it reads, and applies the guard
    rail. A scan is one reference to a table: two references read through two sources, each pruned
    by its own predicates only."""

    def __init__(self, catalog: Catalog, lake: Lake, database: str, budget: ScanBudget) -> None:
        self.catalog = catalog
        self.lake = lake
        self.database = database
        self.budget = budget

    def definitions(self) -> dict[str, TableDefinition]:
        return {t.name: t for t in self.catalog.list_tables(self.database)}

    def plan(self, sql: str, *, allow_full_scan: bool = False, budgeted: bool = True) -> ScanPlan:
        """The scans of an Athena query (used for the Athena engine: nothing is translated)."""
        definitions = self.definitions()
        tree = qualify_for_scans(parse_query(sql), self.database, definitions)
        keys = {n: (d.partition_keys[0][0] if d.partition_keys else None) for n, d in definitions.items()}
        scans = [(f"scan{i}", r.table, r.bound) for i, r in enumerate(find_scans(tree, self.database, keys))]
        return self.plan_scans(scans, definitions, allow_full_scan=allow_full_scan, budgeted=budgeted)

    def plan_scans(
        self,
        scans: Sequence[tuple[str, str, KeyBound | None]],
        definitions: dict[str, TableDefinition],
        *,
        allow_full_scan: bool = False,
        budgeted: bool = True,
    ) -> ScanPlan:
        """The sources of `scans`, refused by the guard rail unless `allow_full_scan`; `budgeted`
        False: the shape is checked, not the budget (the platform's own jobs)."""
        if not allow_full_scan:
            for _, table, bound in scans:
                definition = definitions[table]
                key = definition.partition_keys[0][0] if definition.partition_keys else None
                if key is not None and (bound is None or not bound.is_bounded):
                    raise FullScanRefused(
                        f"the query reads table {table!r} without bounding its partition key "
                        f"{key!r}: add {key} = '...', {key} IN (...) or {key} BETWEEN '...' AND '...' "
                        f"(both ends) to its WHERE clause (or its join's ON), "
                        "or allow a full scan (dw query --allow-full-scan)"
                    )
        plan = ScanPlan({view: self._source(definitions[table], bound) for view, table, bound in scans})
        if budgeted and not allow_full_scan:
            self._check_budget(plan)
        return plan

    def _check_budget(self, plan: ScanPlan) -> None:
        widest = max(
            (s for s in plan.sources.values() if s.definition.partition_keys),
            key=lambda s: s.partitions,
            default=None,
        )
        total = sum(s.bytes for s in plan.scans)
        if (widest is None or widest.partitions <= self.budget.hours) and total <= self.budget.bytes:
            return
        reads = "; ".join(plan.describe().splitlines())
        narrow = f"narrow its {widest.definition.partition_keys[0][0]} range" if widest else "read less"
        raise FullScanRefused(
            f"the query would read {reads} ({_size(total)} in all), over the per-query budget of "
            f"{self.budget.hours} partition{'s' * (self.budget.hours != 1)} (hours) per table and "
            f"{_size(self.budget.bytes)} "
            f"(query_budget_hours, query_budget_gib in the declaration): {narrow}, "
            "or allow a full scan (dw query --allow-full-scan)"
        )

    def _source(self, definition: TableDefinition, bound: KeyBound | None) -> TableSource:
        if not definition.partition_keys:
            objects = self.lake.list_objects(definition.location)
            return TableSource(definition, [(o, ()) for o in objects], 0)
        if definition.projection_start is not None:
            partitions = self._projected_partitions(definition, bound)
        else:
            partitions = self._partitions(definition.name, bound)
        files = [(o, p.values) for p in partitions for o in self.lake.list_objects(p.location)]
        return TableSource(definition, files, len(partitions))

    def _partitions(self, table: str, bound: KeyBound | None) -> list[Partition]:
        if bound is None:
            return self.catalog.get_partitions(self.database, table)
        if bound.values is not None:
            candidates = self.catalog.get_partitions(
                self.database, table, [(v,) for v in sorted(bound.values)]
            )
        else:
            candidates = self.catalog.get_partitions(self.database, table)
        return [p for p in candidates if bound.allows(p.values[0])]

    def _projected_partitions(self, definition: TableDefinition, bound: KeyBound | None) -> list[Partition]:
        """Partition projection: every hour folder from the projection start on is a partition. Listed
        values need no lookup; anything else lists the table's folders once."""
        start = definition.projection_start or ""
        if bound is not None and bound.values is not None:
            hours = {v for v in bound.values if is_inserted_at(v)}
        else:
            prefix = definition.location
            keys = (o.key[len(prefix) :] for o in self.lake.list_objects(prefix))
            hours = {key[:13] for key in keys if is_inserted_at(key[:13])}
        return [
            Partition((hour,), hour_folder(definition.name, hour))
            for hour in sorted(hours)
            if hour >= start and (bound is None or bound.allows(hour))
        ]


def qualify_for_scans(
    tree: exp.Expression, database: str, definitions: dict[str, TableDefinition]
) -> exp.Expression:
    """Qualify columns so that each predicate is attributed to one scan (no type analysis)."""
    from sqlglot.errors import OptimizeError
    from sqlglot.optimizer.qualify import qualify

    schema = {
        database: {
            name: {c: "varchar" for c, _ in [*d.columns, *d.partition_keys]}
            for name, d in definitions.items()
        }
    }
    refuse_unresolvable(tree)
    try:
        return qualify(
            tree,
            schema=schema,
            dialect="trino",
            db=database,
            expand_alias_refs=False,
            quote_identifiers=False,
            identify=False,
            validate_qualify_columns=False,
        )
    except OptimizeError as error:
        refuse_unresolved_unnest(tree, str(error))
        raise QueryError(f"cannot resolve the query: {str(error).splitlines()[0]}") from None
