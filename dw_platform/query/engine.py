"""The local query engine: Athena SQL executed by an in-memory DuckDB over the lake.

As in Athena, a partitioned table shows only its registered partitions, and each partition's rows
come from the objects under its registered location. Each query builds views over just the
partitions its partition-key predicates can touch, so an hourly query reads one hour's objects
however old the table is.
"""

import dataclasses
from collections.abc import Sequence

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from dw_platform.catalog import Catalog, Partition, TableDefinition
from dw_platform.hours import is_inserted_at
from dw_platform.identifiers import sql_string_literal
from dw_platform.lake import Lake, LakeObject, hour_folder
from dw_platform.query.partition_filter import KeyBound, TableReference, table_references
from dw_platform.query.sql import QueryError, parse_query, to_duckdb
from dw_platform.types import ARROW_TYPES, DUCKDB_TYPES

_FILE_COLUMN = "__dw_file"


@dataclasses.dataclass(frozen=True)
class TableScan:
    """What a query reads from one table."""

    table: str
    partitions: int
    objects: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    scans: tuple[TableScan, ...]
    # Athena reports one figure for the whole query instead of per-table scans.
    reported_bytes: int | None = None

    @property
    def bytes_scanned(self) -> int:
        return self.reported_bytes if self.reported_bytes is not None else sum(s.bytes for s in self.scans)


@dataclasses.dataclass(frozen=True)
class _Source:
    definition: TableDefinition
    files: list[tuple[LakeObject, tuple[str, ...]]]  # object and its partition values
    partitions: int


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBEngine:
    def __init__(self, catalog: Catalog, lake: Lake, database: str) -> None:
        self.catalog = catalog
        self.lake = lake
        self.database = database

    def query(self, sql: str) -> QueryResult:
        tree = parse_query(sql)
        definitions = {t.name: t for t in self.catalog.list_tables(self.database)}
        keys = {
            name: (d.partition_keys[0][0] if d.partition_keys else None) for name, d in definitions.items()
        }
        references = table_references(tree, self.database, keys)
        sources = {
            name: self._source(definitions[name], [r for r in references if r.table == name])
            for name in {r.table for r in references}
        }
        for reference in references:  # the views are bare-named: drop `analytics_dw.` qualifiers
            reference.node.set("db", None)
            reference.node.set("catalog", None)
        connection = duckdb.connect(":memory:")
        try:
            for name, source in sources.items():
                self._create_view(connection, name, source)
            try:
                table = connection.sql(to_duckdb(tree)).to_arrow_table()
            except duckdb.Error as error:
                raise QueryError(f"query failed: {error}") from None
        finally:
            connection.close()
        scans = tuple(
            TableScan(name, s.partitions, len(s.files), sum(o.size for o, _ in s.files))
            for name, s in sorted(sources.items())
        )
        return QueryResult(table, scans)

    # ---- sources --------------------------------------------------------------------------------
    def _source(self, definition: TableDefinition, references: Sequence[TableReference]) -> _Source:
        if not definition.partition_keys:
            objects = self.lake.list_objects(definition.location)
            return _Source(definition, [(o, ()) for o in objects], 0)
        bounds = [r.bound for r in references]
        if definition.projection_start is not None:
            partitions = self._projected_partitions(definition, bounds)
        else:
            partitions = self._partitions(definition.name, bounds)
        files = [(o, p.values) for p in partitions for o in self.lake.list_objects(p.location)]
        return _Source(definition, files, len(partitions))

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

    # ---- views ----------------------------------------------------------------------------------
    def _create_view(self, connection: duckdb.DuckDBPyConnection, name: str, source: _Source) -> None:
        definition = source.definition
        columns = list(definition.columns)
        keys = list(definition.partition_keys)
        if not source.files:
            typed_nulls = ", ".join(
                f"CAST(NULL AS {DUCKDB_TYPES[t]}) AS {_quote(c)}" for c, t in columns + keys
            )
            connection.execute(f"CREATE VIEW {_quote(name)} AS SELECT {typed_nulls} WHERE false")
            return
        if not self.lake.is_local:
            self._create_dataset_view(connection, name, source)
            return
        file_list = "[" + ", ".join(sql_string_literal(self.lake.uri(o.key)) for o, _ in source.files) + "]"
        if definition.data_format == "PARQUET":
            reader = f"read_parquet({file_list}, filename='{_FILE_COLUMN}', union_by_name=true)"
        else:
            spec = ", ".join(f"{sql_string_literal(c)}: '{DUCKDB_TYPES[t]}'" for c, t in columns)
            reader = (
                f"read_json({file_list}, format='newline_delimited', columns={{{spec}}}, "
                f"filename='{_FILE_COLUMN}')"
            )
        selected = [f"CAST(f.{_quote(c)} AS {DUCKDB_TYPES[t]}) AS {_quote(c)}" for c, t in columns]
        if not keys:
            connection.execute(f"CREATE VIEW {_quote(name)} AS SELECT {', '.join(selected)} FROM {reader} f")
            return
        mapping = pa.table(
            {
                _FILE_COLUMN: [self.lake.uri(o.key) for o, _ in source.files],
                **{k: [values[i] for _, values in source.files] for i, (k, _) in enumerate(keys)},
            }
        )
        mapping_name = f"__dw_partitions_{name}"
        connection.register(mapping_name, mapping)
        selected += [f"CAST(p.{_quote(k)} AS {DUCKDB_TYPES[t]}) AS {_quote(k)}" for k, t in keys]
        connection.execute(
            f"CREATE VIEW {_quote(name)} AS SELECT {', '.join(selected)} FROM {reader} f "
            f"JOIN {_quote(mapping_name)} p ON f.{_FILE_COLUMN} = p.{_FILE_COLUMN}"
        )

    def _create_dataset_view(self, connection: duckdb.DuckDBPyConnection, name: str, source: _Source) -> None:
        """Objects outside the local filesystem (S3) are read through pyarrow datasets on the lake's
        filesystem, one per partition, since DuckDB's own S3 support is an extension it would
        download. DuckDB scans them lazily, with projection pushdown."""
        definition = source.definition
        schema = pa.schema([(c, ARROW_TYPES[t]) for c, t in definition.columns])
        file_format = ds.ParquetFileFormat() if definition.data_format == "PARQUET" else ds.JsonFileFormat()
        groups: dict[tuple[str, ...], list[str]] = {}
        for obj, values in source.files:
            groups.setdefault(values, []).append(self.lake.path(obj.key))
        selects = []
        for index, (values, paths) in enumerate(sorted(groups.items())):
            dataset_name = f"__dw_{name}_{index}"
            connection.register(
                dataset_name,
                ds.dataset(paths, schema=schema, format=file_format, filesystem=self.lake.filesystem),
            )
            selected = [
                f"CAST({_quote(c)} AS {DUCKDB_TYPES[t]}) AS {_quote(c)}" for c, t in definition.columns
            ]
            selected += [
                f"CAST({sql_string_literal(v)} AS {DUCKDB_TYPES[t]}) AS {_quote(k)}"
                for v, (k, t) in zip(values, definition.partition_keys, strict=True)
            ]
            selects.append(f"SELECT {', '.join(selected)} FROM {_quote(dataset_name)}")
        connection.execute(f"CREATE VIEW {_quote(name)} AS {' UNION ALL '.join(selects)}")
