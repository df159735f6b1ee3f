"""The replay ledger, in the lake beside the data (hidden from queries): per replay an intent,
written before anything is delivered, and a commit, written once its records are delivered.

    _replay/<table>/<replay id>/intent.json     records to deliver (id, error object, line), the
                                                arrival time and object token of the re-delivery,
                                                records still failing with their new reason
    _replay/<table>/<replay id>/commit.json     where the delivered records landed
    _replay/<table>/<replay id>/done.json       the error objects carry the outcome and the numbers
                                                (registration, aggregates) were refreshed

Only committed replays count as delivered. An intent without a commit is a replay that stopped (a
crash, a kill): the next replay of the table finishes it first, delivering exactly what it had
planned, with the same object names (local) or after looking its record ids up in the Kinesis
stream (AWS), so no record is delivered twice."""

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from dw_platform.lake.layout import replay_ledger_object, replay_ledger_prefix
from dw_platform.lake.store import Lake

INTENT, COMMIT, DONE = "intent.json", "commit.json", "done.json"


def ledger_prefix(table: str) -> str:
    return replay_ledger_prefix(table)


@dataclasses.dataclass(frozen=True)
class PlannedRecord:
    record_id: str
    object_key: str
    line: int
    hour: str
    error_code: str = ""  # still-failing records: the reason now
    error_message: str = ""

    def to_json(self) -> list[Any]:
        return [self.record_id, self.object_key, self.line, self.hour, self.error_code, self.error_message]

    @classmethod
    def from_json(cls, data: list[Any]) -> "PlannedRecord":
        return cls(*data)


@dataclasses.dataclass(frozen=True)
class Intent:
    replay_id: str
    table: str
    created_at: str  # ISO-8601 UTC
    arrival: str  # the re-delivery's arrival (local) / when it was put (AWS), ISO-8601 UTC
    token: str  # uuid the local re-delivery names its objects after
    target: str  # "delivery stream" (local) or the Kinesis stream's name
    deliver: tuple[PlannedRecord, ...]
    still_failing: tuple[PlannedRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            **{
                k: getattr(self, k)
                for k in ("replay_id", "table", "created_at", "arrival", "token", "target")
            },
            "deliver": [r.to_json() for r in self.deliver],
            "still_failing": [r.to_json() for r in self.still_failing],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Intent":
        return cls(
            **{k: data[k] for k in ("replay_id", "table", "created_at", "arrival", "token", "target")},
            deliver=tuple(PlannedRecord.from_json(r) for r in data["deliver"]),
            still_failing=tuple(PlannedRecord.from_json(r) for r in data["still_failing"]),
        )


@dataclasses.dataclass(frozen=True)
class Commit:
    replay_id: str
    committed_at: str
    landed_hour: str  # the arrival hour the delivered records were given
    objects: tuple[str, ...]  # local: the data objects written; AWS: none (Firehose writes them)
    rows: int
    event_hours: tuple[str, ...] = ()  # hours of the delivered rows' `event_time`, where it has one

    def to_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "objects": list(self.objects),
            "event_hours": list(self.event_hours),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Commit":
        return cls(
            **{**data, "objects": tuple(data["objects"]), "event_hours": tuple(data.get("event_hours", ()))}
        )


@dataclasses.dataclass(frozen=True)
class Entry:
    intent: Intent
    commit: Commit | None
    done: bool


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the ledger says of one isolated record."""

    status: str  # "delivered" or "still_failing"
    replay_id: str
    landed_hour: str | None = None
    error_code: str = ""
    error_message: str = ""


class ReplayLedger:
    def __init__(self, lake: Lake, table: str) -> None:
        self.lake = lake
        self.table = table

    def _key(self, replay_id: str, name: str) -> str:
        return replay_ledger_object(self.table, replay_id, name)

    def entries(self) -> list[Entry]:
        """Every replay of the table, oldest first (replay ids sort by time)."""
        files: dict[str, set[str]] = {}
        for obj in self.lake.list_objects(ledger_prefix(self.table), include_hidden=True):
            replay_id, _, name = obj.key[len(ledger_prefix(self.table)) :].partition("/")
            files.setdefault(replay_id, set()).add(name)
        found = []
        for replay_id in sorted(files):
            names = files[replay_id]
            if INTENT not in names:
                continue  # the lease (`_lease`), not a replay: a replay writes its intent first
            intent = Intent.from_json(json.loads(self.lake.read_bytes(self._key(replay_id, INTENT))))
            commit = None
            if COMMIT in names:
                commit = Commit.from_json(json.loads(self.lake.read_bytes(self._key(replay_id, COMMIT))))
            found.append(Entry(intent, commit, DONE in names))
        return found

    def write_intent(self, intent: Intent) -> None:
        self.lake.put_bytes(self._key(intent.replay_id, INTENT), json.dumps(intent.to_json()).encode())

    def write_commit(self, commit: Commit) -> None:
        self.lake.put_bytes(self._key(commit.replay_id, COMMIT), json.dumps(commit.to_json()).encode())

    def mark_done(self, replay_id: str) -> None:
        self.lake.put_bytes(self._key(replay_id, DONE), b"{}")


def outcomes(entries: Iterable[Entry]) -> dict[str, Outcome]:
    """Per record id, the ledger's last word: delivered (once, by the first committed replay that
    delivered it), else the newest reason it still fails for."""
    result: dict[str, Outcome] = {}
    for entry in entries:
        if entry.commit is None:
            continue
        replay_id = entry.intent.replay_id
        for record in entry.intent.still_failing:
            if result.get(record.record_id, Outcome("", "")).status != "delivered":
                result[record.record_id] = Outcome(
                    "still_failing", replay_id, None, record.error_code, record.error_message
                )
        for record in entry.intent.deliver:
            if result.get(record.record_id, Outcome("", "")).status != "delivered":
                result[record.record_id] = Outcome("delivered", replay_id, entry.commit.landed_hour)
    return result
