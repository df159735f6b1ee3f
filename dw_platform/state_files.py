"""Local state that cannot be used (a damaged SQLite file, an unwritable DW_HOME or DAGSTER_HOME):
one error naming the file and what to do, instead of the storage library's traceback."""

import contextlib
import os
import sqlite3
import uuid
from pathlib import Path

from dw_platform.errors import DwError


class StateError(DwError):
    """The local state (DW_HOME, DAGSTER_HOME) is damaged or unwritable; nothing was changed."""


class DamagedStateError(StateError):
    """A state file that cannot be read as what it should be (truncated, overwritten)."""


_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_UNWRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_FULL", "SQLITE_IOERR")


def sqlite_state_error(path: Path, error: sqlite3.Error, what: str, remedy: str) -> StateError:
    """`what` (e.g. "the catalog") at `path` failed with a SQLite error: say which kind, and how to fix it."""
    code = getattr(error, "sqlite_errorname", "") or ""
    reason = str(error)
    if code.startswith(_DAMAGED) or "malformed" in reason or "not a database" in reason:
        return DamagedStateError(f"{what} {path} is damaged ({reason}): {remedy}")
    if code.startswith(_UNWRITABLE) or "readonly" in reason or "unable to open" in reason:
        return StateError(f"{what} {path} cannot be written ({reason}): {path.parent} must be writable")
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in reason:
        return StateError(f"{what} {path} is locked by another process ({reason}); try again")
    return StateError(f"{what} {path}: {reason}")


def ensure_writable_dir(path: Path, what: str) -> None:
    """Create `path` if missing and prove it writable with a real write (permission bits say nothing
    to root, and nothing about a read-only mount)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".dw-write-probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise StateError(f"{what} {path} is a file, not a directory") from None
    except OSError as error:
        raise StateError(f"{what} {path} cannot be written ({error.strerror or error})") from None


def write_atomically(path: Path, text: str) -> None:
    """A small state file written whole or not at all (a killed writer leaves at most a temporary)."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
