"""The schema-change-and-replay scenario both profiles' tests run: events Firehose isolates because
the declaration lags the producers, the declaration fixed, the records replayed. Expected answers are
plain Python over the events sent."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.warehouse import EVENT_COLUMNS, analytics_dw

HOURS = [datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 1, 11, tzinfo=UTC)]
REPLAY_ARRIVAL = datetime(2026, 3, 1, 14, 20, tzinfo=UTC)
INT_MAX = 2**31 - 1


def _with_columns(columns: tuple[Column, ...]) -> ServerlessDataWarehouse:
    tables = tuple(
        dataclasses.replace(t, columns=columns) if t.name == "impressions" else t for t in analytics_dw.tables
    )
    return dataclasses.replace(analytics_dw, tables=tables)


# Before: a quantity column declared int. After: the field producers added (`price`) is declared,
# and quantity is widened to bigint.
BEFORE = _with_columns((*EVENT_COLUMNS, Column("quantity", "int")))
AFTER = _with_columns((*EVENT_COLUMNS, Column("quantity", "bigint"), Column("price", "double")))


def _event(id_: str, hour: datetime, minute: int, **fields: object) -> bytes:
    event_time = (hour + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    return json.dumps({"id": id_, "session_id": f"s-{id_}", "event_time": event_time, **fields}).encode()


def events(hour_index: int) -> list[bytes]:
    """One arrival hour's records: fitting events (some with the new `price` field, which Firehose
    drops, and numbers in the string column session_id, which it converts), events whose quantity no
    int holds (isolated: TypeMismatch), and records no schema change rescues."""
    hour = HOURS[hour_index]
    sent = [_event(f"g{hour_index}-{i}", hour, i, quantity=i, price=1.5 * i) for i in range(30)]
    sent += [_event(f"n{hour_index}-{i}", hour, 35, session_id=1000 + i) for i in range(3)]
    sent += [
        _event(f"big{hour_index}-{i}", hour, 40 + i, quantity=INT_MAX + 1 + i, price=2.5)
        for i in range(8 + 4 * hour_index)
    ]
    sent += [_event(f"bad{hour_index}-{i}", hour, 50, quantity="lots") for i in range(3)]
    sent += [b'{"id": "broken", ', b"[1, 2]"]
    return sent


def expected() -> dict[str, object]:
    """Per hour what Firehose's rules make of the events: delivered at once, isolated, and of those
    the ones the widened quantity admits."""
    result: dict[str, object] = {"delivered": {}, "isolated": {}, "replayable": {}, "ids": set()}
    for index, hour in enumerate(HOURS):
        key = f"{hour:%Y/%m/%d/%H}"
        parsed = []
        for record in events(index):
            try:
                parsed.append(json.loads(record))
            except json.JSONDecodeError:
                parsed.append(None)
        fits_before = [
            e
            for e in parsed
            if isinstance(e, dict) and isinstance(e.get("quantity"), int) and e["quantity"] <= INT_MAX
        ]
        fits_after = [
            e
            for e in parsed
            if isinstance(e, dict) and isinstance(e.get("quantity"), int) and e["quantity"] > INT_MAX
        ]
        result["delivered"][key] = len(fits_before) + sum(
            1 for e in parsed if isinstance(e, dict) and "quantity" not in e
        )
        result["isolated"][key] = len(parsed) - result["delivered"][key]
        result["replayable"][key] = len(fits_after)
        result["ids"] |= {
            e["id"]
            for e in parsed
            if isinstance(e, dict) and (e in fits_before or e in fits_after or "quantity" not in e)
        }
    return result
