"""The Athena `UNLOAD` path, for hours too large for one worker: Athena rewrites the hour into the
new version prefix, and the platform then writes the manifest and switches the partition as usual.

A first compaction reads the hour through its partition (its raw folder). A re-compaction reads the
current version through the partition plus the late raw objects through a short-lived staging table
over the raw folder, filtered on `"$path"`. UNLOAD's Parquet default is gzip, so compression is
always explicit.
"""

import dataclasses
from collections.abc import Sequence

from dw_platform.declaration.identifiers import quoted_identifier, sql_string_literal
from dw_platform.declaration.warehouse import TableSpec
from dw_platform.errors import PreconditionError, UserInputError

COMPRESSIONS = ("SNAPPY", "ZSTD")


@dataclasses.dataclass(frozen=True)
class UnloadPlan:
    statements: tuple[str, ...]
    staging_table: str | None


def unload_plan(
    database: str,
    spec: TableSpec,
    hour: str,
    target_uri: str,
    *,
    raw_folder_uri: str,
    late_object_uris: Sequence[str] = (),
    compression: str = "SNAPPY",
    dedupe_key: str | None = None,
) -> UnloadPlan:
    """Statements to run in order. `late_object_uris` empty means a first compaction."""
    if compression not in COMPRESSIONS:
        raise UserInputError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    key = spec.partition_key
    if key is None:
        raise PreconditionError(f"table {spec.name!r} is not partitioned")
    columns = ", ".join(quoted_identifier(c) for c in spec.column_names)
    table = f"{quoted_identifier(database)}.{quoted_identifier(spec.name)}"
    source = f"SELECT {columns} FROM {table} WHERE {quoted_identifier(key)} = {sql_string_literal(hour)}"
    statements: list[str] = []
    staging = None
    if late_object_uris:
        staging = f"{spec.name}__late_{hour.replace('/', '')}"
        definitions = ", ".join(f"{quoted_identifier(c.name)} {c.type}" for c in spec.columns)
        staged = f"{quoted_identifier(database)}.{quoted_identifier(staging)}"
        statements.append(
            f"CREATE EXTERNAL TABLE IF NOT EXISTS {staged} ({definitions}) "
            f"STORED AS PARQUET LOCATION {sql_string_literal(raw_folder_uri)}"
        )
        paths = ", ".join(sql_string_literal(uri) for uri in late_object_uris)
        source += f' UNION ALL SELECT {columns} FROM {staged} WHERE "$path" IN ({paths})'
    if dedupe_key is not None:
        dedupe = quoted_identifier(dedupe_key)
        others = ", ".join(quoted_identifier(c) for c in spec.column_names if c != dedupe_key) or dedupe
        source = (
            f"SELECT {columns} FROM (SELECT {columns}, row_number() OVER (PARTITION BY {dedupe} "
            f"ORDER BY {others}) AS dw_row FROM ({source}) AS hour_rows) AS numbered "
            f"WHERE {dedupe} IS NULL OR dw_row = 1"
        )
    statements.append(
        f"UNLOAD ({source}) TO {sql_string_literal(target_uri)} "
        f"WITH (format = 'PARQUET', compression = '{compression}')"
    )
    if staging:
        statements.append(f"DROP TABLE IF EXISTS {staged}")
    return UnloadPlan(tuple(statements), staging)
