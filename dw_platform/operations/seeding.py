"""A dev instance's first start: a few closed hours of sample history, delivered with simulated
arrival times, so every hourly asset has something to show within minutes (local profile)."""

import dataclasses
import json
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import ONE_HOUR, floor_hour, inserted_at
from dw_platform.operations.settling import settle_delay
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.legacy_home import seed_marker
from dw_platform.state_files import write_atomically

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


def mark_seeded(home: Path, warehouse: str, hours: Sequence[datetime]) -> None:
    """Note in the warehouse's mark that its history is delivered (what the runs over it wait for)."""
    record = {"hours": [inserted_at(h) for h in hours], "delivered": True}
    write_atomically(seed_marker(home, warehouse), json.dumps(record))


def seeded_hours(home: Path, warehouse: str) -> list[str] | None:
    """The hours of the warehouse's seeded history once delivered; None before (or never seeded)."""
    try:
        record = json.loads(seed_marker(home, warehouse).read_text())
    except (OSError, ValueError):
        return None
    return list(record["hours"]) if record.get("delivered") and record.get("hours") else None


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
