"""The local query engine: Athena SQL executed by an in-memory DuckDB over the lake.

As in Athena, a partitioned table shows only its registered partitions, and each partition's rows
come from the objects under its registered location. Each query builds views over just the
partitions its partition-key predicates can touch, so an hourly query reads one hour's objects
however old the table is. A query that does not bound a partitioned table's key is refused unless
the caller allows a full scan (see scan_plan).
"""

import dataclasses

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from dw_platform.catalog import Catalog
from dw_platform.identifiers import sql_string_literal
from dw_platform.lake import Lake
from dw_platform.query.scan_plan import ScanPlan, ScanPlanner, TableScan, TableSource
from dw_platform.query.sql import QueryError, parse_query, to_duckdb
from dw_platform.types import ARROW_TYPES, DUCKDB_TYPES

_FILE_COLUMN = "__dw_file"


@dataclasses.dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    scans: tuple[TableScan, ...]
    # Athena reports one figure for the whole query instead of per-table scans.
    reported_bytes: int | None = None

    @property
    def bytes_scanned(self) -> int:
        return self.reported_bytes if self.reported_bytes is not None else sum(s.bytes for s in self.scans)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class DuckDBEngine:
    def __init__(self, catalog: Catalog, lake: Lake, database: str) -> None:
        self.catalog = catalog
        self.lake = lake
        self.database = database
        self.planner = ScanPlanner(catalog, lake, database)

    def plan(self, sql: str, *, allow_full_scan: bool = False) -> ScanPlan:
        """What `query` would read (raises FullScanRefused like it), without running anything."""
        return self.planner.plan(parse_query(sql), allow_full_scan=allow_full_scan)

    def query(self, sql: str, *, allow_full_scan: bool = False) -> QueryResult:
        tree = parse_query(sql)
        plan = self.planner.plan(tree, allow_full_scan=allow_full_scan)
        for reference in plan.references:  # the views are bare-named: drop `analytics_dw.` qualifiers
            reference.node.set("db", None)
            reference.node.set("catalog", None)
        connection = duckdb.connect(":memory:")
        try:
            for name, source in plan.sources.items():
                self._create_view(connection, name, source)
            try:
                table = connection.sql(to_duckdb(tree)).to_arrow_table()
            except duckdb.Error as error:
                raise QueryError(f"query failed: {error}") from None
        finally:
            connection.close()
        return QueryResult(table, plan.scans)

    # ---- views ----------------------------------------------------------------------------------
    def _create_view(self, connection: duckdb.DuckDBPyConnection, name: str, source: TableSource) -> None:
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
        keys_of = dict(definition.json_keys)  # column -> JSON key, as the SerDe's mapping
        if definition.data_format == "PARQUET":
            reader = f"read_parquet({file_list}, filename='{_FILE_COLUMN}', union_by_name=true)"
        else:
            spec = ", ".join(
                f"{sql_string_literal(keys_of.get(c, c))}: '{DUCKDB_TYPES[t]}'" for c, t in columns
            )
            reader = (
                f"read_json({file_list}, format='newline_delimited', columns={{{spec}}}, "
                f"filename='{_FILE_COLUMN}')"
            )
        selected = [
            f"CAST(f.{_quote(keys_of.get(c, c))} AS {DUCKDB_TYPES[t]}) AS {_quote(c)}" for c, t in columns
        ]
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

    def _create_dataset_view(
        self, connection: duckdb.DuckDBPyConnection, name: str, source: TableSource
    ) -> None:
        """Objects outside the local filesystem (S3) are read through pyarrow datasets on the lake's
        filesystem, one per partition, since DuckDB's own S3 support is an extension it would
        download. DuckDB scans them lazily, with projection pushdown."""
        definition = source.definition
        keys_of = dict(definition.json_keys)
        schema = pa.schema([(keys_of.get(c, c), ARROW_TYPES[t]) for c, t in definition.columns])
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
                f"CAST({_quote(keys_of.get(c, c))} AS {DUCKDB_TYPES[t]}) AS {_quote(c)}"
                for c, t in definition.columns
            ]
            selected += [
                f"CAST({sql_string_literal(v)} AS {DUCKDB_TYPES[t]}) AS {_quote(k)}"
                for v, (k, t) in zip(values, definition.partition_keys, strict=True)
            ]
            selects.append(f"SELECT {', '.join(selected)} FROM {_quote(dataset_name)}")
        connection.execute(f"CREATE VIEW {_quote(name)} AS {' UNION ALL '.join(selects)}")
