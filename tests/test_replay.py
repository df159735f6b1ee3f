"""Schema change in one step and `dw replay` on the local profile: the isolated events of two hours
come back exactly once after the declaration gains the column and widens the type, whatever step a
replay stopped at; the errors table, dw status and the aggregates follow."""

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import pytest

from dw_platform.catalog import table_definition
from dw_platform.catalog.schema_change import UnsafeSchemaChange, schema_change
from dw_platform.cli.main import main
from dw_platform.declaration.warehouse import Column
from dw_platform.delivery.sending import deliver
from dw_platform.lake.hours import hour_of_inserted_at, inserted_at, partition_key
from dw_platform.operations.batch_tables import run_batch_hours
from dw_platform.operations.registration import register_hours
from dw_platform.operations.replay.lease import ReplayInProgress
from dw_platform.operations.replay.ledger import Intent, ReplayLedger
from dw_platform.operations.replay.run import STEPS, replay
from dw_platform.operations.status import reconcile_hours
from dw_platform.orchestration.build import build_definitions
from dw_platform.orchestration.replay_job import ReplayConfig
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.dw_process import start_dw
from tests.replay_scenario import AFTER, BEFORE, HOURS, REPLAY_ARRIVAL, _with_columns, events, expected

KEYS = [inserted_at(h) for h in HOURS]
LANDED = inserted_at(REPLAY_ARRIVAL)


class Crash(Exception):
    pass


def crash_at(step: str):
    def fault(name: str) -> None:
        if name == step:
            raise Crash(step)

    return fault


@pytest.fixture(scope="module")
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse home in which both hours were sent with the old declaration, registered and
    aggregated (made once, copied by each test)."""
    home = tmp_path_factory.mktemp("isolated") / "dw"
    settings = dataclasses.replace(Settings.from_env({}), home=home)
    runtime = Runtime.from_settings(BEFORE, settings)
    for index, hour in enumerate(HOURS):
        deliver(runtime, "impressions", events(index), arrival=hour.replace(minute=7), batches=2)
    register_hours(runtime, "impressions", KEYS)
    for table in ("aggregates", "aggregates_by_event_time"):  # as their schedules did
        run_batch_hours(runtime, table, KEYS)
    return home


def isolate(settings: Settings, isolated_home: Path) -> Runtime:
    """The isolated warehouse at `settings.home`, seen through the fixed declaration."""
    shutil.copytree(isolated_home, settings.home)
    return Runtime.from_settings(AFTER, settings)


def lake_snapshot(settings: Settings) -> dict[str, str]:
    root = settings.lake_dir
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def final_state(runtime: Runtime) -> dict[str, object]:
    engine = runtime.engine
    span = f"inserted_at BETWEEN '{KEYS[0]}' AND '{LANDED}'"
    rows = engine.query(
        f"SELECT id, quantity, price, inserted_at FROM impressions WHERE {span}"
    ).table.to_pylist()
    errors = engine.query(
        "SELECT inserted_at, replaystatus, replayedinto, replayerrorcode, count(*) AS n "
        f"FROM impressions_errors WHERE {span} GROUP BY 1, 2, 3, 4"
    ).table.to_pylist()
    aggregates = engine.query(
        f"SELECT time, count FROM aggregates WHERE {span} AND event_type = 'impressions'"
    ).table.to_pylist()
    by_event = engine.query(
        "SELECT time, count FROM aggregates_by_event_time WHERE event_hour BETWEEN "
        f"'{KEYS[0]}' AND '{KEYS[1]}' AND event_type = 'impressions'"
    ).table.to_pylist()
    return {
        "rows": sorted((r["id"], r["quantity"], r["price"], r["inserted_at"]) for r in rows),
        "errors": sorted(tuple(str(v) for v in e.values()) for e in errors),
        "aggregates": {a["time"]: a["count"] for a in aggregates},
        "by_event_time": {a["time"]: a["count"] for a in by_event},
    }


def check_exactly_once(runtime: Runtime) -> dict[str, object]:
    want = expected()
    state = final_state(runtime)
    ids = [r[0] for r in state["rows"]]
    assert len(ids) == len(set(ids)) and set(ids) == want["ids"], "every event in the table exactly once"
    replayed = sum(want["replayable"].values())
    landed = [r for r in state["rows"] if r[3] == LANDED]
    assert len(landed) == replayed and all(r[1] > 2**31 - 1 and r[2] == 2.5 for r in landed)
    old = [r for r in state["rows"] if r[0].startswith("g")]
    assert old and all(r[2] is None for r in old), "objects written before the column read it as NULL"
    assert state["aggregates"] == {**want["delivered"], LANDED: replayed}
    # Event-time aggregates: every event that fits now counts in the hour it happened (the replay landed
    # within the 24-hour lateness window).
    assert state["by_event_time"] == {k: want["delivered"][k] + want["replayable"][k] for k in KEYS}
    errors: dict[tuple[str, str, str], int] = {}
    for e in state["errors"]:
        errors[(e[0], e[1], e[2])] = errors.get((e[0], e[1], e[2]), 0) + int(e[4])
    for key in KEYS:
        still = want["isolated"][key] - want["replayable"][key]
        assert errors[(key, "delivered", LANDED)] == want["replayable"][key]
        assert errors[(key, "still_failing", "None")] == still
    reconciled = {
        (r.inserted_at): r for r in reconcile_hours(runtime, [*KEYS, LANDED]) if r.table == "impressions"
    }
    for key in KEYS:  # isolated = replayed and delivered + still isolated
        hour = reconciled[key]
        assert hour.error_records == want["isolated"][key] == hour.replayed + hour.still_isolated
        assert hour.replayed == want["replayable"][key] and hour.reconciled
    assert reconciled[LANDED].rows == replayed and reconciled[LANDED].reconciled
    return state


def test_schema_changes_safe_and_unsafe() -> None:
    current = table_definition(BEFORE.table("impressions"))
    change = schema_change(current, table_definition(AFTER.table("impressions")))
    assert change.describe() == "~ column quantity int -> bigint, + column price double"
    cases = {
        "removing column(s) ['quantity']": BEFORE.table("impressions").columns[:3],
        "renaming or replacing": (*BEFORE.table("impressions").columns[:3], Column("qty", "int")),
        "narrowing column quantity from int to smallint": (
            *BEFORE.table("impressions").columns[:3],
            Column("quantity", "smallint"),
        ),
        "changing column quantity from int to string": (
            *BEFORE.table("impressions").columns[:3],
            Column("quantity"),
        ),
        "reordering": (*BEFORE.table("impressions").columns[1:], BEFORE.table("impressions").columns[0]),
    }
    for reason, columns in cases.items():
        with pytest.raises(UnsafeSchemaChange, match=re.escape(reason)) as refused:
            schema_change(current, table_definition(_with_columns(columns).table("impressions")))
        assert "; " in str(refused.value), "the refusal says what to do instead"
    moved = dataclasses.replace(BEFORE.table("impressions"), partition_keys=(Column("arrival_hour"),))
    with pytest.raises(UnsafeSchemaChange, match="partition key"):
        schema_change(current, table_definition(moved))


@pytest.mark.parametrize("step", [None, *STEPS])
def test_replay_delivers_each_isolated_record_once(
    settings: Settings, isolated_home: Path, step: str | None
) -> None:
    runtime = isolate(settings, isolated_home)
    assert "quantity" in {c for c, _ in runtime.catalog.get_table("analytics_dw", "impressions").columns}
    dry = replay(runtime, "impressions", HOURS[0], HOURS[1], dry_run=True)
    want = expected()
    assert (dry.isolated, dry.converted) == (sum(want["isolated"].values()), sum(want["replayable"].values()))
    assert dry.top_reasons[0].code == "DataFormatConversion.TypeMismatch" and dry.top_reasons[0].records == 6
    before_dry = lake_snapshot(settings)
    if step is not None:
        with pytest.raises(Crash):
            replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL, fault=crash_at(step))
    report = replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL)
    if step in (None, "intent", "delivered"):
        assert report.converted == sum(want["replayable"].values()) or report.resumed
    assert before_dry != lake_snapshot(settings)
    state = check_exactly_once(runtime)

    settled = lake_snapshot(settings)
    again = replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL)
    assert (again.converted, again.already_delivered, again.replay_id) == (
        0,
        sum(want["replayable"].values()),
        None,
    )
    assert lake_snapshot(settings) == settled, "a second replay changes nothing"
    assert final_state(runtime) == state


@pytest.mark.slow
def test_dw_replay_command(
    settings: Settings, isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    runtime = isolate(settings, isolated_home)
    monkeypatch.setenv("DW_HOME", str(settings.home))
    monkeypatch.setattr("dw_platform.defs.analytics_dw.warehouse.analytics_dw", AFTER)
    span = ["--from", "2026-03-01T10", "--to", "2026/03/01/11"]
    assert main(["replay", "impressions", *span, "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["converted"] == 20 and dry["still_failing"] == 10
    assert main(["replay", "impressions", *span, "--error-code", "DataFormatConversion.MalformedData"]) == 0
    out = capsys.readouterr().out
    assert "delivered 0" in out and "still failing 4" in out
    defs = build_definitions(AFTER, settings)
    (settings.home / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(settings.home / "dagster")) as instance:
        config = ReplayConfig(
            table="impressions",
            first_hour="2026-03-01T10",
            last_hour="2026-03-01T11",
            arrival=REPLAY_ARRIVAL.isoformat(),
        )
        result = defs.get_job_def("analytics_dw_replay_isolated_records").execute_in_process(
            run_config=dg.RunConfig(ops={"analytics_dw_replay_isolated": config}),
            instance=instance,
            resources={"warehouse_resource": defs.resources["warehouse_resource"]},
        )
    assert result.success and result.output_for_node("analytics_dw_replay_isolated")["landed_hour"] == LANDED
    # The hours it recomputed are materialized in its run, so their partitions show the new numbers.
    recomputed = result.output_for_node("analytics_dw_replay_isolated")["numbers"]["recomputed"]
    logged = {
        (e.asset_key.path[-1], e.partition) for e in result.get_asset_materialization_events() if e.asset_key
    }
    expected = {(t, partition_key(hour_of_inserted_at(h))) for t, hours in recomputed.items() for h in hours}
    assert expected and logged == expected
    assert main(["replay", "impressions", *span, "--arrival", REPLAY_ARRIVAL.isoformat()]) == 0
    assert "delivered 0 (0 rows)" in capsys.readouterr().out, "replayed once, by the job"
    assert main(["status", "--json"]) == 0
    status = {s["table"]: s for s in json.loads(capsys.readouterr().out)}
    assert status["impressions"]["replayed_records"] == 20 and status["impressions"]["error_records"] == 30
    check_exactly_once(runtime)
    monkeypatch.setattr(
        "dw_platform.defs.analytics_dw.warehouse.analytics_dw",
        _with_columns(BEFORE.table("impressions").columns[:3]),
    )
    assert main(["replay", "impressions", *span]) == 2
    assert "removing column(s) ['quantity', 'price'] cannot be applied safely" in capsys.readouterr().err


def test_a_replay_planned_while_another_delivers_is_refused_not_delivered_twice(
    settings: Settings, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replays of a table at once: the first has planned its records and is about to write its
    intent when the second starts. Without a lease both would deliver the same records."""
    runtime = isolate(settings, isolated_home)
    planned, go_on = threading.Event(), threading.Event()
    write_intent = ReplayLedger.write_intent

    def paused_write_intent(self: ReplayLedger, intent: Intent) -> None:  # the real write, held back
        planned.set()
        assert go_on.wait(60)
        write_intent(self, intent)

    monkeypatch.setattr(ReplayLedger, "write_intent", paused_write_intent)
    first: dict[str, object] = {}
    worker = threading.Thread(
        target=lambda: first.setdefault(
            "report", replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL)
        )
    )
    worker.start()
    try:
        assert planned.wait(60)
        running = rf"another replay of impressions is running \(process {os.getpid()} on "
        with pytest.raises(ReplayInProgress, match=running):
            replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL)
    finally:
        go_on.set()
        worker.join(60)
    assert first["report"].converted == sum(expected()["replayable"].values())  # type: ignore[attr-defined]
    check_exactly_once(runtime)


KILLED_REPLAY = """
import sys, time, dataclasses
from pathlib import Path
from dw_platform.operations.replay.run import replay
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings
from tests.replay_scenario import AFTER, HOURS, REPLAY_ARRIVAL

def stall(step):
    if step == "intent":
        print("holding", flush=True)
        time.sleep(600)

runtime = Runtime.from_settings(AFTER, dataclasses.replace(Settings.from_env({}), home=Path(sys.argv[1])))
replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL, fault=stall)
"""


@pytest.mark.e2e
def test_a_killed_replay_leaves_no_lease_behind(settings: Settings, isolated_home: Path) -> None:
    """The local lease is the kernel's: kill -9 of its holder frees it, and the next replay finishes the
    killed one's intent."""
    runtime = isolate(settings, isolated_home)
    holder = subprocess.Popen(
        [sys.executable, "-c", KILLED_REPLAY, str(settings.home)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"holding\n"
        with pytest.raises(ReplayInProgress, match=rf"\(process {holder.pid} on "):
            replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL)
    finally:
        holder.kill()
        holder.wait()
    report = replay(runtime, "impressions", HOURS[0], HOURS[1], arrival=REPLAY_ARRIVAL)
    assert len(report.resumed) == 1 and report.replay_id is None, "the killed replay's intent, finished"
    check_exactly_once(runtime)


# Run in a `dw replay` child before the command: the fixed declaration, and a kill -9 (os._exit: no
# cleanup, nothing flushed) right after the step the test names, in place of the default `no_fault`.
KILLED_AFTER_STEP = """
import os
import dw_platform.defs.analytics_dw.warehouse as declared
import dw_platform.operations.replay.run as run
from tests.replay_scenario import AFTER

declared.analytics_dw = AFTER

def killed_after(step):
    if step == {step!r}:
        os._exit(137)

run.no_fault = killed_after
"""


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("step", ["delivered", "committed"])  # every step, in process: above
def test_a_dw_replay_killed_after_a_step_is_finished_once_by_the_next(
    settings: Settings, isolated_home: Path, step: str
) -> None:
    runtime = isolate(settings, isolated_home)
    env = {**os.environ, "DW_HOME": str(settings.home), "DAGSTER_HOME": str(settings.home / "dagster")}
    args = ("replay", "impressions", "--from", "2026-03-01T10", "--to", "2026-03-01T11")
    args += ("--arrival", REPLAY_ARRIVAL.isoformat())
    killed = start_dw(env, *args, prelude=KILLED_AFTER_STEP.format(step=step))
    assert killed.wait(300) == 137, killed.communicate()[1].decode()
    after = start_dw(env, *args, prelude=KILLED_AFTER_STEP.format(step=None))
    out, err = after.communicate(timeout=300)
    assert after.returncode == 0, err.decode()
    finished = b"finished 1 stopped replays first" if step == "delivered" else b"20 delivered by earlier"
    assert finished in out, out.decode()
    check_exactly_once(runtime)
