"""`dw replay`: the isolated records of some arrival hours, converted again with the table's current
schema and Firehose's rules; those that now convert are delivered once, through the path every event
takes (locally the table's delivery stream; on AWS its Kinesis stream, so Firehose converts them).

The commit protocol (see docs/replay.md): finish any replay of the table that stopped, plan (the
records no committed replay delivered, converted now), write the intent, deliver, write the commit,
annotate the error objects, then let the numbers follow (`numbers.refresh_numbers`). Every step can
be repeated: a crash anywhere, followed by another replay, leaves each record delivered once.
"""

import dataclasses
import json
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from dw_platform.catalog import table_definition
from dw_platform.catalog.sync import sync_catalog
from dw_platform.declaration.warehouse import TableKind
from dw_platform.delivery.conversion import RecordConverter, RecordRejected
from dw_platform.delivery.kinesis_producer import KinesisProducer
from dw_platform.errors import DwError, UserInputError
from dw_platform.lake.event_time import parse_event_time
from dw_platform.lake.hours import hours_between, inserted_at
from dw_platform.lake.layout import data_object, delivery_ledger_prefix, replay_folder
from dw_platform.operations.replay.annotate import annotate_objects
from dw_platform.operations.replay.kinesis_lookup import keys_in_stream
from dw_platform.operations.replay.lease import replay_lease
from dw_platform.operations.replay.ledger import (
    Commit,
    Entry,
    Intent,
    Outcome,
    PlannedRecord,
    ReplayLedger,
    outcomes,
)
from dw_platform.operations.replay.records import IsolatedRecord, isolated_records
from dw_platform.runtime.backends import Runtime

if TYPE_CHECKING:  # numbers reach compaction (and pandas): imported when a replay refreshes them
    from dw_platform.operations.replay.numbers import NumbersRefresh

# The steps after which `fault(step)` is called: a test stops the replay there (its fixture passes a
# fault, or replaces `no_fault` in a `dw` process it starts).
STEPS = ("intent", "delivered", "committed", "annotated")
# A stopped AWS replay is finished by looking its records up in Kinesis, which keeps them 24 hours.
KINESIS_RETENTION = timedelta(hours=24)

Fault = Callable[[str], None]


class ReplayError(DwError):
    """A replay that cannot go on; the message says what to do."""


def no_fault(step: str) -> None:
    """A replay's default `fault`: every step goes on."""


@dataclasses.dataclass(frozen=True)
class Reason:
    code: str
    message: str
    records: int


@dataclasses.dataclass(frozen=True)
class ReplayPlan:
    table: str
    hours: tuple[str, ...]
    isolated: int  # every isolated record of the hours
    already_delivered: int  # by an earlier replay
    selected: int  # not delivered yet, and with the asked-for error code
    convertible: tuple[tuple[IsolatedRecord, int], ...]  # with the rows each gives
    failing: tuple[tuple[IsolatedRecord, RecordRejected], ...]

    def top_reasons(self, limit: int = 5) -> list[Reason]:
        counted = Counter((r.code, r.message) for _, r in self.failing)
        return [Reason(code, message, n) for (code, message), n in counted.most_common(limit)]


@dataclasses.dataclass(frozen=True)
class ReplayReport:
    table: str
    dry_run: bool
    hours: tuple[str, ...]
    isolated: int
    already_delivered: int
    selected: int
    converted: int  # delivered now (or, for a dry run, would be)
    still_failing: int
    top_reasons: tuple[Reason, ...]
    replay_id: str | None = None
    landed_hour: str | None = None
    rows: int = 0
    resumed: tuple[str, ...] = ()  # stopped replays finished first
    numbers: "NumbersRefresh | None" = None

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["numbers"] = self.numbers.to_json() if self.numbers else None
        return data


def _through_kinesis(runtime: Runtime) -> bool:
    """Whether events go into Kinesis, where Firehose converts them and Kinesis stamps the arrival
    (AWS), rather than through a delivery stream this process runs (local)."""
    return not runtime.events.controls_arrival


def _check_schema_is_current(runtime: Runtime, table: str) -> None:
    """Firehose converts with the Glue table: replaying before the table has the declared columns
    would only isolate the records again. Locally the catalog follows the declaration here."""
    if not _through_kinesis(runtime):
        sync_catalog(runtime)
        return
    current = runtime.catalog.get_table(runtime.database, table)
    declared = table_definition(runtime.warehouse.table(table))
    if current is None or current.columns != declared.columns:
        raise ReplayError(
            f"the Glue table {runtime.database}.{table} does not have the declared columns yet: run "
            "`dw provision apply` (it updates the table, its partitions and the delivery stream), then replay"
        )


def _reason_now(record: IsolatedRecord, outcome: Outcome | None) -> str:
    return outcome.error_code if outcome and outcome.status == "still_failing" else record.error_code


def plan_replay(
    runtime: Runtime, table: str, hours: Sequence[str], *, error_code: str | None = None
) -> ReplayPlan:
    """What a replay of `hours` would do now: which records convert with the current schema."""
    spec = runtime.warehouse.table(table)
    converter = RecordConverter(spec.columns)
    known = outcomes(ReplayLedger(runtime.lake, table).entries())
    records = isolated_records(runtime.lake, table, hours)
    pending = [r for r in records if known.get(r.record_id, Outcome("", "")).status != "delivered"]
    selected = [
        r for r in pending if error_code is None or _reason_now(r, known.get(r.record_id)) == error_code
    ]
    convertible: list[tuple[IsolatedRecord, int]] = []
    failing: list[tuple[IsolatedRecord, RecordRejected]] = []
    for record in selected:
        try:
            convertible.append((record, len(converter.convert(record.data))))
        except RecordRejected as rejected:
            failing.append((record, rejected))
    return ReplayPlan(
        table,
        tuple(hours),
        len(records),
        len(records) - len(pending),
        len(selected),
        tuple(convertible),
        tuple(failing),
    )


def _planned(record: IsolatedRecord, rejected: RecordRejected | None = None) -> PlannedRecord:
    code, message = (rejected.code, rejected.message) if rejected else ("", "")
    return PlannedRecord(record.record_id, record.object_key, record.line, record.hour, code, message)


def _raw_data(runtime: Runtime, table: str, planned: Sequence[PlannedRecord]) -> list[bytes]:
    hours = sorted({p.hour for p in planned})
    by_id = {r.record_id: r.data for r in isolated_records(runtime.lake, table, hours)}
    missing = [p for p in planned if p.record_id not in by_id]
    if missing:
        raise ReplayError(
            f"error object {missing[0].object_key} no longer holds line {missing[0].line + 1}, which replay "
            f"{len(missing)} records depend on; restore it and replay again"
        )
    return [by_id[p.record_id] for p in planned]


class Replayer:
    def __init__(self, runtime: Runtime, table: str, fault: Fault | None = None) -> None:
        spec = runtime.warehouse.table(table)
        if spec.kind is not TableKind.STREAMING:
            raise ReplayError(f"table {table!r} is not a streaming table: only those isolate records")
        self.runtime = runtime
        self.table = table
        self.ledger = ReplayLedger(runtime.lake, table)
        self.fault = fault or no_fault

    # ---- delivery, local ------------------------------------------------------------------------
    def _tokens(self, intent: Intent) -> set[str]:
        base = uuid.UUID(intent.token)
        return {str(uuid.uuid5(base, str(i))) for i in range(len(intent.deliver) + 1)}

    def _delivered_locally(self, intent: Intent) -> tuple[int, int, list[str]] | None:
        """(records, rows, objects) if the delivery stream's ledger vouches for the whole replay."""
        hour = inserted_at(datetime.fromisoformat(intent.arrival))
        tokens = self._tokens(intent)
        prefix = delivery_ledger_prefix(self.table, hour)
        entries = [
            o.key
            for o in self.runtime.lake.list_objects(prefix, include_hidden=True)
            if o.key.removesuffix(".json")[-36:] in tokens
        ]
        if not entries:
            return None
        loaded = [json.loads(self.runtime.lake.read_bytes(k)) for k in entries]
        records = sum(e["records"] for e in loaded)
        if records != len(intent.deliver):
            return None
        names = [k[len(prefix) :].removesuffix(".json") for k in entries]
        objects = [data_object(self.table, hour, n) for n, e in zip(names, loaded, strict=True) if e["rows"]]
        return records, sum(e["rows"] for e in loaded), objects

    def _deliver_locally(self, intent: Intent) -> tuple[int, list[str]]:
        done = self._delivered_locally(intent)
        if done is not None:
            return done[1], done[2]
        stream = self.runtime.delivery_stream(self.table)
        stream.object_token = uuid.UUID(intent.token)  # the same names if delivered again
        stream.ledger_note = {"replay_id": intent.replay_id}
        with stream:
            stream.put_records(
                _raw_data(self.runtime, self.table, intent.deliver), datetime.fromisoformat(intent.arrival)
            )
        if stream.summary.errors:
            raise ReplayError(
                f"{stream.summary.errors} replayed records of {self.table} failed conversion in the delivery "
                "stream although they converted when planned; they are isolated again in the landing hour"
            )
        return stream.summary.rows, list(stream.summary.objects)

    # ---- delivery, AWS --------------------------------------------------------------------------
    def _deliver_to_kinesis(self, intent: Intent) -> int:
        stream = self.runtime.stream_name(self.table)
        started = datetime.fromisoformat(intent.created_at)
        if datetime.now(UTC) - started > KINESIS_RETENTION - timedelta(hours=1):
            raise ReplayError(
                f"replay {intent.replay_id} of {self.table} stopped more than a day ago, beyond what Kinesis "
                f"keeps: whether its records were put cannot be told. Look for them in {self.table} (arrival "
                f"hour {inserted_at(started)}), then delete {replay_folder(self.table, intent.replay_id)} if "
                "they are not there"
            )
        ids = {p.record_id for p in intent.deliver}
        already = keys_in_stream(self.runtime.kinesis, stream, started, ids)
        rest = [p for p in intent.deliver if p.record_id not in already]
        if rest:
            KinesisProducer(self.runtime.kinesis, stream).put_events(
                _raw_data(self.runtime, self.table, rest), partition_keys=[p.record_id for p in rest]
            )
        return 0  # Firehose writes the rows: counted once it has delivered them

    # ---- protocol -------------------------------------------------------------------------------
    def _event_hours(self, intent: Intent) -> tuple[str, ...]:
        """The event hours of the rows a replay delivers (event-time tables are recomputed for
        those), by the platform's `event_time` column if the table has one."""
        spec = self.runtime.warehouse.table(self.table)
        if "event_time" not in spec.column_names or not intent.deliver:
            return ()
        converter = RecordConverter(spec.columns)
        hours = set()
        for data in _raw_data(self.runtime, self.table, intent.deliver):
            for row in converter.convert(data):
                moment = parse_event_time(str(row["event_time"]))
                if moment is not None:  # else not ISO-8601: event-time jobs do not count it either
                    hours.add(inserted_at(moment))
        return tuple(sorted(hours))

    def _finish(self, intent: Intent) -> Commit:
        if _through_kinesis(self.runtime):
            rows, objects = self._deliver_to_kinesis(intent), []
        else:
            rows, objects = self._deliver_locally(intent)
        self.fault("delivered")
        commit = Commit(
            intent.replay_id,
            datetime.now(UTC).isoformat(),
            inserted_at(datetime.fromisoformat(intent.arrival)),
            tuple(objects),
            rows,
            self._event_hours(intent),
        )
        self.ledger.write_commit(commit)
        self.fault("committed")
        return commit

    def _settle(self, done: Sequence[Entry]) -> "NumbersRefresh | None":
        """Annotate the error objects of committed replays and let the numbers follow, then mark them
        done. Both are derived from the ledger: repeating them after a crash changes nothing more."""
        if not done:
            return None
        known = outcomes(self.ledger.entries())
        keys = {p.object_key for e in done for p in (*e.intent.deliver, *e.intent.still_failing)}
        annotate_objects(self.runtime.lake, keys, known)
        self.fault("annotated")
        numbers = None
        delivered = [e.commit for e in done if e.commit is not None and e.intent.deliver]
        if delivered:
            has_event_time = "event_time" in self.runtime.warehouse.table(self.table).column_names
            from dw_platform.operations.replay.numbers import refresh_numbers

            numbers = refresh_numbers(
                self.runtime,
                self.table,
                [c.landed_hour for c in delivered],
                event_hours=sorted({h for c in delivered for h in c.event_hours}) if has_event_time else None,
            )
        for entry in done:
            self.ledger.mark_done(entry.intent.replay_id)
        return numbers

    def resume(self) -> tuple[list[str], list[Entry]]:
        """Commit the replays of the table that stopped before their commit; returns their ids and
        every committed replay not done yet."""
        finished: list[str] = []
        pending: list[Entry] = []
        for entry in self.ledger.entries():
            if entry.commit is None:
                entry = Entry(entry.intent, self._finish(entry.intent), False)
                finished.append(entry.intent.replay_id)
            if not entry.done:
                pending.append(entry)
        return finished, pending

    def replay(
        self,
        hours: Sequence[str],
        *,
        error_code: str | None = None,
        arrival: datetime | None = None,
        now: datetime | None = None,
    ) -> ReplayReport:
        _check_schema_is_current(self.runtime, self.table)
        resumed, pending = self.resume()
        plan = plan_replay(self.runtime, self.table, hours, error_code=error_code)
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        known = outcomes(self.ledger.entries())
        # A record failing for the reason the ledger already has is not recorded again: replaying
        # again with nothing new changes nothing.
        changed = [
            (r, rejected)
            for r, rejected in plan.failing
            if (o := known.get(r.record_id)) is None
            or (o.error_code, o.error_message) != (rejected.code, rejected.message)
        ]
        replay_id = landed_hour = None
        rows = 0
        if plan.convertible or changed:
            replay_id = f"{moment:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
            kinesis = _through_kinesis(self.runtime)
            when = moment if kinesis else (arrival or moment).astimezone(UTC)  # Kinesis stamps it
            intent = Intent(
                replay_id,
                self.table,
                moment.isoformat(),
                when.isoformat(),
                str(uuid.uuid4()),
                self.runtime.stream_name(self.table) if kinesis else "delivery stream",
                tuple(_planned(r) for r, _ in plan.convertible),
                tuple(_planned(r, rejected) for r, rejected in changed),
            )
            self.ledger.write_intent(intent)
            self.fault("intent")
            commit = self._finish(intent)
            pending.append(Entry(intent, commit, False))
            landed_hour = commit.landed_hour if intent.deliver else None
            rows = commit.rows
        numbers = self._settle(pending)
        return ReplayReport(
            self.table,
            False,
            tuple(hours),
            plan.isolated,
            plan.already_delivered,
            plan.selected,
            len(plan.convertible),
            len(plan.failing),
            tuple(plan.top_reasons()),
            replay_id,
            landed_hour,
            rows,
            tuple(resumed),
            numbers,
        )


def replay(
    runtime: Runtime,
    table: str,
    first: datetime,
    last: datetime,
    *,
    error_code: str | None = None,
    dry_run: bool = False,
    arrival: datetime | None = None,
    fault: Fault | None = None,
) -> ReplayReport:
    """Replay the isolated records of arrival hours `first`..`last` (inclusive) of `table`."""
    if last < first:
        raise ReplayError(f"--to {last:%Y/%m/%d/%H} is before --from {first:%Y/%m/%d/%H}")
    if arrival is not None and _through_kinesis(runtime):  # the CLI's --arrival, the job's `arrival`
        raise UserInputError("setting a replay's arrival is for the local profile: on AWS, Kinesis stamps it")
    hours = [inserted_at(h) for h in hours_between(first, last)]
    replayer = Replayer(runtime, table, fault)
    if not dry_run:
        with replay_lease(runtime, table):  # finishing, planning and delivering: one replay at a time
            return replayer.replay(hours, error_code=error_code, arrival=arrival)
    plan = plan_replay(runtime, table, hours, error_code=error_code)
    return ReplayReport(
        table,
        True,
        tuple(hours),
        plan.isolated,
        plan.already_delivered,
        plan.selected,
        len(plan.convertible),
        len(plan.failing),
        tuple(plan.top_reasons()),
        rows=sum(n for _, n in plan.convertible),
    )


def replayed_per_hour(runtime: Runtime, table: str) -> dict[str, int]:
    """Per arrival hour of isolation: how many of its records a replay delivered (for dw status)."""
    counts: Counter[str] = Counter()
    entries = ReplayLedger(runtime.lake, table).entries()
    known = outcomes(entries)
    hours = {p.record_id: p.hour for e in entries for p in e.intent.deliver}
    for rid, outcome in known.items():
        if outcome.status == "delivered":
            counts[hours[rid]] += 1
    return dict(counts)
