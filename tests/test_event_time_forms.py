"""Event times in every form an SDK writes them (Python, Java, .NET, Go, JavaScript, offsets, hour
and date precision) are counted by `aggregates_by_event_time` in the hour they happened, as Athena's
from_iso8601_timestamp reads them (1 to 9 fraction digits, truncated to the millisecond; Z, +HH,
+HHmm, +HH:mm), and a replay's event hours (parse_event_time) agree."""

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from dw_platform.delivery.sending import deliver
from dw_platform.lake.event_time import parse_event_time
from dw_platform.lake.hours import inserted_at, iter_hours
from dw_platform.operations.batch_tables import run_batch_hours
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime

T = datetime(2026, 3, 1, 10, tzinfo=UTC)
HOURS = ["2026/03/01/10", "2026/03/01/11"]
PLUS_2 = timezone(timedelta(hours=2))
MINUS_0530 = timezone(-timedelta(hours=5, minutes=30))


def _digits(moment: datetime, nanos: int) -> str:
    return f"{moment.microsecond:06d}{nanos:03d}"


# Each form: (the instant, its nanoseconds beyond the microsecond) -> the text an SDK writes.
FORMS: dict[str, Callable[[datetime, int], str]] = {
    "python isoformat()": lambda m, n: m.isoformat(),
    "python isoformat() at +02:00": lambda m, n: m.astimezone(PLUS_2).isoformat(),
    "java Instant.toString()": lambda m, n: m.strftime("%Y-%m-%dT%H:%M:%S.") + _digits(m, n) + "Z",
    "java OffsetDateTime at -05:30": lambda m, n: (
        (local := m.astimezone(MINUS_0530)).strftime("%Y-%m-%dT%H:%M:%S.") + _digits(local, n) + "-05:30"
    ),
    ".NET 'o' UTC": lambda m, n: m.strftime("%Y-%m-%dT%H:%M:%S.") + _digits(m, n)[:7] + "Z",
    ".NET 'o' DateTimeOffset": lambda m, n: m.strftime("%Y-%m-%dT%H:%M:%S.") + _digits(m, n)[:7] + "+00:00",
    "go RFC3339Nano": lambda m, n: (
        m.strftime("%Y-%m-%dT%H:%M:%S") + ("." + _digits(m, n)).rstrip("0").rstrip(".") + "Z"
    ),
    "javascript toISOString()": lambda m, n: m.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    "basic offset +0200": lambda m, n: m.astimezone(PLUS_2).strftime("%Y-%m-%dT%H:%M:%S%z"),
    "hour offset +02": lambda m, n: m.astimezone(PLUS_2).strftime("%Y-%m-%dT%H:%M:%S+02"),
    "comma fraction": lambda m, n: m.strftime("%Y-%m-%dT%H:%M:%S,") + _digits(m, n)[:4] + "Z",
    "minute precision": lambda m, n: m.strftime("%Y-%m-%dT%H:%MZ"),
    "hour precision": lambda m, n: m.strftime("%Y-%m-%dT%H"),
}


def _instants(rng: random.Random) -> list[tuple[datetime, int]]:
    """Instants over two hours, with the last nanosecond of hour 10 and whole seconds among them."""
    picks = [
        (T + timedelta(microseconds=rng.randrange(7_200_000_000)), rng.randrange(1000)) for _ in range(40)
    ]
    return [*picks, (T.replace(minute=59, second=59, microsecond=999_999), 999), (T.replace(hour=11), 0)]


def test_event_times_of_every_sdk_form_are_counted_in_their_hour(runtime: Runtime) -> None:
    rng = random.Random(7)
    by_arrival: dict[datetime, list[bytes]] = {}
    expected: Counter[str] = Counter()
    for form, write in FORMS.items():
        for index, (moment, nanos) in enumerate(_instants(rng)):
            text = write(moment, nanos)
            hour = moment.replace(minute=0, second=0, microsecond=0)
            expected[inserted_at(hour)] += 1
            assert parse_event_time(text) is not None, (form, text)
            assert inserted_at(parse_event_time(text)) == inserted_at(hour), (form, text)
            record = {"id": f"{form}-{index}", "session_id": "s", "event_time": text}
            by_arrival.setdefault(hour + timedelta(minutes=5), []).append(json.dumps(record).encode())
    for arrival, records in by_arrival.items():
        deliver(runtime, "clicks", records, arrival=arrival)
    arrival_hours = [inserted_at(h) for h in iter_hours(T, T.replace(hour=12))]
    register_hours(runtime, "clicks", arrival_hours, with_stats=False)
    register_hours(runtime, "impressions", arrival_hours, with_stats=False)

    run_batch_hours(runtime, "aggregates_by_event_time", HOURS, now=T + timedelta(days=3))
    rows = runtime.engine.query(
        "SELECT time, count FROM aggregates_by_event_time "
        "WHERE event_type = 'clicks' AND event_hour IN ('2026/03/01/10', '2026/03/01/11')"
    ).table.to_pylist()
    assert {r["time"]: r["count"] for r in rows} == dict(expected)
    assert sum(expected.values()) == 42 * len(FORMS)
