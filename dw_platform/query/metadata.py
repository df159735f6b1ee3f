"""Athena's metadata statements, answered from the catalog: SHOW TABLES [LIKE], SHOW DATABASES /
SCHEMAS, DESCRIBE / SHOW COLUMNS, SHOW PARTITIONS, SHOW CREATE TABLE."""

import re
import urllib.parse
from typing import TYPE_CHECKING

from dw_platform.catalog import Catalog, TableDefinition
from dw_platform.query import trino_types as tt
from dw_platform.query.scopes import tables_hint
from dw_platform.query.sql import QueryError

if TYPE_CHECKING:  # pyarrow is imported by the statements answered here only: see plain_rows
    import pyarrow as pa

_NAME = r"(?:(?P<db>\w+)\.)?(?P<table>\w+)"
_STATEMENTS = {
    "tables": re.compile(
        r"SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+(?P<db>\w+))?(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?", re.I
    ),
    "databases": re.compile(r"SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?", re.I),
    "columns": re.compile(rf"(?:DESCRIBE|DESC|SHOW\s+COLUMNS\s+(?:FROM|IN))\s+`?{_NAME}`?", re.I),
    "partitions": re.compile(rf"SHOW\s+PARTITIONS\s+`?{_NAME}`?", re.I),
    "create": re.compile(rf"SHOW\s+CREATE\s+TABLE\s+`?{_NAME}`?", re.I),
}
_HIVE_TYPES = {
    "string": "string",
    "int": "int",
    "bigint": "bigint",
    "smallint": "smallint",
    "tinyint": "tinyint",
    "double": "double",
    "float": "float",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


def _like(pattern: str | None):  # type: ignore[no-untyped-def]
    """Athena's SHOW ... LIKE pattern: `*` any characters, `|` alternatives, case-insensitive."""
    if pattern is None:
        return lambda name: True
    alternatives = "|".join(
        ".*".join(re.escape(part) for part in alt.split("*")) for alt in pattern.split("|")
    )
    compiled = re.compile(f"^(?:{alternatives})$", re.I)
    return lambda name: bool(compiled.match(name))


def _strings(name: str, values: list[str]) -> "tuple[pa.Table, tuple[tt.TrinoType, ...]]":
    import pyarrow as pa

    return pa.table({name: pa.array(values, pa.string())}), (tt.VARCHAR,)


def is_metadata_statement(sql: str) -> bool:
    text = sql.strip().rstrip(";").strip()
    return any(pattern.fullmatch(text) for pattern in _STATEMENTS.values())


def answer_metadata(
    sql: str, catalog: Catalog, database: str
) -> "tuple[pa.Table, tuple[tt.TrinoType, ...]] | None":
    """The answer to a metadata statement, or None when `sql` is not one."""
    text = sql.strip().rstrip(";").strip()
    for kind, pattern in _STATEMENTS.items():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        groups = found.groupdict()
        db = (groups.get("db") or database).lower()
        if kind == "databases":
            return _strings("database_name", [database] if _like(groups.get("like"))(database) else [])
        if db != database:
            raise QueryError(f"database {db!r} does not exist")
        if kind == "tables":
            names = sorted(t.name for t in catalog.list_tables(database))
            return _strings("tab_name", [n for n in names if _like(groups.get("like"))(n)])
        definition = catalog.get_table(database, groups["table"].lower())
        if definition is None:
            names = (t.name for t in catalog.list_tables(database))
            raise QueryError(
                f"table {database}.{groups['table'].lower()} does not exist; {tables_hint(database, names)}"
            )
        if kind == "columns":
            return _describe(definition)
        if kind == "partitions":
            return _partitions(catalog, database, definition)
        return _strings("createtab_stmt", _create_statement(database, definition))
    return None


def _describe(definition: TableDefinition) -> "tuple[pa.Table, tuple[tt.TrinoType, ...]]":
    rows = [(c, _HIVE_TYPES[t], "") for c, t in definition.columns]
    rows += [(k, _HIVE_TYPES[t], "partition key") for k, t in definition.partition_keys]
    import pyarrow as pa

    table = pa.table(
        {"col_name": [r[0] for r in rows], "data_type": [r[1] for r in rows], "comment": [r[2] for r in rows]}
    )
    return table, (tt.VARCHAR, tt.VARCHAR, tt.VARCHAR)


def _partitions(
    catalog: Catalog, database: str, definition: TableDefinition
) -> "tuple[pa.Table, tuple[tt.TrinoType, ...]]":
    if not definition.partition_keys:
        raise QueryError(f"table {definition.name} is not partitioned")
    if definition.projection_start is not None:
        raise QueryError(
            f"table {definition.name} uses partition projection: it has no registered partitions"
        )
    names = [k for k, _ in definition.partition_keys]
    # Hive partition names, values escaped as Hive escapes them ('/' is %2F).
    values = [
        "/".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in zip(names, p.values, strict=True))
        for p in catalog.get_partitions(database, definition.name)
    ]
    return _strings("partition", values)


def _create_statement(database: str, definition: TableDefinition) -> list[str]:
    lines = [f"CREATE EXTERNAL TABLE `{database}`.`{definition.name}`("]
    lines += [
        f"  `{c}` {_HIVE_TYPES[t]}{',' if i < len(definition.columns) - 1 else ')'}"
        for i, (c, t) in enumerate(definition.columns)
    ]
    if definition.partition_keys:
        keys = ", ".join(f"`{k}` {_HIVE_TYPES[t]}" for k, t in definition.partition_keys)
        lines.append(f"PARTITIONED BY ({keys})")
    serde = (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        if definition.data_format == "PARQUET"
        else "org.openx.data.jsonserde.JsonSerDe"
    )
    lines += ["ROW FORMAT SERDE", f"  '{serde}'", "LOCATION", f"  '{definition.location}'"]
    return lines
