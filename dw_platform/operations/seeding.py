"""A dev instance's first start: a few closed hours of sample history, delivered with simulated
arrival times, so every hourly asset has something to show within minutes (local profile)."""

import contextlib
import dataclasses
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import ONE_HOUR, floor_hour, inserted_at
from dw_platform.operations.settling import settle_delay
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.legacy_home import seed_marker
from dw_platform.runtime.settings import PARTITIONS_START_FILE, SCHEMA, Settings

# Set by `dagster dev` and `dg` for the processes they start: the first start of a dev instance.
DEV_INSTANCE_ENV = "DAGSTER_IS_DEV_CLI"
FLUSHES_PER_HOUR = 6  # one object every 10 minutes, as a 60 s Firehose buffer of a quiet stream might


@dataclasses.dataclass(frozen=True)
class SeededHour:
    table: str
    inserted_at: str
    sent: int
    delivered: int
    errors: int
    objects: int


def first_seeded_hour(now: datetime, seed_hours: int, settle: timedelta) -> datetime:
    """The first of the `seed_hours` most recent hours that have closed and settled by `now`."""
    last = floor_hour(now - settle) - ONE_HOUR
    return last - (max(seed_hours, 1) - 1) * ONE_HOUR


def streaming_settle_delay(warehouse: ServerlessDataWarehouse) -> timedelta:
    return settle_delay(warehouse, [t.name for t in warehouse.tables_of(TableKind.STREAMING)])


def start_dev_instance(
    warehouse: ServerlessDataWarehouse,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Settings:
    """A local dev instance's partitions start where its data starts: on its first start (under
    `dagster dev` / `dg dev`), the day of the first hour it seeds (or of now), remembered in DW_HOME
    so that later starts and `dw` agree; before any, the configured start.
    An explicit DW_PARTITIONS_START wins; the AWS profile keeps the configured start."""
    env = os.environ if environ is None else environ
    if settings.profile != "local" or SCHEMA["partitions_start"].raw(env):
        return settings
    path = settings.home / PARTITIONS_START_FILE
    if not path.is_file() and not env.get(DEV_INSTANCE_ENV):
        return settings  # `dw` or a test loading the definitions: only a dev instance's start counts
    if not path.is_file():
        moment = now or datetime.now(UTC)
        if settings.seed_hours:
            moment = first_seeded_hour(moment, settings.seed_hours, streaming_settle_delay(warehouse))
        settings.home.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError), path.open("x") as handle:  # else another process was first
            handle.write(f"{moment.astimezone(UTC):%Y-%m-%d}\n")
    start = datetime.fromisoformat(path.read_text().strip()).replace(tzinfo=UTC)
    return dataclasses.replace(settings, partitions_start=start)


def claim_seed(home: Path, warehouse: str, hours: Sequence[datetime]) -> bool:
    """Mark the warehouse as seeded in `home` (with the hours), once: False if it was already (a later
    start, or another process of the instance first). The mark comes first, so a crash never seeds
    twice. Each warehouse of a home has its own mark: each gets its sample history."""
    home.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(seed_marker(home, warehouse), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"hours": [inserted_at(h) for h in hours]}, handle)
    return True


def _share(total: int, flush: int) -> int:
    """Flush `flush`'s share of `total` (the shares add up to `total` exactly)."""
    return total * (flush + 1) // FLUSHES_PER_HOUR - total * flush // FLUSHES_PER_HOUR


def seed_history(
    runtime: Runtime, hours: Sequence[datetime], events_per_hour: int, malformed_ratio: float
) -> list[SeededHour]:
    """Deliver `events_per_hour` sample events per streaming table into each of `hours`, in
    FLUSHES_PER_HOUR objects whose arrival (and event) times are spread over the hour, of which
    round(events_per_hour * malformed_ratio) malformed."""
    seeded = []
    tables = [t.name for t in runtime.warehouse.tables_of(TableKind.STREAMING)]
    for h, hour in enumerate(hours):
        for t, table in enumerate(tables):
            bad_total = round(events_per_hour * malformed_ratio)
            totals = [0, 0, 0, 0]  # sent, delivered, errors, objects
            for flush in range(FLUSHES_PER_HOUR):
                count = (
                    events_per_hour * (flush + 1) // FLUSHES_PER_HOUR
                    - events_per_hour * flush // FLUSHES_PER_HOUR
                )
                bad = bad_total * (flush + 1) // FLUSHES_PER_HOUR - bad_total * flush // FLUSHES_PER_HOUR
                arrival = hour + (flush + 0.5) * ONE_HOUR / FLUSHES_PER_HOUR + timedelta(seconds=7 * t)
                records, _ = sample_events(
                    count,
                    arrival,
                    malformed_ratio=bad / count if count else 0.0,
                    seed=(h * 31 + t) * 97 + flush,
                )
                summary = deliver(runtime, table, records, arrival=arrival)
                totals = [
                    totals[0] + summary.sent,
                    totals[1] + summary.delivered,
                    totals[2] + summary.errors,
                    totals[3] + len(summary.objects),
                ]
            seeded.append(SeededHour(table, inserted_at(hour), *totals))
    return seeded
