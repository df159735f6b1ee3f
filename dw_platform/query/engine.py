"""The local query engine: Athena SQL answered by an in-memory DuckDB over the lake, with Athena's
semantics or a refusal (see translator.py).

As in Athena, a partitioned table shows only its registered partitions, and each partition's rows
come from the objects under its registered location. Every scan of a table reads through a view of
its own over just the partitions its own predicates can touch, so an hourly query reads one hour's
objects however old the table is. A query that does not bound a partitioned table's key, or would
read more than the per-query budget, is refused unless the caller allows a full scan (see
scan_plan). The session is UTC whatever the machine's TZ, and DuckDB may read files under the lake
only: no extension is loaded or installed at run time.
"""

import dataclasses
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb

from dw_platform.catalog import Catalog, TableDefinition
from dw_platform.declaration.identifiers import sql_string_literal
from dw_platform.lake.store import Lake
from dw_platform.query import trino_types as tt
from dw_platform.query.macros import FAILURE_MARK, Macros
from dw_platform.query.metadata import answer_metadata
from dw_platform.query.plain_rows import PlainRows, is_plain
from dw_platform.query.scan_plan import ScanBudget, ScanPlan, ScanPlanner, TableScan, TableSource
from dw_platform.query.scopes import Columns
from dw_platform.query.sql import QueryError, QueryExecutionError, UnsupportedQuery
from dw_platform.query.translator import (
    HIDDEN_COLUMNS,
    TableShape,
    Translation,
    Translator,
    parse_written,
    quote,
)

if TYPE_CHECKING:
    import pyarrow as pa

_FILE_COLUMN = "__dw_file"


@dataclasses.dataclass(frozen=True)
class QueryResult:
    # An Arrow table; a PlainRows (read the same way) where the caller asked for plain rows.
    table: "pa.Table | PlainRows"
    scans: tuple[TableScan, ...]
    # Athena reports one figure for the whole query instead of per-table scans.
    reported_bytes: int | None = None
    # The Trino type of each result column (None where the engine did not report one).
    types: tuple[tt.TrinoType, ...] | None = None
    # Where the answer is one of several the SQL's documented contract admits (Translation.notes).
    notes: tuple[str, ...] = ()

    @property
    def bytes_scanned(self) -> int:
        return self.reported_bytes if self.reported_bytes is not None else sum(s.bytes for s in self.scans)


def exact_path(path: str) -> str:
    """A path DuckDB's readers take literally: they expand glob characters, so each is escaped as a
    one-character class (`a*b` -> `a[*]b`)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def table_shape(definition: TableDefinition) -> TableShape:
    columns: Columns = [
        (c, tt.CATALOG_TYPES[t]) for c, t in [*definition.columns, *definition.partition_keys]
    ]
    key = definition.partition_keys[0][0] if definition.partition_keys else None
    return TableShape(definition.name, columns, key)


class DuckDBEngine:
    def __init__(self, catalog: Catalog, lake: Lake, database: str, budget: ScanBudget) -> None:
        self.catalog = catalog
        self.lake = lake
        self.database = database
        self.planner = ScanPlanner(catalog, lake, database, budget)
        self._databases: dict[bool, tuple[duckdb.DuckDBPyConnection, Macros]] = {}
        self._lock = threading.Lock()

    # ---- planning -----------------------------------------------------------------------------------
    def translate(self, sql: str) -> tuple[Translation, dict[str, TableDefinition]]:
        definitions = self.planner.definitions()
        shapes = {name: table_shape(d) for name, d in definitions.items()}
        try:
            translation = Translator(shapes, self.database).translate(parse_written(sql))
        except RecursionError:
            raise QueryError("the query is nested too deeply") from None
        return translation, definitions

    def plan(self, sql: str, *, allow_full_scan: bool = False, budgeted: bool = True) -> ScanPlan:
        """What `query` would read (raises FullScanRefused like it), without running anything."""
        if answer_metadata(sql, self.catalog, self.database) is not None:
            return ScanPlan({})
        translation, definitions = self.translate(sql)
        scans = [(s.view, s.table, s.bound) for s in translation.scans]
        return self.planner.plan_scans(scans, definitions, allow_full_scan=allow_full_scan, budgeted=budgeted)

    # ---- running --------------------------------------------------------------------------------------
    def query(
        self,
        sql: str,
        *,
        allow_full_scan: bool = False,
        budgeted: bool = True,
        on_plan: Callable[[ScanPlan], None] | None = None,
        plain: bool = False,
    ) -> QueryResult:
        """`on_plan` is told what the query will read before it runs (as `plan` would say, from the
        same translation); `plain`: the answer may come as PlainRows where its types allow."""
        metadata = answer_metadata(sql, self.catalog, self.database)
        if metadata is not None:
            table, types = metadata
            return QueryResult(table, (), types=types)
        translation, definitions = self.translate(sql)
        scans = [(s.view, s.table, s.bound) for s in translation.scans]
        plan = self.planner.plan_scans(scans, definitions, allow_full_scan=allow_full_scan, budgeted=budgeted)
        if on_plan is not None:
            on_plan(plan)
        try:
            table = self._run(translation.sql, plan, plain=plain)
        except duckdb.Error as error:
            if "TRY(" not in translation.sql:
                raise _execution_error(error) from None
            # DuckDB's expression rewriter folds a constant cast inside a macro's CASE before an
            # enclosing TRY can catch its error: try(from_iso8601_timestamp('2026-02-30T00:00:00Z'))
            # failed where Trino gives NULL. Without the rewriter the statement is answered, or fails
            # again with the error that is really there.
            try:
                table = self._run(translation.sql, plan, unfolded=True, plain=plain)
            except duckdb.Error as again:
                raise _execution_error(again) from None
        types = tuple(t for _, t in translation.columns)
        return QueryResult(table, plan.scans, types=types, notes=translation.notes)

    def _run(
        self, sql: str, plan: ScanPlan, *, unfolded: bool = False, plain: bool = False
    ) -> "pa.Table | PlainRows":
        database, macros = self._open(unfolded=unfolded)
        connection = database.cursor()
        try:
            # Macros the query calls, and dw_tstz, which every view's "$file_modified_time" calls.
            macros.ensure(sql, "dw_tstz")
            for view, source in plan.sources.items():
                self._create_view(connection, view, source)
            relation = connection.sql(sql)
            if plain and is_plain(relation.types):
                return PlainRows(relation.columns, relation.fetchall())
            return relation.to_arrow_table()
        finally:
            connection.close()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        return self._open()[0]

    def _open(self, *, unfolded: bool = False) -> tuple[duckdb.DuckDBPyConnection, Macros]:
        """The engine's database, opened once, and its macros (created as queries call them);
        `unfolded`: a second one without the expression rewriter, for statements with try()."""
        with self._lock:
            if unfolded not in self._databases:
                config = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
                if unfolded:
                    config["disabled_optimizers"] = "expression_rewriter"
                database = duckdb.connect(":memory:", config=config)
                database.execute("SET TimeZone = 'UTC'")  # Athena's session zone, whatever TZ says
                macros = Macros(database)
                if self.lake.is_local:
                    database.execute(
                        f"SET allowed_directories = [{sql_string_literal(self.lake.base + '/')}]"
                    )
                database.execute("SET enable_external_access = false")
                database.execute("SET lock_configuration = true")
                self._databases[unfolded] = (database, macros)
            return self._databases[unfolded]

    # ---- views ------------------------------------------------------------------------------------------
    def _create_view(self, connection: duckdb.DuckDBPyConnection, name: str, source: TableSource) -> None:
        definition = source.definition
        shape = table_shape(definition)
        columns = list(definition.columns)
        keys = list(definition.partition_keys)
        if not source.files:
            typed_nulls = ", ".join(
                f"CAST(NULL AS {t.duckdb()}) AS {quote(c)}" for c, t in [*shape.columns, *HIDDEN_COLUMNS]
            )
            connection.execute(f"CREATE TEMP VIEW {quote(name)} AS SELECT {typed_nulls} WHERE false")
            return
        if not self.lake.is_local:
            self._create_dataset_view(connection, name, source)
            return
        # Each object once: two partitions registered on one location list its objects twice, and
        # the join below gives each of them the object's rows once, as Athena reads each partition's
        # location for that partition (a reader given a path twice reads it twice: rows squared).
        paths = dict.fromkeys(exact_path(self.lake.uri(o.key)) for o, _ in source.files)
        file_list = "[" + ", ".join(sql_string_literal(path) for path in paths) + "]"
        keys_of = dict(definition.json_keys)  # column -> JSON key, as the SerDe's mapping
        duck = {c: tt.CATALOG_TYPES[t].duckdb() for c, t in [*columns, *keys]}
        if definition.data_format == "PARQUET":
            # Objects written before a column was added lack it: unioned by name with a typed empty
            # row, every declared column exists and reads as NULL where an object lacks it.
            typed = ", ".join(f"CAST(NULL AS {duck[c]}) AS {quote(c)}" for c, _ in columns)
            reader = (
                f"(SELECT * FROM read_parquet({file_list}, filename='{_FILE_COLUMN}', union_by_name=true) "
                f"UNION ALL BY NAME SELECT {typed}, CAST(NULL AS VARCHAR) AS {_FILE_COLUMN} WHERE false)"
            )
        else:
            spec = ", ".join(f"{sql_string_literal(keys_of.get(c, c))}: '{duck[c]}'" for c, _ in columns)
            reader = (
                f"read_json({file_list}, format='newline_delimited', columns={{{spec}}}, "
                f"filename='{_FILE_COLUMN}')"
            )
        # Each object's path, size, modification time and partition values, as a table DuckDB builds
        # from lists (pa.array from Python lists would import pandas: seconds of every query's start).
        files_name = f"__dw_files_{name}"
        files_columns = [
            f"unnest($1::VARCHAR[]) AS {_FILE_COLUMN}",
            'unnest($2::VARCHAR[]) AS "$path"',
            'unnest($3::BIGINT[]) AS "$file_size"',
            'unnest($4::TIMESTAMPTZ[]) AS "$file_modified_time"',
            *(f"unnest(${5 + i}::VARCHAR[]) AS {quote(k)}" for i, (k, _) in enumerate(keys)),
        ]
        connection.execute(
            f"CREATE TEMP TABLE {quote(files_name)} AS SELECT {', '.join(files_columns)}",
            [
                [exact_path(self.lake.uri(o.key)) for o, _ in source.files],
                [self.lake.display_uri(o.key) for o, _ in source.files],
                [o.size for o, _ in source.files],
                [o.modified for o, _ in source.files],
                *([values[i] for _, values in source.files] for i in range(len(keys))),
            ],
        )
        selected = [f"CAST(f.{quote(keys_of.get(c, c))} AS {duck[c]}) AS {quote(c)}" for c, _ in columns]
        selected += [f"CAST(p.{quote(k)} AS {duck[k]}) AS {quote(k)}" for k, _ in keys]
        selected += [
            'p."$path" AS "$path"',
            'p."$file_size" AS "$file_size"',
            "dw_tstz(date_trunc('millisecond', p.\"$file_modified_time\"), 'UTC') AS \"$file_modified_time\"",
        ]
        # The file column DuckDB reports is the path as given, escapes removed: match on the raw path.
        connection.execute(
            f"CREATE TEMP VIEW {quote(name)} AS SELECT {', '.join(selected)} FROM {reader} f "
            f"JOIN {quote(files_name)} p ON f.{_FILE_COLUMN} = replace(replace(replace(p.{_FILE_COLUMN}, "
            "'[*]', '*'), '[?]', '?'), '[[]', '[')"
        )

    def _create_dataset_view(
        self, connection: duckdb.DuckDBPyConnection, name: str, source: TableSource
    ) -> None:
        """Objects outside the local filesystem (S3) are read through pyarrow datasets on the lake's
        filesystem, one per object, since DuckDB's own S3 support is an extension it would download.
        DuckDB scans them lazily, with projection pushdown."""
        import pyarrow as pa
        import pyarrow.dataset as ds  # imports pandas: only for S3 lakes, not every query's start-up

        from dw_platform.declaration.column_types import ARROW_TYPES

        definition = source.definition
        keys_of = dict(definition.json_keys)
        schema = pa.schema([(keys_of.get(c, c), ARROW_TYPES[t]) for c, t in definition.columns])
        file_format = ds.ParquetFileFormat() if definition.data_format == "PARQUET" else ds.JsonFileFormat()
        selects = []
        for index, (obj, values) in enumerate(source.files):
            dataset_name = f"__dw_{name}_{index}"
            connection.register(
                dataset_name,
                ds.dataset(
                    [self.lake.path(obj.key)],
                    schema=schema,
                    format=file_format,
                    filesystem=self.lake.filesystem,
                ),
            )
            selected = [
                f"CAST({quote(keys_of.get(c, c))} AS {tt.CATALOG_TYPES[t].duckdb()}) AS {quote(c)}"
                for c, t in definition.columns
            ]
            selected += [
                f"CAST({sql_string_literal(v)} AS {tt.CATALOG_TYPES[t].duckdb()}) AS {quote(k)}"
                for v, (k, t) in zip(values, definition.partition_keys, strict=True)
            ]
            modified = f"TIMESTAMPTZ '{obj.modified.isoformat()}'" if obj.modified else "NULL"
            selected += [
                f'{sql_string_literal(self.lake.display_uri(obj.key))} AS "$path"',
                f'CAST({obj.size} AS BIGINT) AS "$file_size"',
                f"dw_tstz(date_trunc('millisecond', {modified}), 'UTC') AS \"$file_modified_time\"",
            ]
            selects.append(f"SELECT {', '.join(selected)} FROM {quote(dataset_name)}")
        connection.execute(f"CREATE TEMP VIEW {quote(name)} AS {' UNION ALL '.join(selects)}")


_TRINO_MESSAGES = {
    "Division by zero": "Division by zero",
    "Overflow": "numeric value out of range",
    "out of range": "numeric value out of range",
}


def _execution_error(error: duckdb.Error) -> QueryError:
    message = str(error).strip().splitlines()[0]
    if FAILURE_MARK in message:  # a failure Trino raises too (dw_fail)
        found = re.search(re.escape(FAILURE_MARK) + r"(.*)' to INT32", message)
        return QueryExecutionError(f"query failed: {found.group(1) if found else message}")
    if "TRY can not be used in combination with a volatile function" in message:
        return UnsupportedQuery("try() around an expression the local engine checks while it runs")
    if "not supported by the local engine: " in message:
        feature = message.split("not supported by the local engine: ", 1)[1]
        return UnsupportedQuery(feature.split("; run it on")[0])
    if (
        isinstance(error, duckdb.IOException | duckdb.InvalidInputException)
        and ("parquet" in message.lower() or "No magic bytes" in message or "file" in message.lower())
        and not message.startswith("Invalid Input Error: Cannot cast")
    ):
        return QueryExecutionError(f"an object of the query could not be read: {_strip_kind(message)}")
    for needle, text in _TRINO_MESSAGES.items():
        if needle in message:
            return QueryExecutionError(f"query failed: {text}")
    return QueryExecutionError(f"query failed: {_strip_kind(message)}")


# DuckDB's advice, which names DuckDB's own settings, functions and catalog: not the user's to follow.
_DUCKDB_ADVICE = re.compile(
    r"\s*(Did you mean\b.*|Use TRY\(.*|SET \w+.*|Candidate (bindings|functions):.*|LINE \d+:.*)$"
)


def _strip_kind(message: str) -> str:
    """DuckDB's message without its error kind ("Binder Error: ") and its advice."""
    text = message.split(" Error: ", 1)[1] if " Error: " in message else message
    return _DUCKDB_ADVICE.sub("", text).rstrip(" .") or text
