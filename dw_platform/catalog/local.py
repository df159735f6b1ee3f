"""The local catalog: a SQLite database under DW_HOME.

`dagster dev` runs the webserver, the daemon and run workers as separate processes, all of which
read and write the catalog. SQLite in WAL mode lets readers proceed during a write, and each
operation opens its own connection and holds the write lock only for one short transaction.
"""

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from dw_platform.catalog.model import Partition, TableDefinition, TableNotFoundError
from dw_platform.state_files import StateError, ensure_writable_dir, sqlite_state_error

_SCHEMA = """
CREATE TABLE IF NOT EXISTS databases (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tables (
    database TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (database, name)
);
CREATE TABLE IF NOT EXISTS partitions (
    database TEXT NOT NULL,
    table_name TEXT NOT NULL,
    partition_values TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (database, table_name, partition_values)
);
"""
_BUSY_TIMEOUT_MS = 30_000


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _encode_values(values: Sequence[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


class LocalCatalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        ensure_writable_dir(path.parent, "the catalog's directory (DW_HOME)")
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    def _state_error(self, error: sqlite3.Error) -> StateError:
        return sqlite_state_error(
            self.path,
            error,
            "the catalog",
            "restore it from a backup or move it away (the lake is untouched), then run the command again",
        )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite failing on the file itself (damaged, unwritable, locked for longer than
        the busy timeout) becomes a StateError naming the file. Constraint errors stay what they are."""
        try:
            connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as error:
            raise self._state_error(error) from None
        try:
            connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            yield connection
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as error:
            if type(error) not in (sqlite3.OperationalError, sqlite3.DatabaseError):
                raise  # IntegrityError and the like: the statement's fault, not the file's
            raise self._state_error(error) from None
        finally:
            connection.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; BEGIN IMMEDIATE takes the write lock up front so that two
        writers queue instead of failing on a lock upgrade."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def ensure_database(self, database: str) -> bool:
        with self._write() as connection:
            cursor = connection.execute(
                "INSERT INTO databases (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (database, _now()),
            )
            return cursor.rowcount > 0

    def upsert_table(self, database: str, table: TableDefinition) -> bool:
        definition = json.dumps(table.to_json(), sort_keys=True)
        with self._write() as connection:
            row = connection.execute(
                "SELECT definition FROM tables WHERE database = ? AND name = ?", (database, table.name)
            ).fetchone()
            if row and row[0] == definition:
                return False
            connection.execute(
                "INSERT INTO tables (database, name, definition, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (database, name) DO UPDATE SET definition = excluded.definition, "
                "updated_at = excluded.updated_at",
                (database, table.name, definition, _now()),
            )
            return True

    def get_table(self, database: str, name: str) -> TableDefinition | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT definition FROM tables WHERE database = ? AND name = ?", (database, name)
            ).fetchone()
        return TableDefinition.from_json(json.loads(row[0])) if row else None

    def list_tables(self, database: str) -> list[TableDefinition]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT definition FROM tables WHERE database = ? ORDER BY name", (database,)
            ).fetchall()
        return [TableDefinition.from_json(json.loads(r[0])) for r in rows]

    def register_partitions(
        self, database: str, table: TableDefinition, partitions: Iterable[Partition]
    ) -> int:
        now = _now()
        rows = [(database, table.name, _encode_values(p.values), p.location, now, now) for p in partitions]
        with self._write() as connection:
            known = connection.execute(
                "SELECT 1 FROM tables WHERE database = ? AND name = ?", (database, table.name)
            ).fetchone()
            if known is None:
                raise TableNotFoundError(f"table {database}.{table.name} is not in the catalog")
            before = connection.total_changes
            connection.executemany(
                "INSERT INTO partitions (database, table_name, partition_values, location, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows,
            )
            return connection.total_changes - before

    def switch_partition_location(
        self, database: str, table: str, values: tuple[str, ...], new_location: str, expected_location: str
    ) -> bool:
        with self._write() as connection:
            cursor = connection.execute(
                "UPDATE partitions SET location = ?, updated_at = ? WHERE database = ? AND table_name = ? "
                "AND partition_values = ? AND location = ?",
                (new_location, _now(), database, table, _encode_values(values), expected_location),
            )
            return cursor.rowcount == 1

    def get_partitions(
        self, database: str, table: str, values: Sequence[tuple[str, ...]] | None = None
    ) -> list[Partition]:
        query = "SELECT partition_values, location FROM partitions WHERE database = ? AND table_name = ?"
        with self._connect() as connection:
            if values is None:
                rows = connection.execute(query, (database, table)).fetchall()
            else:
                wanted = [_encode_values(v) for v in values]
                rows = []
                for start in range(0, len(wanted), 500):  # stay under SQLite's bound-variable limit
                    chunk = wanted[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows += connection.execute(
                        f"{query} AND partition_values IN ({marks})", (database, table, *chunk)
                    ).fetchall()
        partitions = [Partition(tuple(json.loads(v)), location) for v, location in rows]
        return sorted(partitions, key=lambda p: p.values)
