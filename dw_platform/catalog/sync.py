"""Creating the warehouse's catalog entries and loading static tables' seed files."""

import dataclasses
from typing import Protocol

from dw_platform.catalog import Catalog, table_definition
from dw_platform.catalog.schema_change import check_schema_change
from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.errors import PreconditionError
from dw_platform.lake.store import Lake


class CatalogTarget(Protocol):
    """What syncing needs of a runtime (runtime.backends.Runtime is one): the declaration, the
    catalog and the database the warehouse's tables go in, the lake seed files are copied to."""

    @property
    def warehouse(self) -> ServerlessDataWarehouse: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def database(self) -> str: ...

    @property
    def lake(self) -> Lake: ...


@dataclasses.dataclass(frozen=True)
class CatalogSync:
    database_created: bool
    tables_changed: tuple[str, ...]


def sync_catalog(runtime: CatalogTarget) -> CatalogSync:
    """Create or update the database and every declared table (idempotent). A table whose declared
    columns changed follows the declaration if the change is safe (see catalog.schema_change);
    an unsafe one is refused before any table is written (UnsafeSchemaChange)."""
    warehouse = runtime.warehouse
    created = runtime.catalog.ensure_database(runtime.database)
    existing = {t.name: t for t in runtime.catalog.list_tables(runtime.database)}
    for spec in warehouse.tables:
        check_schema_change(existing.get(spec.name), table_definition(spec))
    changed = tuple(
        spec.name
        for spec in warehouse.tables
        if runtime.catalog.upsert_table(runtime.database, table_definition(spec))
    )
    return CatalogSync(created, changed)


@dataclasses.dataclass(frozen=True)
class SeedLoad:
    key: str
    bytes: int
    rows: int
    changed: bool


def load_seed(runtime: CatalogTarget, spec: TableSpec) -> SeedLoad:
    """Copy a static table's seed file to its location; unchanged content is not rewritten."""
    if spec.seed_file is None:
        raise PreconditionError(f"table {spec.name!r} has no seed file")
    data = spec.seed_file.read_bytes()
    key = f"{spec.prefix}{spec.seed_file.name}"
    changed = not runtime.lake.exists(key) or runtime.lake.read_bytes(key) != data
    if changed:
        runtime.lake.put_bytes(key, data)
    rows = sum(1 for line in data.splitlines() if line.strip()) if spec.data_format == "JSON" else -1
    return SeedLoad(key, len(data), rows, changed)
