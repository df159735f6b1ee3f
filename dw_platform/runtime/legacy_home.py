"""Each warehouse's folder of a local lake directory, and the one-time move of a lake laid out before
warehouses had their own (everything straight under `lake/`, where two warehouses mixed their data).

A warehouse's folder carries a hidden marker, so a folder of the lake directory without one is
recognisably old: `lake/impressions/`, `lake/compacted/`, ... A warehouse refuses to start beside
such folders (its data would seem lost, and a second warehouse would still share them) and says how
to move them: `python -m dw_platform.runtime.legacy_home DW_HOME WAREHOUSE`, once, with the
instance stopped. The catalog needs no change: its locations are keys relative to the folder.
"""

import os
import sys
from pathlib import Path

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.lake.layout import RESERVED_TABLE_NAMES
from dw_platform.runtime.state_files import StateError

ROOT_MARKER = ".dw-warehouse-root"
# What a home kept per home before, and keeps per warehouse now (`seeded_<warehouse>.json`).
LEGACY_SEED_MARKER = "seeded.json"


class LegacyLakeError(StateError):
    """DW_HOME's lake is laid out as before warehouses had their own folders; nothing was changed."""


def seed_marker(home: Path, warehouse: str) -> Path:
    """Where a local dev instance notes that it seeded a warehouse's sample history."""
    return home / f"seeded_{warehouse}.json"


def _legacy_entries(lake_dir: Path, names: set[str]) -> list[Path]:
    if not lake_dir.is_dir():
        return []
    return sorted(
        entry
        for entry in lake_dir.iterdir()
        if entry.name in names and entry.is_dir() and not (entry / ROOT_MARKER).exists()
    )


def local_lake_dir(lake_dir: Path, warehouse: ServerlessDataWarehouse) -> Path:
    """The warehouse's own folder of `lake_dir`, marked as such; refused beside an old layout."""
    legacy = _legacy_entries(lake_dir, set(warehouse.table_names) | RESERVED_TABLE_NAMES)
    if legacy:
        home = lake_dir.parent
        found = ", ".join(f"lake/{entry.name}" for entry in legacy)
        # Its own tables among them: the old lake is this warehouse's; else another's (name it).
        owner = warehouse.name if any(e.name in warehouse.table_names for e in legacy) else "WAREHOUSE"
        raise LegacyLakeError(
            f"{home} holds a lake from before each warehouse had its own folder ({found}); stop the "
            f"instance and move it into its warehouse's folder once with `python -m "
            f"dw_platform.runtime.legacy_home {home} {owner}`"
        )
    root = lake_dir / warehouse.name
    root.mkdir(parents=True, exist_ok=True)
    marker = root / ROOT_MARKER
    if not marker.exists():
        marker.write_text(f"{warehouse.name}\n")
    return root


def migrate(home: Path, warehouse: str) -> list[str]:
    """Move every unmarked folder and object of `home`'s lake into the warehouse's folder (the old
    layout held one warehouse's data), and its seed marker to the warehouse's; returns what moved.
    Idempotent: a second run finds nothing to move."""
    lake_dir = home / "lake"
    root = lake_dir / warehouse
    moved = []
    if lake_dir.is_dir():
        entries = [
            e for e in lake_dir.iterdir() if e != root and not (e.is_dir() and (e / ROOT_MARKER).exists())
        ]
        root.mkdir(parents=True, exist_ok=True)
        for entry in sorted(entries):
            target = root / entry.name
            if target.exists():
                raise LegacyLakeError(f"cannot move {entry}: {target} exists already; nothing more was moved")
            os.replace(entry, target)  # a rename within the lake directory: whole folders, at once
            moved.append(f"lake/{entry.name}")
        (root / ROOT_MARKER).write_text(f"{warehouse}\n")
    seeded = home / LEGACY_SEED_MARKER
    if seeded.exists() and not seed_marker(home, warehouse).exists():
        os.replace(seeded, seed_marker(home, warehouse))
        moved.append(LEGACY_SEED_MARKER)
    return moved


def main() -> None:
    """`python -m dw_platform.runtime.legacy_home DW_HOME WAREHOUSE`: the one-time move."""
    if len(sys.argv) != 3:
        sys.exit("usage: python -m dw_platform.runtime.legacy_home DW_HOME WAREHOUSE")
    home, warehouse = Path(sys.argv[1]).resolve(), sys.argv[2]
    moved = migrate(home, warehouse)
    print(f"moved into lake/{warehouse}/: {', '.join(moved)}" if moved else "nothing to move")


if __name__ == "__main__":
    main()
