"""Sample ad events for development, demos and tests, with an optional share of malformed ones."""

import json
import random
import uuid
from datetime import datetime

from dw_platform.errors import UserInputError

# Each variant fails Firehose conversion against the event schema (all string columns).
MALFORMED_VARIANTS: tuple[str, ...] = (
    '{"id": "broken", "session_id": ',
    '[{"id": "1", "session_id": "2", "event_time": "2026-01-01T00:00:00Z"}]',
    '{"id": {"nested": true}, "session_id": "s", "event_time": "2026-01-01T00:00:00Z"}',
    '{"id": ["a", "b"], "session_id": "s", "event_time": "2026-01-01T00:00:00Z"}',
    "not json at all",
    "",
    "42",
)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def sample_event(rng: random.Random, event_time: datetime) -> bytes:
    event = {
        "id": _uuid(rng),
        "session_id": _uuid(rng),
        "event_time": event_time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    return json.dumps(event).encode()


def sample_events(
    count: int, event_time: datetime, *, malformed_ratio: float = 0.0, seed: int | None = None
) -> tuple[list[bytes], int]:
    """`count` records of which exactly round(count * malformed_ratio) are malformed, at random
    positions; returns the records and the number of malformed ones."""
    if not 0.0 <= malformed_ratio <= 1.0:
        raise UserInputError(f"malformed_ratio must be within 0-1, got {malformed_ratio}")
    rng = random.Random(seed)
    malformed = round(count * malformed_ratio)
    bad_positions = set(rng.sample(range(count), malformed))
    records = [
        MALFORMED_VARIANTS[rng.randrange(len(MALFORMED_VARIANTS))].encode()
        if index in bad_positions
        else sample_event(rng, event_time)
        for index in range(count)
    ]
    return records, malformed
