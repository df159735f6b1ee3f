"""Analyst queries over a warehouse filled from NDJSON ad events, with answers computed in plain Python.

`build_events()` makes a deterministic day-boundary-crossing stream (2026-11-20 22:00 to 2026-11-21
02:xx UTC) of impressions and clicks: sessions with and without clicks, clicks whose session has no
impression, impressions without a session, legacy ids, late mobile events, events a few
milliseconds before an hour ends, and malformed records that Firehose's conversion isolates.
`load_warehouse()` sends them through the platform's delivery path (one flush per arrival minute),
registers the hours and computes `aggregates` with the platform's batch code. Each `AnalystCase`
holds Athena (engine v3 = Trino) SQL and a function computing Trino's answer from the events sent:
never from DuckDB or the dw_platform engine.
"""

import base64
import dataclasses
import json
import random
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from dw_platform.delivery.sending import deliver
from dw_platform.operations.batch_tables import run_batch_hours
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime

SEED = 20261120
START = datetime(2026, 11, 20, 22, tzinfo=UTC)
HOURS = ("2026/11/20/22", "2026/11/20/23", "2026/11/21/00", "2026/11/21/01", "2026/11/21/02")
H0, H1, H2, H3, H4 = HOURS
CAMPAIGNS = ("blackfriday", "brand", "newsletter", "retarget")
DEVICES = ("web", "ios", "android")
STREAMING_TABLES = ("impressions", "clicks")
MALFORMED = "DataFormatConversion.MalformedData"
TYPE_MISMATCH = "DataFormatConversion.TypeMismatch"
MINUTE_MS = 60_000
HOUR_MS = 3_600_000


# --------------------------------------------------------------------------------------------------
# The events


@dataclasses.dataclass(frozen=True)
class Row:
    """A delivered row as Firehose's conversion makes it (missing field -> None)."""

    id: str | None
    session_id: str | None
    event_time: str | None
    inserted_at: str
    arrival_ms: int

    @property
    def t(self) -> int:
        """event_time in epoch milliseconds."""
        return _parse_iso_ms(self.event_time or "")

    @property
    def device(self) -> str | None:
        return split_part(self.session_id, "-", 1)


@dataclasses.dataclass(frozen=True)
class ErrorRecord:
    """A record isolated into `<table>_errors`, with the error code Firehose's rules give it."""

    raw: bytes
    errorcode: str
    inserted_at: str
    arrival_ms: int

    @property
    def rawdata(self) -> str:
        return base64.b64encode(self.raw).decode("ascii")


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One flush: records of one table arriving together."""

    table: str
    arrival_ms: int
    records: tuple[bytes, ...]

    @property
    def arrival(self) -> datetime:
        return datetime.fromtimestamp(self.arrival_ms // 1000, UTC) + timedelta(
            milliseconds=self.arrival_ms % 1000
        )


@dataclasses.dataclass(frozen=True)
class Events:
    """What was sent: the flushes in order, and per streaming table the rows Firehose's rules make of
    the well-formed records and the records they isolate, each with its arrival hour."""

    hours: tuple[str, ...]
    deliveries: tuple[Delivery, ...]
    rows: dict[str, tuple[Row, ...]]
    errors: dict[str, tuple[ErrorRecord, ...]]

    def imps(self, *hours: str) -> list[Row]:
        return [r for r in self.rows["impressions"] if not hours or r.inserted_at in hours]

    def clicks(self, *hours: str) -> list[Row]:
        return [r for r in self.rows["clicks"] if not hours or r.inserted_at in hours]

    def errs(self, table: str, *hours: str) -> list[ErrorRecord]:
        return [e for e in self.errors[table] if not hours or e.inserted_at in hours]

    def sent(self, table: str) -> int:
        return sum(len(d.records) for d in self.deliveries if d.table == table)


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def _parse_iso_ms(text: str) -> int:
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _hour_of(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y/%m/%d/%H")


@dataclasses.dataclass
class _Event:
    table: str
    t: int  # event time, epoch ms
    fields: dict[str, str]
    delay: int
    raw: bytes | None = None  # set for hand-written (odd or malformed) records
    errorcode: str | None = None


def _session_events(rng: random.Random, seq: list[int], sid: str, t0: int, n_imp: int) -> list[_Event]:
    device = sid.split("-")[0]
    campaign = rng.choice(CAMPAIGNS)
    events: list[_Event] = []
    times = [t0]
    for _ in range(n_imp - 1):
        times.append(times[-1] + rng.randrange(1_000, 120_000))
    for t in times:
        seq[0] += 1
        legacy = rng.random() < 0.03
        fields = {"id": f"IMP_{seq[0]:06d}" if legacy else f"imp-{campaign}-{seq[0]:07d}"}
        if rng.random() >= 0.012:  # a few impressions lose their session
            fields["session_id"] = sid
        fields["event_time"] = _iso(t)
        events.append(_Event("impressions", t, fields, _delay(rng, device, t)))
    if rng.random() < 0.22:
        n_clicks = rng.choices([1, 2, 3], weights=[80, 15, 5])[0]
        t = rng.choice(times) + rng.randrange(1_500, 400_000)
        for _ in range(n_clicks):
            seq[1] += 1
            fields = {"id": f"clk-{campaign}-{seq[1]:07d}", "session_id": sid, "event_time": _iso(t)}
            events.append(_Event("clicks", t, fields, _delay(rng, device, t)))
            t += rng.randrange(2_000, 200_000)
    return events


def _delay(rng: random.Random, device: str, t: int) -> int:
    """Milliseconds from event to arrival: mostly seconds, sometimes an offline phone's hour."""
    if device != "web" and t < _ms(START) + 3 * HOUR_MS and rng.random() < 0.03:
        return rng.randrange(30 * MINUTE_MS, 80 * MINUTE_MS)
    return rng.randrange(200, 90_000)


def _boundary_events(seq: list[int]) -> list[_Event]:
    """Per hour boundary B, one session: impressions at B - 1 s, B - 50 ms and B + 400 ms and a click
    exactly at B; all arrive in B's hour while two of them happened in the hour before."""
    events = []
    for index, boundary in enumerate(range(_ms(START) + HOUR_MS, _ms(START) + 5 * HOUR_MS, HOUR_MS)):
        sid = f"web-b0a{index:05x}"
        for t in (boundary - 1_000, boundary - 50, boundary + 400):
            seq[0] += 1
            fields = {"id": f"imp-brand-{seq[0]:07d}", "session_id": sid, "event_time": _iso(t)}
            events.append(_Event("impressions", t, fields, 250))
        seq[1] += 1
        fields = {"id": f"clk-brand-{seq[1]:07d}", "session_id": sid, "event_time": _iso(boundary)}
        events.append(_Event("clicks", boundary, fields, 300))
    return events


def _odd_events(seq: list[int]) -> list[_Event]:
    """Records Firehose accepts with some care (extra fields dropped, key names case-insensitive),
    clicks whose session never had an impression, and malformed records it isolates."""
    base = _ms(START)
    events: list[_Event] = []
    for index, minute in enumerate((7, 71, 133, 190)):
        seq[1] += 1
        t = base + minute * MINUTE_MS + 12_345
        fields = {
            "id": f"clk-brand-{seq[1]:07d}",
            "session_id": f"web-dead{index:04x}",
            "event_time": _iso(t),
        }
        events.append(_Event("clicks", t, fields, 1_500))
    for index, minute in enumerate((15, 95, 170)):
        seq[0] += 1
        t = base + minute * MINUTE_MS + 777
        fields = {
            "id": f"imp-newsletter-{seq[0]:07d}",
            "session_id": f"ios-0dd{index:05x}",
            "event_time": _iso(t),
        }
        doc = (
            {"ID": fields["id"], "Session_Id": fields["session_id"], "EVENT_TIME": fields["event_time"]}
            if index != 1
            else {**fields, "campaign": "newsletter", "referrer": None}
        )
        events.append(_Event("impressions", t, fields, 2_000, raw=json.dumps(doc).encode()))
    malformed = {
        "impressions": [
            (20, b'{"id": "imp-brand-9990001", "session_id": ', MALFORMED),
            (
                50,
                b'[{"id": "imp-brand-9990002", "session_id": "web-00000002", '
                b'"event_time": "2026-11-20T22:50:00.000Z"}]',
                MALFORMED,
            ),
            (
                70,
                b'{"id": {"legacy": "IMP_999003"}, "session_id": "ios-0badf00d", '
                b'"event_time": "2026-11-20T23:10:00.000Z"}',
                TYPE_MISMATCH,
            ),
            (
                131,
                b'{"id": ["imp-retarget-9990004"], "session_id": "android-0badcafe", '
                b'"event_time": "2026-11-21T00:11:00.000Z"}',
                TYPE_MISMATCH,
            ),
            (160, b"not json at all", MALFORMED),
            (
                200,
                b'{"id": "imp-brand-9990006", "session_id": "web-0bad0006", "event_time": {"ms": 1}}',
                TYPE_MISMATCH,
            ),
            (201, b"42", MALFORMED),
        ],
        "clicks": [
            (33, b'{"id": "clk-brand-9990101", "session_id": "web-0bad0101", "event_time": ', MALFORMED),
            (
                88,
                b'{"id": "clk-retarget-9990102", "session_id": ["ios-0bad0102"], '
                b'"event_time": "2026-11-20T23:28:00.000Z"}',
                TYPE_MISMATCH,
            ),
            (
                150,
                b'{"id": "clk-brand-9990103", "session_id": {"sid": "web-0bad0103"}, '
                b'"event_time": "2026-11-21T00:30:00.000Z"}',
                TYPE_MISMATCH,
            ),
            (222, b"<html>gateway timeout</html>", MALFORMED),
        ],
    }
    for table, records in malformed.items():
        for minute, raw, code in records:
            t = base + minute * MINUTE_MS + 30_000
            events.append(_Event(table, t, {}, 500, raw=raw, errorcode=code))
    return events


def _jitter(minute_ms: int) -> int:
    """Milliseconds past the minute at which a flush's records are stamped (not whole seconds, so
    that `arrivaltimestamp / 1000` visibly truncates)."""
    return (minute_ms // MINUTE_MS * 37) % 1000


def _row(raw: bytes, hour: str, arrival_ms: int) -> Row:
    """Firehose's conversion of a well-formed record: keys case-insensitive, unknown keys dropped."""
    doc = {key.lower(): value for key, value in json.loads(raw).items()}
    return Row(doc.get("id"), doc.get("session_id"), doc.get("event_time"), hour, arrival_ms)


def build_events(seed: int = SEED) -> Events:
    rng = random.Random(seed)
    seq = [1_000, 5_000]  # last impression and click sequence numbers
    used: set[str] = set()
    events: list[_Event] = []
    base = _ms(START)
    for _ in range(1500):
        device = rng.choices(DEVICES, weights=[5, 3, 2])[0]
        sid = f"{device}-{rng.getrandbits(32):08x}"
        while sid in used:
            sid = f"{device}-{rng.getrandbits(32):08x}"
        used.add(sid)
        t0 = base - MINUTE_MS + rng.randrange(4 * HOUR_MS - 10 * MINUTE_MS)  # from 21:59: arrives at 22:00
        n_imp = rng.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0]
        events += _session_events(rng, seq, sid, t0, n_imp)
    events += _boundary_events(seq) + _odd_events(seq)

    groups: dict[tuple[str, int], list[_Event]] = defaultdict(list)
    for event in events:
        arrived = event.t + event.delay
        minute = -(-arrived // MINUTE_MS) * MINUTE_MS  # the flush after arrival, on the minute
        groups[(event.table, minute)].append(event)
    deliveries: list[Delivery] = []
    rows: dict[str, list[Row]] = {t: [] for t in STREAMING_TABLES}
    errors: dict[str, list[ErrorRecord]] = {t: [] for t in STREAMING_TABLES}
    for (table, minute), members in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0])):
        members.sort(key=lambda e: (e.t + e.delay, e.t))
        arrival = minute + _jitter(minute)
        hour = _hour_of(arrival)
        records = []
        for event in members:
            raw = event.raw if event.raw is not None else json.dumps(event.fields).encode()
            records.append(raw)
            if event.errorcode is not None:
                errors[table].append(ErrorRecord(raw, event.errorcode, hour, arrival))
            else:
                rows[table].append(_row(raw, hour, arrival))
        deliveries.append(Delivery(table, arrival, tuple(records)))
    hours = tuple(sorted({_hour_of(d.arrival_ms) for d in deliveries}))
    if hours != HOURS:
        raise AssertionError(f"the events arrive in hours {hours}, the queries expect {HOURS}")
    return Events(
        hours,
        tuple(deliveries),
        {t: tuple(r) for t, r in rows.items()},
        {t: tuple(e) for t, e in errors.items()},
    )


def load_warehouse(runtime: Runtime, events: Events) -> None:
    """Deliver every flush with its arrival time, register the hours of both streaming tables (and
    their errors tables), then compute `aggregates` for them as the aggregates asset does."""
    for delivery in events.deliveries:
        deliver(runtime, delivery.table, list(delivery.records), arrival=delivery.arrival)
    for table in STREAMING_TABLES:
        register_hours(runtime, table, list(events.hours))
    closed = datetime.strptime(events.hours[-1], "%Y/%m/%d/%H").replace(tzinfo=UTC) + timedelta(days=1)
    run_batch_hours(runtime, "aggregates", list(events.hours), now=closed)


# --------------------------------------------------------------------------------------------------
# Trino semantics in plain Python


def split_part(text: str | None, delimiter: str, index: int) -> str | None:
    """Trino's split_part: 1-based; an index past the last field is NULL."""
    if text is None:
        return None
    parts = text.split(delimiter)
    return parts[index - 1] if index <= len(parts) else None


def regexp_extract(text: str | None, pattern: str, group: int = 0) -> str | None:
    if text is None:
        return None
    match = re.search(pattern, text)
    return match.group(group) if match else None


def lpad(text: str | None, size: int, pad: str) -> str | None:
    """Trino's lpad: a string longer than `size` is truncated to its first `size` characters."""
    if text is None:
        return None
    if len(text) >= size:
        return text[:size]
    fill = size - len(text)
    return (pad * fill)[:fill] + text


def tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero (Trino's bigint `/`, date_diff's units)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def decimal_div(unscaled: int, divisor: int, scale: int) -> str:
    """A decimal of `scale` (given by its unscaled value at that scale, i.e. value * 10**scale)
    divided by an integer, rounded HALF_UP at the same scale, printed as Trino prints it."""
    negative = (unscaled < 0) != (divisor < 0)
    q, r = divmod(abs(unscaled), abs(divisor))
    if 2 * r >= abs(divisor):
        q += 1
    return decimal_str(-q if negative else q, scale)


def decimal_str(unscaled: int, scale: int) -> str:
    sign = "-" if unscaled < 0 else ""
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}" if scale else f"{sign}{digits}"


def pct1(part: int, whole: int) -> str:
    """round(100.0 * part / whole, 2): decimal(4,1) * bigint -> scale 1; the division keeps scale 1
    (HALF_UP); round(x, 2) of a scale-1 decimal changes nothing."""
    return decimal_div(1000 * part, whole, 1)


def ts_tz(ms: int) -> str:
    """A timestamp(3) with time zone in UTC as Trino prints it."""
    return f"{ts(ms)} UTC"


def ts(ms: int) -> str:
    """A timestamp(3) as Trino prints it."""
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d}"


def floor_hour_ms(ms: int) -> int:
    return ms - ms % HOUR_MS


def event_hour(row: Row) -> str:
    return _hour_of(row.t)


def counts(items: Iterable[object]) -> list[list[object]]:
    return [[key, n] for key, n in Counter(items).items()]


def unique_max(pairs: Iterable[tuple[object, object]]) -> object:
    """max_by(value, key) where the maximum key must be unique (else Trino's pick is arbitrary)."""
    items = list(pairs)
    top = max(k for _, k in items)  # type: ignore[type-var]
    winners = [v for v, k in items if k == top]
    if len(winners) != 1:
        raise ValueError(f"max_by would be ambiguous: {winners}")
    return winners[0]


def first_times(rows: Iterable[Row]) -> dict[str, int]:
    first: dict[str, int] = {}
    for r in rows:
        if r.session_id is not None:
            first[r.session_id] = min(first.get(r.session_id, r.t), r.t)
    return first


# --------------------------------------------------------------------------------------------------
# The cases


@dataclasses.dataclass(frozen=True)
class AnalystCase:
    id: str
    sql: str
    expected: Callable[[Events], list[list[object]]]
    ordered: bool = False
    types: tuple[str, ...] | None = None


ALL = f"BETWEEN '{H0}' AND '{H4}'"


def q(sql: str) -> str:
    """SQL with `@ALL` (every hour) and `@H0`..`@H4` (one hour's literal) filled in."""
    sql = sql.replace("@ALL", ALL)
    for index, hour in enumerate(HOURS):
        sql = sql.replace(f"@H{index}", f"'{hour}'")
    return " ".join(sql.split())


CASES: list[AnalystCase] = []


def case(
    sql: str, *, ordered: bool = False, types: tuple[str, ...] | None = None
) -> Callable[[Callable[[Events], list[list[object]]]], Callable[[Events], list[list[object]]]]:
    """Register the decorated function (named after the case) as the expectation of `sql`."""

    def register(expected: Callable[[Events], list[list[object]]]) -> Callable[[Events], list[list[object]]]:
        CASES.append(AnalystCase(expected.__name__, q(sql), expected, ordered, types))
        return expected

    return register


# ---- volumes and rates per hour


@case(
    """SELECT inserted_at, count(*) AS impressions FROM impressions
       WHERE inserted_at @ALL GROUP BY inserted_at ORDER BY inserted_at""",
    ordered=True,
    types=("varchar", "bigint"),
)
def impressions_per_arrival_hour(ev: Events) -> list[list[object]]:
    return sorted(counts(r.inserted_at for r in ev.imps()))  # type: ignore[arg-type]


@case(
    """WITH i AS (SELECT inserted_at, count(*) AS n FROM impressions WHERE inserted_at @ALL GROUP BY 1),
            c AS (SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at @ALL GROUP BY 1)
       SELECT i.inserted_at, i.n AS impressions, coalesce(c.n, 0) AS clicks,
              coalesce(c.n, 0) * 100 / i.n AS ctr_pct
       FROM i LEFT JOIN c ON c.inserted_at = i.inserted_at ORDER BY i.inserted_at""",
    ordered=True,
    types=("varchar", "bigint", "bigint", "bigint"),
)
def ctr_per_hour_integer_percent(ev: Events) -> list[list[object]]:
    # bigint * 100 / bigint: integer division, truncated.
    i, c = Counter(r.inserted_at for r in ev.imps()), Counter(r.inserted_at for r in ev.clicks())
    return [[h, i[h], c[h], c[h] * 100 // i[h]] for h in sorted(i)]


@case(
    """WITH i AS (SELECT inserted_at, count(*) AS n FROM impressions WHERE inserted_at @ALL GROUP BY 1),
            c AS (SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at @ALL GROUP BY 1)
       SELECT i.inserted_at, round(100.0 * coalesce(c.n, 0) / i.n, 2) AS ctr_pct
       FROM i LEFT JOIN c ON c.inserted_at = i.inserted_at ORDER BY i.inserted_at""",
    ordered=True,
    types=("varchar", "decimal(24,1)"),
)
def ctr_per_hour_decimal_rounded(ev: Events) -> list[list[object]]:
    # 100.0 is decimal(4,1): 100.0 * bigint is decimal(23,1), / bigint stays decimal(23,1) rounded
    # HALF_UP to one digit, round(x, 2) returns decimal(24,1) with the same value.
    i, c = Counter(r.inserted_at for r in ev.imps()), Counter(r.inserted_at for r in ev.clicks())
    return [[h, pct1(c[h], i[h])] for h in sorted(i)]


@case(
    """WITH i AS (SELECT inserted_at, count(*) AS n FROM impressions WHERE inserted_at @ALL GROUP BY 1),
            c AS (SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at @ALL GROUP BY 1)
       SELECT i.inserted_at, CAST(c.n AS double) / i.n AS ctr
       FROM i JOIN c ON c.inserted_at = i.inserted_at""",
    types=("varchar", "double"),
)
def ctr_per_hour_double(ev: Events) -> list[list[object]]:
    i, c = Counter(r.inserted_at for r in ev.imps()), Counter(r.inserted_at for r in ev.clicks())
    return [[h, c[h] / i[h]] for h in i if c[h]]


@case(
    """SELECT e.inserted_at, count(*) AS errors, sum(e.attemptsmade) AS attempts
       FROM impressions_errors e WHERE e.inserted_at @ALL GROUP BY e.inserted_at""",
    types=("varchar", "bigint", "bigint"),
)
def isolated_records_per_hour(ev: Events) -> list[list[object]]:
    # attemptsmade is an int column: sum(integer) is bigint. Hours without errors have no group.
    return [[h, n, n] for h, n in Counter(e.inserted_at for e in ev.errs("impressions")).items()]


@case(
    """WITH g AS (SELECT inserted_at, count(*) AS n FROM impressions WHERE inserted_at @ALL GROUP BY 1),
            e AS (SELECT inserted_at, count(*) AS n FROM impressions_errors WHERE inserted_at @ALL GROUP BY 1)
       SELECT g.inserted_at, coalesce(e.n, 0) AS errors,
              round(100.0 * coalesce(e.n, 0) / (g.n + coalesce(e.n, 0)), 2) AS error_pct
       FROM g LEFT JOIN e ON e.inserted_at = g.inserted_at""",
    types=("varchar", "bigint", "decimal(24,1)"),
)
def error_rate_per_hour_decimal(ev: Events) -> list[list[object]]:
    good = Counter(r.inserted_at for r in ev.imps())
    bad = Counter(e.inserted_at for e in ev.errs("impressions"))
    return [[h, bad[h], pct1(bad[h], good[h] + bad[h])] for h in good]


@case(
    """SELECT 'impressions' AS kind, count(*) AS n FROM impressions WHERE inserted_at @ALL
       UNION ALL SELECT 'clicks', count(*) FROM clicks WHERE inserted_at @ALL
       UNION ALL SELECT 'rejected', count(*) FROM impressions_errors WHERE inserted_at @ALL
       UNION ALL SELECT 'rejected', count(*) FROM clicks_errors WHERE inserted_at @ALL""",
)
def everything_sent_is_accounted_for(ev: Events) -> list[list[object]]:
    return [
        ["impressions", len(ev.imps())],
        ["clicks", len(ev.clicks())],
        ["rejected", len(ev.errs("impressions"))],
        ["rejected", len(ev.errs("clicks"))],
    ]


@case(
    """SELECT inserted_at, count(*) AS n, sum(count(*)) OVER (ORDER BY inserted_at) AS running
       FROM clicks WHERE inserted_at @ALL GROUP BY inserted_at ORDER BY inserted_at""",
    ordered=True,
    types=("varchar", "bigint", "bigint"),
)
def clicks_running_total(ev: Events) -> list[list[object]]:
    out, total = [], 0
    for hour, n in sorted(Counter(r.inserted_at for r in ev.clicks()).items()):
        total += n
        out.append([hour, n, total])
    return out


# ---- aggregates


def _agg(ev: Events) -> dict[tuple[str, str], int]:
    """The aggregates rows: (event_type, time) -> count, over every registered hour."""
    return {
        (t, h): sum(1 for r in ev.rows[t] if r.inserted_at == h) for t in STREAMING_TABLES for h in ev.hours
    }


@case(
    """SELECT time, event_type, count, count * 100 / sum(count) OVER (PARTITION BY time) AS share_pct
       FROM aggregates WHERE inserted_at @ALL""",
)
def aggregates_share_within_hour(ev: Events) -> list[list[object]]:
    # integer count * 100 / bigint sum: truncating integer division.
    agg = _agg(ev)
    totals = Counter[str]()
    for (_, h), n in agg.items():
        totals[h] += n
    return [[h, t, n, n * 100 // totals[h]] for (t, h), n in agg.items()]


@case(
    """SELECT event_type, sum(count) AS total FROM aggregates WHERE inserted_at @ALL
       GROUP BY ROLLUP (event_type)""",
    types=("varchar", "bigint"),
)
def aggregates_rollup_total(ev: Events) -> list[list[object]]:
    agg = _agg(ev)
    per = Counter[str]()
    for (t, _), n in agg.items():
        per[t] += n
    return [*([t, n] for t, n in per.items()), [None, sum(per.values())]]


@case(
    """SELECT event_type, avg(count) AS mean, min(count) AS fewest, max(count) AS most, count(*) AS hours
       FROM aggregates WHERE inserted_at IN (@H0, @H1, @H2, @H3) GROUP BY event_type""",
)
def aggregates_avg_is_double(ev: Events) -> list[list[object]]:
    agg = _agg(ev)
    out = []
    for t in STREAMING_TABLES:
        values = [agg[(t, h)] for h in (H0, H1, H2, H3)]
        out.append([t, sum(values) / len(values), min(values), max(values), len(values)])
    return out


@case(
    """WITH raw AS (SELECT inserted_at, count(*) AS n FROM clicks WHERE inserted_at @ALL GROUP BY 1)
       SELECT a.time, a.count, r.n, a.count = r.n AS matches
       FROM aggregates a LEFT JOIN raw r ON r.inserted_at = a.time
       WHERE a.inserted_at @ALL AND a.event_type = 'clicks'""",
)
def aggregates_match_raw_counts(ev: Events) -> list[list[object]]:
    raw = Counter(r.inserted_at for r in ev.clicks())
    return [
        [h, n, raw[h] or None, True if raw[h] else None] for (t, h), n in _agg(ev).items() if t == "clicks"
    ]


@case(
    """SELECT time, count, count - lag(count) OVER (ORDER BY time) AS change
       FROM aggregates WHERE inserted_at @ALL AND event_type = 'impressions' ORDER BY time""",
    ordered=True,
)
def aggregates_hour_over_hour(ev: Events) -> list[list[object]]:
    agg = _agg(ev)
    values = [agg[("impressions", h)] for h in HOURS]
    return [
        [h, v, None if i == 0 else v - values[i - 1]]
        for i, (h, v) in enumerate(zip(HOURS, values, strict=True))
    ]


@case(
    """SELECT time,
              (count - lag(count) OVER (ORDER BY time)) * 100 / lag(count) OVER (ORDER BY time) AS growth_pct
       FROM aggregates WHERE inserted_at @ALL AND event_type = 'impressions'""",
)
def hour_over_hour_growth_truncates_toward_zero(ev: Events) -> list[list[object]]:
    # integer / integer truncates toward zero: -3.4 % is -3, not -4.
    agg = _agg(ev)
    values = [agg[("impressions", h)] for h in HOURS]
    return [
        [h, None if i == 0 else tdiv((v - values[i - 1]) * 100, values[i - 1])]
        for i, (h, v) in enumerate(zip(HOURS, values, strict=True))
    ]


@case(
    """SELECT inserted_at, count(*) FILTER (WHERE session_id LIKE 'ios-%') AS ios,
              count(*) FILTER (WHERE session_id LIKE 'android-%') AS android,
              count(*) FILTER (WHERE session_id IS NULL) AS no_session
       FROM impressions WHERE inserted_at @ALL GROUP BY inserted_at""",
)
def mobile_impressions_filter_clause(ev: Events) -> list[list[object]]:
    out = []
    for h in {r.inserted_at for r in ev.imps()}:
        rows = ev.imps(h)
        out.append(
            [
                h,
                *(sum(1 for r in rows if r.device == d) for d in ("ios", "android")),
                sum(1 for r in rows if r.session_id is None),
            ]
        )
    return out


# ---- sessions and clicks


@case(
    """SELECT avg(n) AS clicks_per_clicking_session, max(n) AS most
       FROM (SELECT session_id, count(*) AS n FROM clicks WHERE inserted_at @ALL GROUP BY session_id)
         AS per_session""",
    types=("double", "bigint"),
)
def clicks_per_session_avg(ev: Events) -> list[list[object]]:
    per = Counter(r.session_id for r in ev.clicks())
    return [[sum(per.values()) / len(per), max(per.values())]]


@case(
    """SELECT count(*) AS row_count, count(session_id) AS with_session,
              count(DISTINCT session_id) AS sessions,
              count(*) / count(DISTINCT session_id) AS per_session
       FROM impressions WHERE inserted_at @ALL""",
    types=("bigint", "bigint", "bigint", "bigint"),
)
def impressions_per_session_integer_ratio(ev: Events) -> list[list[object]]:
    rows = ev.imps()
    sessions = {r.session_id for r in rows if r.session_id is not None}
    with_session = sum(1 for r in rows if r.session_id is not None)
    return [[len(rows), with_session, len(sessions), len(rows) // len(sessions)]]


@case(
    """SELECT n AS clicks, count(*) AS sessions
       FROM (SELECT session_id, count(*) AS n FROM clicks WHERE inserted_at @ALL GROUP BY session_id) AS s
       GROUP BY n ORDER BY n""",
    ordered=True,
)
def sessions_by_click_count(ev: Events) -> list[list[object]]:
    per = Counter(r.session_id for r in ev.clicks())
    return sorted(counts(per.values()))  # type: ignore[arg-type]


@case(
    """SELECT count_if(n > 1) * 1.0 / count(*) AS repeat_share,
              round(count_if(n > 1) * 100.0 / count(*), 2) AS repeat_pct
       FROM (SELECT session_id, count(*) AS n FROM clicks WHERE inserted_at @ALL GROUP BY session_id) AS s""",
    types=("decimal(21,1)", "decimal(24,1)"),
)
def repeat_clickers_decimal_scale(ev: Events) -> list[list[object]]:
    # bigint * 1.0 is decimal(21,1): the quotient keeps ONE fractional digit (HALF_UP), not a double.
    per = Counter(r.session_id for r in ev.clicks())
    repeat = sum(1 for n in per.values() if n > 1)
    return [[decimal_div(10 * repeat, len(per), 1), decimal_div(1000 * repeat, len(per), 1)]]


@case(
    """SELECT session_id, count(*) AS n FROM impressions
       WHERE inserted_at @ALL AND session_id IS NOT NULL
       GROUP BY session_id ORDER BY n DESC, session_id LIMIT 5""",
    ordered=True,
)
def top_sessions_by_impressions(ev: Events) -> list[list[object]]:
    per = Counter(r.session_id for r in ev.imps() if r.session_id is not None)
    return [[s, n] for s, n in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]


@case(
    """SELECT i.session_id, count(*) AS impressions FROM impressions i
       WHERE i.inserted_at @ALL AND i.session_id IS NOT NULL
         AND i.session_id IN (SELECT c.session_id FROM clicks c WHERE c.inserted_at @ALL)
       GROUP BY i.session_id HAVING count(*) >= 4""",
)
def heavy_sessions_that_clicked(ev: Events) -> list[list[object]]:
    clicked = {r.session_id for r in ev.clicks()}
    per = Counter(r.session_id for r in ev.imps() if r.session_id is not None)
    return [[s, n] for s, n in per.items() if n >= 4 and s in clicked]


@case(
    """SELECT count(DISTINCT i.session_id) AS sessions_without_click
       FROM impressions i
       LEFT JOIN (SELECT DISTINCT session_id FROM clicks WHERE inserted_at @ALL) c
         ON c.session_id = i.session_id
       WHERE i.inserted_at @ALL AND c.session_id IS NULL""",
)
def sessions_without_clicks_left_join(ev: Events) -> list[list[object]]:
    clicked = {r.session_id for r in ev.clicks()}
    return [[len({r.session_id for r in ev.imps() if r.session_id is not None} - clicked)]]


@case(
    """SELECT count(*) AS row_count, count(c.id) AS matched
       FROM impressions i
       LEFT JOIN (SELECT id, session_id FROM clicks WHERE inserted_at @ALL) c ON c.session_id = i.session_id
       WHERE i.inserted_at @ALL AND i.session_id IS NULL""",
)
def null_sessions_never_join(ev: Events) -> list[list[object]]:
    return [[sum(1 for r in ev.imps() if r.session_id is None), 0]]


@case(
    """WITH s AS (SELECT DISTINCT session_id FROM impressions
                  WHERE inserted_at @ALL AND session_id IS NOT NULL),
            k AS (SELECT DISTINCT session_id FROM clicks WHERE inserted_at @ALL)
       SELECT split_part(s.session_id, '-', 1) AS device, count(*) AS sessions,
              count(k.session_id) AS clicked, round(100.0 * count(k.session_id) / count(*), 2) AS ctr_pct
       FROM s LEFT JOIN k ON k.session_id = s.session_id
       GROUP BY split_part(s.session_id, '-', 1)""",
    types=("varchar", "bigint", "bigint", "decimal(24,1)"),
)
def session_ctr_by_device(ev: Events) -> list[list[object]]:
    clicked = {r.session_id for r in ev.clicks()}
    sessions = {r.session_id for r in ev.imps() if r.session_id is not None}
    out = []
    for device in sorted({split_part(s, "-", 1) for s in sessions}):  # type: ignore[type-var]
        mine = [s for s in sessions if split_part(s, "-", 1) == device]
        hit = sum(1 for s in mine if s in clicked)
        out.append([device, len(mine), hit, pct1(hit, len(mine))])
    return out


@case(
    """SELECT c.id FROM clicks c
       WHERE c.inserted_at @ALL
         AND NOT EXISTS (SELECT 1 FROM impressions i
                         WHERE i.inserted_at @ALL AND i.session_id = c.session_id)""",
)
def orphan_clicks_not_exists(ev: Events) -> list[list[object]]:
    sessions = {r.session_id for r in ev.imps()}
    return [[r.id] for r in ev.clicks() if r.session_id not in sessions]


@case(
    """SELECT count(*) AS orphans FROM clicks
       WHERE inserted_at @ALL
         AND session_id NOT IN (SELECT session_id FROM impressions WHERE inserted_at @ALL)""",
)
def not_in_with_a_null_matches_nothing(ev: Events) -> list[list[object]]:
    # A NULL in the subquery makes `x NOT IN (...)` NULL for every x not found: no row qualifies.
    if not any(r.session_id is None for r in ev.imps()):
        raise AssertionError("the events need an impression without session_id")
    return [[0]]


@case(
    """SELECT count(*) AS orphans FROM clicks
       WHERE inserted_at @ALL
         AND session_id NOT IN (SELECT session_id FROM impressions
                                WHERE inserted_at @ALL AND session_id IS NOT NULL)""",
)
def not_in_without_nulls(ev: Events) -> list[list[object]]:
    sessions = {r.session_id for r in ev.imps()}
    return [[sum(1 for r in ev.clicks() if r.session_id not in sessions)]]


@case(
    """SELECT count(*) AS impressions_of_sessions_clicking_at_midnight FROM impressions
       WHERE inserted_at @ALL
         AND session_id IN (SELECT session_id FROM clicks WHERE inserted_at = @H2)""",
)
def impressions_of_sessions_in_subquery(ev: Events) -> list[list[object]]:
    sessions = {r.session_id for r in ev.clicks(H2)}
    return [[sum(1 for r in ev.imps() if r.session_id in sessions)]]


@case(
    """SELECT count(*) FROM (
         SELECT session_id FROM impressions WHERE inserted_at @ALL
         INTERSECT
         SELECT session_id FROM clicks WHERE inserted_at @ALL) AS both_tables""",
)
def sessions_in_both_intersect(ev: Events) -> list[list[object]]:
    return [[len({r.session_id for r in ev.imps()} & {r.session_id for r in ev.clicks()})]]


@case(
    """SELECT session_id FROM clicks WHERE inserted_at @ALL
       EXCEPT
       SELECT session_id FROM impressions WHERE inserted_at @ALL""",
)
def click_sessions_except_impression_sessions(ev: Events) -> list[list[object]]:
    return [[s] for s in {r.session_id for r in ev.clicks()} - {r.session_id for r in ev.imps()}]


@case(
    """SELECT session_id, array_agg(id ORDER BY event_time) AS click_ids FROM clicks
       WHERE inserted_at @ALL GROUP BY session_id HAVING count(*) >= 3""",
)
def click_paths_of_busy_sessions(ev: Events) -> list[list[object]]:
    per: dict[str, list[Row]] = defaultdict(list)
    for r in ev.clicks():
        per[r.session_id].append(r)  # type: ignore[index]
    return [
        [s, [r.id for r in sorted(rows, key=lambda r: r.event_time)]]
        for s, rows in per.items()
        if len(rows) >= 3
    ]


# ---- time between impression and click


@case(
    """WITH fi AS (SELECT session_id, min(from_iso8601_timestamp(event_time)) AS t FROM impressions
                   WHERE inserted_at @ALL GROUP BY session_id),
            fc AS (SELECT session_id, min(from_iso8601_timestamp(event_time)) AS t FROM clicks
                   WHERE inserted_at @ALL GROUP BY session_id)
       SELECT count(*) AS sessions, min(date_diff('second', fi.t, fc.t)) AS fastest,
              max(date_diff('second', fi.t, fc.t)) AS slowest, sum(date_diff('second', fi.t, fc.t)) AS total,
              avg(date_diff('second', fi.t, fc.t)) AS mean
       FROM fi JOIN fc ON fc.session_id = fi.session_id""",
    types=("bigint", "bigint", "bigint", "bigint", "double"),
)
def seconds_to_first_click(ev: Events) -> list[list[object]]:
    # date_diff counts whole seconds, truncating toward zero.
    fi, fc = first_times(ev.imps()), first_times(ev.clicks())
    diffs = [tdiv(fc[s] - fi[s], 1000) for s in fc if s in fi]
    return [[len(diffs), min(diffs), max(diffs), sum(diffs), sum(diffs) / len(diffs)]]


@case(
    """WITH fi AS (SELECT session_id, min(from_iso8601_timestamp(event_time)) AS t FROM impressions
                   WHERE inserted_at @ALL GROUP BY session_id),
            fc AS (SELECT session_id, min(from_iso8601_timestamp(event_time)) AS t FROM clicks
                   WHERE inserted_at @ALL GROUP BY session_id)
       SELECT least(date_diff('minute', fi.t, fc.t), 5) AS minutes, count(*) AS sessions
       FROM fi JOIN fc ON fc.session_id = fi.session_id GROUP BY 1 ORDER BY 1""",
    ordered=True,
)
def minutes_to_first_click_histogram(ev: Events) -> list[list[object]]:
    fi, fc = first_times(ev.imps()), first_times(ev.clicks())
    return sorted(counts(min(tdiv(fc[s] - fi[s], MINUTE_MS), 5) for s in fc if s in fi))  # type: ignore[arg-type]


@case(
    """WITH fi AS (SELECT session_id, min(from_iso8601_timestamp(event_time)) AS t FROM impressions
                   WHERE inserted_at @ALL GROUP BY session_id),
            fc AS (SELECT session_id, min(from_iso8601_timestamp(event_time)) AS t FROM clicks
                   WHERE inserted_at @ALL GROUP BY session_id)
       SELECT date_diff('hour', fi.t, fc.t) AS hours_between, date_diff('day', fi.t, fc.t) AS days_between,
              count_if(hour(fi.t) <> hour(fc.t)) AS crossed_an_hour,
              count_if(date(fi.t) <> date(fc.t)) AS crossed_midnight, count(*) AS sessions
       FROM fi JOIN fc ON fc.session_id = fi.session_id GROUP BY 1, 2""",
)
def date_diff_counts_whole_units_not_boundaries(ev: Events) -> list[list[object]]:
    # date_diff('hour', 22:59:59.950, 23:00:00.000) is 0: whole elapsed units, not boundaries crossed.
    fi, fc = first_times(ev.imps()), first_times(ev.clicks())
    groups: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in fc:
        if s not in fi:
            continue
        a, b = (datetime.fromtimestamp(x / 1000, UTC) for x in (fi[s], fc[s]))
        group = groups[(tdiv(fc[s] - fi[s], HOUR_MS), tdiv(fc[s] - fi[s], 24 * HOUR_MS))]
        group[0] += a.hour != b.hour
        group[1] += a.date() != b.date()
        group[2] += 1
    return [[h, d, *v] for (h, d), v in groups.items()]


@case(
    """SELECT max(to_unixtime(from_iso8601_timestamp(event_time)))
                - min(to_unixtime(from_iso8601_timestamp(event_time))) AS span_seconds
       FROM clicks WHERE inserted_at = @H1""",
    types=("double",),
)
def click_span_seconds_to_unixtime(ev: Events) -> list[list[object]]:
    times = [r.t for r in ev.clicks(H1)]
    return [[max(times) / 1000 - min(times) / 1000]]


@case(
    """SELECT count(*) AS quick FROM impressions i
       WHERE i.inserted_at = @H2
         AND EXISTS (SELECT 1 FROM clicks c
                     WHERE c.inserted_at IN (@H2, @H3) AND c.session_id = i.session_id
                       AND date_diff('second', from_iso8601_timestamp(i.event_time),
                                     from_iso8601_timestamp(c.event_time)) BETWEEN 0 AND 60)""",
)
def impressions_clicked_within_a_minute(ev: Events) -> list[list[object]]:
    # A click 0.4 s BEFORE the impression is 0 whole seconds away (truncation toward zero): counted.
    clicks = ev.clicks(H2, H3)
    return [
        [
            sum(
                1
                for i in ev.imps(H2)
                if any(c.session_id == i.session_id and 0 <= tdiv(c.t - i.t, 1000) <= 60 for c in clicks)
            )
        ]
    ]


@case(
    """WITH pairs AS (
         SELECT c.id AS click_id, i.id AS impression_id, from_iso8601_timestamp(i.event_time) AS shown
         FROM clicks c JOIN impressions i ON i.session_id = c.session_id
         WHERE c.inserted_at @ALL AND i.inserted_at @ALL
           AND from_iso8601_timestamp(i.event_time) <= from_iso8601_timestamp(c.event_time)),
       last_touch AS (SELECT click_id, max_by(impression_id, shown) AS impression_id
                      FROM pairs GROUP BY click_id)
       SELECT regexp_extract(impression_id, '^imp-([a-z]+)-', 1) AS campaign, count(*) AS clicks
       FROM last_touch GROUP BY 1""",
)
def last_touch_attribution_by_campaign(ev: Events) -> list[list[object]]:
    imps = [i for i in ev.imps() if i.session_id is not None]
    by_session: dict[str, list[Row]] = defaultdict(list)
    for i in imps:
        by_session[i.session_id].append(i)  # type: ignore[index]
    winners = []
    for c in ev.clicks():
        before = [(i.id, i.t) for i in by_session.get(c.session_id or "", []) if i.t <= c.t]
        if before:
            winners.append(unique_max(before))
    return counts(regexp_extract(w, r"^imp-([a-z]+)-", 1) for w in winners)  # type: ignore[arg-type]


# ---- event time parsing


@case(
    """SELECT hour(from_iso8601_timestamp(event_time)) AS h,
              extract(minute FROM from_iso8601_timestamp(event_time)) / 15 AS quarter_of_hour, count(*) AS n
       FROM impressions WHERE inserted_at = @H1 GROUP BY 1, 2 ORDER BY 1, 2""",
    ordered=True,
    types=("bigint", "bigint", "bigint"),
)
def quarter_hour_buckets(ev: Events) -> list[list[object]]:
    # hour() and extract() return bigint; bigint / 15 truncates. Late and boundary events of the
    # previous hours are in this arrival hour too.
    def key(r: Row) -> tuple[int, int]:
        moment = datetime.fromtimestamp(r.t / 1000, UTC)
        return moment.hour, moment.minute // 15

    return [[h, qh, n] for (h, qh), n in sorted(Counter(key(r) for r in ev.imps(H1)).items())]


@case(
    """SELECT inserted_at,
              date_format(date_trunc('hour', from_iso8601_timestamp(event_time)), '%Y/%m/%d/%H')
                AS event_hour,
              count(*) AS n
       FROM impressions WHERE inserted_at IN (@H1, @H2) GROUP BY 1, 2""",
)
def arrival_hour_vs_event_hour(ev: Events) -> list[list[object]]:
    return [
        [a, e, n] for (a, e), n in Counter((r.inserted_at, event_hour(r)) for r in ev.imps(H1, H2)).items()
    ]


@case(
    """SELECT inserted_at,
              count_if(replace(replace(substr(event_time, 1, 13), '-', '/'), 'T', '/') <> inserted_at)
                AS late,
              count(*) AS n
       FROM clicks WHERE inserted_at @ALL GROUP BY inserted_at""",
)
def late_clicks_per_arrival_hour(ev: Events) -> list[list[object]]:
    out = []
    for h in sorted({r.inserted_at for r in ev.clicks()}):
        rows = ev.clicks(h)
        out.append([h, sum(1 for r in rows if event_hour(r) != h), len(rows)])
    return out


@case(
    """SELECT replace(replace(substr(event_time, 1, 13), '-', '/'), 'T', '/') AS event_hour, count(*) AS n
       FROM impressions WHERE inserted_at @ALL GROUP BY 1""",
)
def impressions_by_event_hour(ev: Events) -> list[list[object]]:
    return counts(event_hour(r) for r in ev.imps())


@case(
    """SELECT date_trunc('hour', date_parse(event_time, '%Y-%m-%dT%H:%i:%s.%fZ')) AS hour_start, count(*) AS n
       FROM clicks WHERE inserted_at = @H2 GROUP BY 1 ORDER BY 1""",
    ordered=True,
    types=("timestamp(3)", "bigint"),
)
def clicks_per_hour_date_parse(ev: Events) -> list[list[object]]:
    return [[ts(h), n] for h, n in sorted(Counter(floor_hour_ms(r.t) for r in ev.clicks(H2)).items())]


@case(
    """SELECT date_trunc('hour', from_iso8601_timestamp(event_time)) AS hour_start, count(*) AS n
       FROM impressions WHERE inserted_at = @H3 GROUP BY 1""",
    types=("timestamp(3) with time zone", "bigint"),
)
def impressions_per_hour_timestamp_tz(ev: Events) -> list[list[object]]:
    return [[ts_tz(h), n] for h, n in Counter(floor_hour_ms(r.t) for r in ev.imps(H3)).items()]


@case(
    """SELECT min(from_iso8601_timestamp(event_time)) AS first_seen, max(event_time) AS last_text
       FROM clicks WHERE inserted_at = @H0""",
    types=("timestamp(3) with time zone", "varchar"),
)
def first_and_last_click_of_first_hour(ev: Events) -> list[list[object]]:
    rows = ev.clicks(H0)
    return [[ts_tz(min(r.t for r in rows)), max(r.event_time for r in rows)]]  # type: ignore[type-var]


@case(
    """SELECT inserted_at, min(event_time) AS first_text, max(event_time) AS last_text
       FROM impressions WHERE inserted_at @ALL GROUP BY inserted_at""",
)
def first_last_event_time_strings(ev: Events) -> list[list[object]]:
    out = []
    for h in ev.hours:
        times = [r.event_time for r in ev.imps(h)]
        if times:
            out.append([h, min(times), max(times)])  # type: ignore[type-var]
    return out


@case(
    """SELECT date(from_iso8601_timestamp(event_time)) AS event_day,
              day_of_week(from_iso8601_timestamp(event_time)) AS dow, count(*) AS n
       FROM impressions WHERE inserted_at @ALL GROUP BY 1, 2 ORDER BY 1""",
    ordered=True,
    types=("date", "bigint", "bigint"),
)
def impressions_per_calendar_day(ev: Events) -> list[list[object]]:
    per = Counter(datetime.fromtimestamp(r.t / 1000, UTC).date() for r in ev.imps())
    return [[d.isoformat(), d.isoweekday(), n] for d, n in sorted(per.items())]


@case(
    """SELECT date_format(from_iso8601_timestamp(event_time), '%H:%i') AS event_minute, count(*) AS n
       FROM clicks WHERE inserted_at @ALL GROUP BY 1 ORDER BY n DESC, event_minute LIMIT 3""",
    ordered=True,
)
def busiest_click_minutes(ev: Events) -> list[list[object]]:
    per = Counter(datetime.fromtimestamp(r.t / 1000, UTC).strftime("%H:%M") for r in ev.clicks())
    return [[m, n] for m, n in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]


@case(
    """SELECT count(*) AS n,
              sum(date_diff('millisecond', from_iso8601_timestamp(event_time),
                            date_add('hour', 1, date_trunc('hour', from_iso8601_timestamp(event_time)))))
                AS ms_to_hour_end
       FROM impressions WHERE inserted_at @ALL AND minute(from_iso8601_timestamp(event_time)) = 59
         AND second(from_iso8601_timestamp(event_time)) = 59""",
)
def last_second_of_the_hour(ev: Events) -> list[list[object]]:
    rows = [r for r in ev.imps() if r.t % HOUR_MS >= HOUR_MS - 1000]
    return [[len(rows), sum(HOUR_MS - r.t % HOUR_MS for r in rows)]]


# ---- ids and strings


@case(
    """SELECT regexp_extract(id, '^imp-([a-z]+)-\\d+$', 1) AS campaign, count(*) AS n
       FROM impressions WHERE inserted_at @ALL GROUP BY 1""",
)
def campaign_from_id_regex(ev: Events) -> list[list[object]]:
    # No match (legacy ids) is NULL, one group.
    return counts(regexp_extract(r.id, r"^imp-([a-z]+)-\d+$", 1) for r in ev.imps())


@case(
    """SELECT regexp_extract(id, '^imp-([a-z]+)-', 1) AS campaign, count(*) AS n
       FROM impressions WHERE inserted_at = @H3 GROUP BY 1 ORDER BY 1 DESC""",
    ordered=True,
)
def null_campaign_sorts_last_even_descending(ev: Events) -> list[list[object]]:
    # Trino's default is NULLS LAST for DESC as well as ASC.
    per = Counter(regexp_extract(r.id, r"^imp-([a-z]+)-", 1) for r in ev.imps(H3))
    named = sorted(((k, n) for k, n in per.items() if k is not None), reverse=True)
    return [[k, n] for k, n in named] + ([[None, per[None]]] if None in per else [])


@case(
    """SELECT count_if(regexp_like(id, '^IMP_\\d{6}$')) AS legacy,
              count_if(regexp_like(id, '^imp-')) AS current_ids,
              count_if(id LIKE 'imp-%-%') AS like_current
       FROM impressions WHERE inserted_at @ALL""",
)
def legacy_ids_regexp_like(ev: Events) -> list[list[object]]:
    ids = [r.id or "" for r in ev.imps()]
    return [
        [
            sum(1 for i in ids if re.search(r"^IMP_\d{6}$", i)),
            sum(1 for i in ids if i.startswith("imp-")),
            sum(1 for i in ids if re.fullmatch(r"imp-.*-.*", i, re.S)),
        ]
    ]


@case(
    """SELECT id, split_part(id, '-', 1) AS prefix, split_part(id, '-', 3) AS seq,
              split_part(id, '-', 4) AS extra
       FROM impressions WHERE inserted_at = @H2 ORDER BY id LIMIT 6""",
    ordered=True,
)
def split_part_past_the_end(ev: Events) -> list[list[object]]:
    # 'IMP_...' sorts before 'imp-...'; split_part without the delimiter: field 1 is the whole id,
    # later fields are NULL.
    ids = sorted(r.id for r in ev.imps(H2))  # type: ignore[type-var]
    return [[i, split_part(i, "-", 1), split_part(i, "-", 3), split_part(i, "-", 4)] for i in ids[:6]]


@case(
    """SELECT count_if(split_part(id, '-', 2) = 'brand') AS brand, count_if(session_id LIKE 'web-%') AS web,
              count_if(split_part(id, '-', 3) LIKE '%7') AS seq_ends_in_7, count(*) AS n
       FROM impressions WHERE inserted_at @ALL""",
)
def count_if_skips_null_predicates(ev: Events) -> list[list[object]]:
    rows = ev.imps()
    return [
        [
            sum(1 for r in rows if split_part(r.id, "-", 2) == "brand"),
            sum(1 for r in rows if (r.session_id or "").startswith("web-")),
            sum(1 for r in rows if (split_part(r.id, "-", 3) or "").endswith("7")),
            len(rows),
        ]
    ]


@case(
    """SELECT coalesce(split_part(session_id, '-', 1), 'unknown') AS device, count(*) AS n
       FROM impressions WHERE inserted_at @ALL GROUP BY 1""",
)
def impressions_per_device_with_unknown(ev: Events) -> list[list[object]]:
    return counts(r.device or "unknown" for r in ev.imps())


@case(
    """SELECT split_part(session_id, '-', 1) AS device, count(*) AS n,
              count(*) * 100 / sum(count(*)) OVER () AS share_pct,
              round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS share_exact
       FROM impressions WHERE inserted_at @ALL AND session_id IS NOT NULL GROUP BY 1""",
    types=("varchar", "bigint", "bigint", "decimal(24,1)"),
)
def device_share_window(ev: Events) -> list[list[object]]:
    per = Counter(r.device for r in ev.imps() if r.session_id is not None)
    total = sum(per.values())
    return [[d, n, n * 100 // total, pct1(n, total)] for d, n in per.items()]


@case(
    """SELECT count(concat(id, ':', session_id)) AS concatenated, count(id || ':' || session_id) AS piped,
              count(*) AS n
       FROM impressions WHERE inserted_at @ALL""",
)
def concat_with_null_is_null(ev: Events) -> list[list[object]]:
    with_session = sum(1 for r in ev.imps() if r.session_id is not None)
    return [[with_session, with_session, len(ev.imps())]]


@case(
    """SELECT id, lpad(split_part(id, '-', 3), 9, '0') AS padded, lpad(split_part(id, '-', 3), 4, '0') AS cut
       FROM clicks WHERE inserted_at = @H3 ORDER BY id LIMIT 5""",
    ordered=True,
)
def lpad_pads_and_truncates(ev: Events) -> list[list[object]]:
    ids = sorted(r.id for r in ev.clicks(H3))  # type: ignore[type-var]
    return [[i, lpad(split_part(i, "-", 3), 9, "0"), lpad(split_part(i, "-", 3), 4, "0")] for i in ids[:5]]


@case(
    """SELECT substr(session_id, -1) AS shard, count(*) AS n, min(length(session_id)) AS shortest
       FROM clicks WHERE inserted_at @ALL GROUP BY 1""",
)
def click_shards_by_last_hex_digit(ev: Events) -> list[list[object]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for r in ev.clicks():
        groups[(r.session_id or "")[-1:]].append(r.session_id or "")
    return [[k, len(v), min(len(s) for s in v)] for k, v in groups.items()]


@case(
    """SELECT substr(id, 1, 3) AS kind, upper(substr(id, 5, 3)) AS campaign_code, count(*) AS n
       FROM clicks WHERE inserted_at IN (@H0, @H4) GROUP BY 1, 2""",
)
def id_substrings(ev: Events) -> list[list[object]]:
    return [
        [k, c, n]
        for (k, c), n in Counter(
            ((r.id or "")[:3], (r.id or "")[4:7].upper()) for r in ev.clicks(H0, H4)
        ).items()
    ]


@case(
    """SELECT count(*) AS sampled FROM impressions
       WHERE inserted_at @ALL AND crc32(to_utf8(session_id)) % 10 = 0""",
)
def deterministic_session_sample_crc32(ev: Events) -> list[list[object]]:
    # crc32 is the standard CRC-32 (bigint, non-negative); NULL sessions drop out.
    return [
        [
            sum(
                1
                for r in ev.imps()
                if r.session_id is not None and zlib.crc32(r.session_id.encode()) % 10 == 0
            )
        ]
    ]


@case(
    """SELECT split_part(session_id, '-', 1) AS device, max_by(id, event_time) AS latest_click,
              max(event_time) AS latest_at
       FROM clicks WHERE inserted_at @ALL GROUP BY 1""",
)
def latest_click_per_device_max_by(ev: Events) -> list[list[object]]:
    out = []
    for device in {r.device for r in ev.clicks()}:
        rows = [r for r in ev.clicks() if r.device == device]
        out.append([device, unique_max((r.id, r.event_time) for r in rows), max(r.event_time for r in rows)])  # type: ignore[type-var]
    return out


# ---- window ranks


@case(
    """WITH per_session AS (
         SELECT split_part(session_id, '-', 1) AS device, session_id, count(*) AS n FROM impressions
         WHERE inserted_at @ALL AND session_id IS NOT NULL GROUP BY 1, 2),
       ranked AS (
         SELECT device, n, rank() OVER (PARTITION BY device ORDER BY n DESC) AS rnk,
                dense_rank() OVER (PARTITION BY device ORDER BY n DESC) AS drnk
         FROM per_session)
       SELECT device, n, rnk, drnk, count(*) AS sessions FROM ranked GROUP BY 1, 2, 3, 4""",
)
def rank_vs_dense_rank_per_device(ev: Events) -> list[list[object]]:
    per = Counter(r.session_id for r in ev.imps() if r.session_id is not None)
    out = []
    for device in {split_part(s, "-", 1) for s in per}:
        values = Counter(n for s, n in per.items() if split_part(s, "-", 1) == device)
        rank = 1
        for dense, (n, sessions) in enumerate(sorted(values.items(), reverse=True), start=1):
            out.append([device, n, rank, dense, sessions])
            rank += sessions
    return out


@case(
    """SELECT regexp_extract(id, '^imp-([a-z]+)-', 1) AS first_campaign, count(*) AS sessions
       FROM (SELECT session_id, id,
                    row_number() OVER (PARTITION BY session_id ORDER BY event_time, id) AS rn
             FROM impressions WHERE inserted_at @ALL) AS numbered
       WHERE rn = 1 AND session_id IS NOT NULL GROUP BY 1""",
)
def first_impression_per_session_row_number(ev: Events) -> list[list[object]]:
    first: dict[str, Row] = {}
    for r in ev.imps():
        if r.session_id is None:
            continue
        best = first.get(r.session_id)
        if best is None or (r.event_time, r.id) < (best.event_time, best.id):  # type: ignore[operator]
            first[r.session_id] = r
    return counts(regexp_extract(r.id, r"^imp-([a-z]+)-", 1) for r in first.values())


@case(
    """SELECT inserted_at, id FROM (
         SELECT inserted_at, id,
                row_number() OVER (PARTITION BY inserted_at ORDER BY event_time DESC, id) AS rn
         FROM clicks WHERE inserted_at @ALL) AS numbered
       WHERE rn <= 2""",
)
def last_two_clicks_per_arrival_hour(ev: Events) -> list[list[object]]:
    out = []
    for h in {r.inserted_at for r in ev.clicks()}:
        # event_time strings all have one length and format: their order is the time order.
        top = sorted(ev.clicks(h), key=lambda r: (-r.t, r.id))[:2]
        out += [[h, r.id] for r in top]
    return out


@case(
    """WITH per_hour AS (SELECT inserted_at, split_part(session_id, '-', 1) AS device, count(*) AS n
                        FROM clicks WHERE inserted_at @ALL GROUP BY 1, 2)
       SELECT inserted_at, device, n FROM (
         SELECT inserted_at, device, n, rank() OVER (PARTITION BY inserted_at ORDER BY n DESC) AS place
         FROM per_hour) AS ranked
       WHERE place = 1""",
)
def top_device_per_hour_with_ties(ev: Events) -> list[list[object]]:
    out = []
    for h in {r.inserted_at for r in ev.clicks()}:
        per = Counter(r.device for r in ev.clicks(h))
        top = max(per.values())
        out += [[h, d, n] for d, n in per.items() if n == top]
    return out


@case(
    """SELECT inserted_at, split_part(session_id, '-', 1) AS device, count(*) AS n
       FROM clicks WHERE inserted_at @ALL GROUP BY ROLLUP (inserted_at, split_part(session_id, '-', 1))""",
)
def clicks_rollup_hour_device(ev: Events) -> list[list[object]]:
    rows = ev.clicks()
    out: list[list[object]] = [
        [h, d, n] for (h, d), n in Counter((r.inserted_at, r.device) for r in rows).items()
    ]
    out += [[h, None, n] for h, n in Counter(r.inserted_at for r in rows).items()]
    return [*out, [None, None, len(rows)]]


# ---- isolated records


@case(
    """SELECT inserted_at, errorcode, count(*) AS n FROM impressions_errors
       WHERE inserted_at @ALL GROUP BY 1, 2""",
)
def impression_errors_per_hour_and_code(ev: Events) -> list[list[object]]:
    return [
        [h, c, n]
        for (h, c), n in Counter((e.inserted_at, e.errorcode) for e in ev.errs("impressions")).items()
    ]


@case(
    """SELECT from_unixtime(arrivaltimestamp / 1000) AS arrived,
              from_unixtime(arrivaltimestamp / 1e3) AS arrived_ms
       FROM clicks_errors WHERE inserted_at IN (@H0, @H1, @H2, @H3, @H4)""",
    types=("timestamp(3) with time zone", "timestamp(3) with time zone"),
)
def error_arrival_times_from_unixtime(ev: Events) -> list[list[object]]:
    # bigint / 1000 truncates to whole seconds; / 1e3 (a double) keeps the milliseconds.
    return [[ts_tz(e.arrival_ms // 1000 * 1000), ts_tz(e.arrival_ms)] for e in ev.errs("clicks")]


@case(
    """SELECT json_extract_scalar(from_utf8(from_base64(rawdata)), '$.id') AS id,
              json_extract_scalar(from_utf8(from_base64(rawdata)), '$.session_id') AS session_id,
              json_format(json_extract(from_utf8(from_base64(rawdata)), '$.id')) AS id_json
       FROM impressions_errors
       WHERE inserted_at @ALL AND errorcode = 'DataFormatConversion.TypeMismatch'""",
)
def type_mismatch_raw_json_fields(ev: Events) -> list[list[object]]:
    # json_extract_scalar of an object or array is NULL; json_format prints compact JSON.
    out = []
    for e in ev.errs("impressions"):
        if e.errorcode != TYPE_MISMATCH:
            continue
        doc = json.loads(e.raw)
        scalar = doc["id"] if isinstance(doc["id"], str) else None
        out.append([scalar, doc["session_id"], json.dumps(doc["id"], separators=(",", ":"))])
    return out


@case(
    """SELECT json_extract_scalar(from_utf8(from_base64(rawdata)), '$.id') AS id,
              coalesce(json_extract_scalar(from_utf8(from_base64(rawdata)), '$.session_id'),
                       json_extract_scalar(from_utf8(from_base64(rawdata)), '$.session_id[0]'),
                       json_extract_scalar(from_utf8(from_base64(rawdata)), '$.session_id.sid')) AS session_id
       FROM clicks_errors
       WHERE inserted_at @ALL AND errorcode = 'DataFormatConversion.TypeMismatch'""",
)
def salvage_sessions_from_rejected_clicks(ev: Events) -> list[list[object]]:
    out = []
    for e in ev.errs("clicks"):
        if e.errorcode == TYPE_MISMATCH:
            doc = json.loads(e.raw)
            sid = doc["session_id"]
            out.append([doc["id"], sid[0] if isinstance(sid, list) else sid["sid"]])
    return out


@case(
    """SELECT try(from_utf8(from_base64(rawdata))) AS raw_record, length(rawdata) AS b64_length
       FROM clicks_errors WHERE inserted_at @ALL AND errorcode = 'DataFormatConversion.MalformedData'""",
    types=("varchar", "bigint"),
)
def malformed_click_records_decoded(ev: Events) -> list[list[object]]:
    return [[e.raw.decode(), len(e.rawdata)] for e in ev.errs("clicks") if e.errorcode == MALFORMED]


@case(
    """SELECT e.inserted_at, count(*) AS rejected,
              count_if(strpos(try(from_utf8(from_base64(e.rawdata))), '{') = 1) AS looked_like_json
       FROM impressions_errors e WHERE e.inserted_at IN (@H0, @H1, @H2, @H3)
       GROUP BY e.inserted_at ORDER BY e.inserted_at""",
    ordered=True,
)
def rejected_impressions_that_looked_like_json(ev: Events) -> list[list[object]]:
    out = []
    for h in (H0, H1, H2, H3):
        errs = ev.errs("impressions", h)
        if errs:
            out.append([h, len(errs), sum(1 for e in errs if e.raw.startswith(b"{"))])
    return out
