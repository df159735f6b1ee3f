"""Each warehouse's folder of the local lake directory, and the one-time move of a home from before
warehouses had their own.

The lake directory `$DW_HOME/lakes/` is laid out as a data bucket is: one folder per warehouse (its
`lake_root`), and each warehouse has its catalog file `$DW_HOME/catalogs/<warehouse>.sqlite`.
Before, a home had one lake straight in `$DW_HOME/lake/`, where two warehouses mixed their data, and
one `catalog.sqlite`. A warehouse refuses to start beside those (its data would seem lost) and says
how to move them: `python -m dw_platform.runtime.legacy_home DW_HOME WAREHOUSE`, once, with the
instance stopped; renames only, since the catalog's locations are keys relative to the folder.
"""

import os
import sys
from pathlib import Path

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.lake.layout import lake_root
from dw_platform.runtime.settings import Settings
from dw_platform.state_files import StateError

LEGACY_LAKE_DIR = "lake"
LEGACY_CATALOG = "catalog.sqlite"
# SQLite's companions of a database in WAL mode: they move with it.
SQLITE_COMPANIONS = ("", "-wal", "-shm")
# What a home kept per home before, and keeps per warehouse now (`seeded_<warehouse>.json`).
LEGACY_SEED_MARKER = "seeded.json"


class LegacyLakeError(StateError):
    """DW_HOME holds a lake laid out as before warehouses had their own folders; nothing was changed."""


def seed_marker(home: Path, warehouse: str) -> Path:
    """Where a local dev instance notes that it seeded a warehouse's sample history."""
    return home / f"seeded_{warehouse}.json"


def _legacy_entries(home: Path) -> list[str]:
    legacy = home / LEGACY_LAKE_DIR
    return sorted(entry.name for entry in legacy.iterdir()) if legacy.is_dir() else []


def local_lake_dir(lake_dir: Path, warehouse: ServerlessDataWarehouse) -> Path:
    """The warehouse's own folder of the lake directory; refused beside a lake or a catalog from
    before (nothing is changed)."""
    home = lake_dir.parent
    entries = _legacy_entries(home)
    if entries or (home / LEGACY_CATALOG).exists():
        found = [f"{LEGACY_LAKE_DIR}/: {', '.join(entries)}"] if entries else []
        found += [LEGACY_CATALOG] if (home / LEGACY_CATALOG).exists() else []
        # Its own tables there: the old lake is this warehouse's; else another's (the user names it).
        owner = warehouse.name if set(entries) & set(warehouse.table_names) else "WAREHOUSE"
        raise LegacyLakeError(
            f"{home} holds a lake from before each warehouse had its own folder ({'; '.join(found)}); "
            "stop the instance and move it to the warehouse whose data it is, once: "
            f"`python -m dw_platform.runtime.legacy_home {home} {owner}`"
        )
    return lake_dir / lake_root(warehouse.name)


def migrate(home: Path, warehouse: str) -> list[str]:
    """Move `home`'s lake from before into the warehouse's folder of the lake directory (one rename:
    the old layout is the new one below the folder), its catalog and seed marker to the warehouse's;
    returns what moved. Idempotent: a second run finds nothing to move."""
    settings = Settings.resolve({"home": str(home)})
    legacy, target = home / LEGACY_LAKE_DIR, settings.lake_dir / lake_root(warehouse)
    catalog = settings.catalog_path(warehouse)
    if (home / LEGACY_CATALOG).exists() and catalog.exists():
        raise LegacyLakeError(f"cannot move {home / LEGACY_CATALOG}: {catalog} exists; nothing was moved")
    moved = []
    if _legacy_entries(home):
        if target.is_dir() and any(target.iterdir()):
            raise LegacyLakeError(f"cannot move {legacy}: {target} holds data already; nothing was moved")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            target.rmdir()
        os.replace(legacy, target)  # one rename: every object at once
        moved.append(f"{LEGACY_LAKE_DIR}/ -> {target.relative_to(home)}/")
    elif legacy.is_dir():
        legacy.rmdir()  # left empty by an earlier version: nothing in it
    if (home / LEGACY_CATALOG).exists():
        catalog.parent.mkdir(parents=True, exist_ok=True)
        for suffix in reversed(SQLITE_COMPANIONS):  # the database file last: it is what is checked
            if (home / f"{LEGACY_CATALOG}{suffix}").exists():
                os.replace(home / f"{LEGACY_CATALOG}{suffix}", catalog.with_name(f"{catalog.name}{suffix}"))
        moved.append(f"{LEGACY_CATALOG} -> {catalog.relative_to(home)}")
    seeded = home / LEGACY_SEED_MARKER
    if seeded.exists() and not seed_marker(home, warehouse).exists():
        os.replace(seeded, seed_marker(home, warehouse))
        moved.append(f"{LEGACY_SEED_MARKER} -> {seed_marker(home, warehouse).name}")
    return moved


def main() -> None:
    """`python -m dw_platform.runtime.legacy_home DW_HOME WAREHOUSE`: the one-time move."""
    if len(sys.argv) != 3:
        sys.exit("usage: python -m dw_platform.runtime.legacy_home DW_HOME WAREHOUSE")
    moved = migrate(Path(sys.argv[1]).resolve(), sys.argv[2])
    print("moved: " + "; ".join(moved) if moved else "nothing to move")


if __name__ == "__main__":
    main()
