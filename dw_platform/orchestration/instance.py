"""The Dagster instance as `dw backfill` runs on it.

- Opening: a fresh DAGSTER_HOME's SQLite storages are created under a file lock (two first runs
  creating the schema at once fail with "table runs already exists"); a damaged or unwritable
  storage is a StateError naming its file.
- Dead runs: `dw backfill` runs in-process, so no run launcher or daemon can tell when its process
  is killed, and the run keeps its pools' slots for ever. Each run is tagged with its process
  (host, pid, start time); a run whose process is gone is marked failed and its slots freed, as are
  slots still held by runs that ended.
- Waiting: while a pool slot is held by a live run, the CLI says which run holds it and stops on
  Ctrl-C / SIGTERM (Dagster's own wait for a slot swallows both).
"""

import contextlib
import fcntl
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import sqlalchemy.exc
from dagster._utils.interrupts import check_captured_interrupt

if TYPE_CHECKING:
    from dagster_postgres import PostgresEventLogStorage

from dw_platform.state_files import StateError, ensure_writable_dir, sqlite_state_error

PROCESS_TAG = "dw/process"
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
MESSAGE_EVERY_S = 15.0
# Dagster raises a captured interrupt at once in a running step; one still captured after this long
# means the run is only waiting for a slot.
INTERRUPT_GRACE_S = 2.0

Notify = Callable[[str], None]


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state on (after the command name), None if no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_tag() -> str:
    """This process, uniquely: host, pid and start time (a pid alone is reused)."""
    fields = _stat(os.getpid())
    return f"{socket.gethostname()}:{os.getpid()}:{fields[19] if fields else ''}"


def process_gone(tag: str) -> bool:
    """Whether the process a run was tagged with has certainly exited (False when it cannot be told,
    e.g. a run of another host)."""
    try:
        host, pid_text, started = tag.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if started and Path("/proc/self/stat").exists():
        fields = _stat(pid)
        return fields is None or fields[19] != started or fields[0] in ("Z", "X")  # exited or reused
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _storage_error(home: Path, name: str, error: Exception) -> StateError:
    cause = getattr(error, "orig", None) or error
    path = home / name
    if isinstance(cause, sqlite3.Error):
        return sqlite_state_error(path, cause, "the Dagster instance's storage", "move DAGSTER_HOME away")
    return StateError(f"the Dagster instance's storage {path}: {cause}")


def open_instance(home: Path, ensure_home: Callable[[Path], None]) -> dg.DagsterInstance:
    """The instance at DAGSTER_HOME (`home`) with its storages created. `ensure_home` writes its
    dagster.yaml if missing."""
    try:
        ensure_writable_dir(home, "DAGSTER_HOME")
        ensure_home(home)
    except OSError as error:
        raise StateError(f"DAGSTER_HOME {home} cannot be written ({error.strerror or error})") from None
    with _locked(home / ".dw-instance.lock"):
        try:
            instance = dg.DagsterInstance.get()
        except (sqlalchemy.exc.SQLAlchemyError, sqlite3.Error) as error:
            raise _storage_error(home, "history/runs.db", error) from None
        except Exception as error:  # the configuration (dagster.yaml) Dagster refused, in its words
            raise StateError(f"the Dagster instance at {home} cannot be loaded: {error}") from None
        # Touch each storage so that its schema exists before any run (still under the lock).
        for name, touch in (
            ("history/runs.db", lambda: instance.get_runs(limit=1)),
            ("history/runs/index.db", lambda: instance.event_log_storage.get_concurrency_keys()),
            ("schedules/schedules.db", lambda: instance.all_instigator_state()),
        ):
            try:
                touch()
            except (sqlalchemy.exc.SQLAlchemyError, sqlite3.Error) as error:
                raise _storage_error(home, name, error) from None
    return instance


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail the unfinished runs whose `dw` process is gone and free their slots, and free the slots
    and queued claims of runs that have ended; returns the run ids whose slots were freed.

    Queued claims matter as much as claimed slots: a freed slot goes to the oldest queued claim
    (Dagster's `assign_pending_steps`), and one left by a canceled or killed run keeps that slot
    assigned to nobody for ever, so a later run waits without end."""
    storage = instance.event_log_storage
    freed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=_UNFINISHED)):
        tag = run.tags.get(PROCESS_TAG)
        if tag and process_gone(tag):
            instance.report_run_failed(
                run, message=f"the process that ran it ({tag}) is gone (killed?); marked failed by dw"
            )
            storage.free_concurrency_slots_for_run(run.run_id)
            freed.append(run.run_id)
    for pool in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(pool)
        holders = info.active_run_ids | {step.run_id for step in info.pending_steps}
        for run_id in holders - set(freed):
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                freed.append(run_id)
    return freed


def slot_holders(
    instance: dg.DagsterInstance, pools: Collection[str], own_run: str = ""
) -> dict[str, set[str]]:
    """The pools among `pools` whose every slot is held by other runs, with those runs."""
    blocked = {}
    for pool in pools:
        info = instance.event_log_storage.get_concurrency_info(pool)
        limit = info.slot_count or info.limit
        holders = info.active_run_ids - {own_run}
        if limit and len(info.claimed_slots) >= limit and holders:
            blocked[pool] = holders
    return blocked


def _describe(instance: dg.DagsterInstance, blocked: dict[str, set[str]]) -> str:
    parts = []
    for pool, runs in sorted(blocked.items()):
        described = []
        for run_id in sorted(runs):
            run = instance.get_run_by_id(run_id)
            process = run.tags.get(PROCESS_TAG, "a Dagster run worker") if run else "unknown"
            described.append(f"run {run_id} ({process})")
        parts.append(f"pool {pool} (held by {', '.join(described)})")
    return "; ".join(parts)


def wait_for_pools(instance: dg.DagsterInstance, pools: Collection[str], notify: Notify) -> None:
    """Return once no pool in `pools` is fully held by another live run; say what it waits for.
    Interrupts (KeyboardInterrupt, SIGTERM mapped to it by the CLI) pass through."""
    last_message = 0.0
    while True:
        reap_dead_runs(instance)
        blocked = slot_holders(instance, pools)
        if not blocked:
            return
        if time.monotonic() - last_message >= MESSAGE_EVERY_S:
            notify(f"waiting for {_describe(instance, blocked)}; Ctrl-C stops")
            last_message = time.monotonic()
        time.sleep(1.0)


class RunWatch(threading.Thread):
    """Beside an in-process run: while its steps wait for a slot, free slots of dead holders, say
    what it waits for, and on Ctrl-C / SIGTERM cancel the run and exit (its steps have not started)."""

    def __init__(
        self, instance: dg.DagsterInstance, run_id: str, pools: Collection[str], notify: Notify
    ) -> None:
        super().__init__(daemon=True, name="dw-run-watch")
        self.instance, self.run_id, self.pools, self.notify = instance, run_id, pools, notify
        self.done = threading.Event()

    def _waiting(self) -> bool:
        storage = self.instance.event_log_storage
        return any(self.run_id in storage.get_concurrency_info(p).pending_run_ids for p in self.pools)

    def run(self) -> None:
        last_message = time.monotonic()  # the wait before the run has spoken already
        interrupted_since: float | None = None
        while not self.done.wait(0.5):
            with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
                if not self._waiting():
                    interrupted_since = None
                    continue
                reap_dead_runs(self.instance)
                if check_captured_interrupt():
                    interrupted_since = interrupted_since or time.monotonic()
                    if time.monotonic() - interrupted_since >= INTERRUPT_GRACE_S:
                        self._cancel()
                blocked = slot_holders(self.instance, self.pools, self.run_id)
                if blocked and time.monotonic() - last_message >= MESSAGE_EVERY_S:
                    self.notify(f"waiting for {_describe(self.instance, blocked)}; Ctrl-C stops")
                    last_message = time.monotonic()

    def _cancel(self) -> None:
        # Canceled first, then freed: the main thread keeps re-queueing its claim until the exit, and a
        # claim queued after the free is reaped (its run has ended) instead of taking the next slot.
        run = self.instance.get_run_by_id(self.run_id)
        if run is not None:
            self.instance.report_run_canceled(run, message="interrupted while waiting for a pool slot")
        self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        self.notify(f"interrupted while waiting for a pool slot: run {self.run_id} canceled, nothing changed")
        os._exit(130)  # the main thread sits in Dagster's wait, which ignores interrupts


def reuse_connections(instance: dg.DagsterInstance) -> None:
    """Let the runs this process executes reuse the storage's database connections. dagster-postgres
    opens a connection per query by default (a pool that holds none), which costs a connection set-up
    and password check per stored event: measured, a one-hour backfill took 2.5x as long. Dagster's
    own long-lived processes (the webserver) pool the same way. A no-op on SQLite storage."""
    from dagster_postgres import PostgresEventLogStorage  # only where a PostgreSQL instance is used

    instance.optimize_for_webserver(statement_timeout=0, pool_recycle=3600, max_overflow=10)
    if isinstance(instance.event_log_storage, PostgresEventLogStorage):
        _remember_tables(instance.event_log_storage)


def _remember_tables(storage: "PostgresEventLogStorage") -> None:
    """dagster-postgres asks the database whether the asset-event tags table exists on every stored
    materialization, on a second connection while the first holds the write: past the pool's one kept
    connection, so each ask opened and closed a connection (half the event store's time in a year
    backfill, profiled). Tables are never dropped under a running instance, so a table once seen is
    remembered; one not (yet) there is asked again."""
    ask = storage.has_table
    seen: set[str] = set()

    def has_table(table_name: str) -> bool:
        if table_name not in seen and ask(table_name):
            seen.add(table_name)
        return table_name in seen

    storage.has_table = has_table  # type: ignore[method-assign]
