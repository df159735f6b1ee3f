"""`make dev` stops on SIGTERM (docker stop, systemd, CI) and on Ctrl-C (SIGINT) within 10 s, leaving no
process behind. End to end: the real `make dev` (its install step not remade), the UI answering first."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STOP_WITHIN_S = 10.0
START_WITHIN_S = 180.0  # two shared cores: the first start seeds history and loads the definitions


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_processes(session: int) -> list[str]:
    """Live (not zombie) processes of the session, as `pid state command`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        state, _ppid, _group, sid = stat.rsplit(")", 1)[1].split()[:4]
        if int(sid) == session and state != "Z":
            found.append(f"{entry.name} {state} {command[:120]}")
    return found


def ignore_interrupts() -> None:
    """What a non-interactive shell does to `make dev &`: SIGINT and SIGQUIT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


def keep_defaults() -> None:
    """A terminal's foreground job: every signal at its default."""


@pytest.mark.e2e
@pytest.mark.timeout(START_WITHIN_S + STOP_WITHIN_S + 60)
@pytest.mark.skipif(not Path("/proc").is_dir() or shutil.which("make") is None, reason="needs make, /proc")
@pytest.mark.parametrize(
    ("signum", "started_as"),
    [(signal.SIGTERM, ignore_interrupts), (signal.SIGINT, keep_defaults)],
    ids=["SIGTERM, started in the background by a script", "SIGINT, started in a terminal"],
)
def test_make_dev_stops_with_every_process_it_started(
    tmp_path: Path, signum: signal.Signals, started_as: Callable[[], None]
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "DW_PROFILE", "MAKEFLAGS")}
    log = (tmp_path / "dev.log").open("wb")
    # `-o .venv/.installed`: never reinstall the virtualenv from a test, however new pyproject.toml is.
    make = subprocess.Popen(
        ["make", "-o", ".venv/.installed", "dev", f"PORT={port}", f"DW_HOME={tmp_path / 'dw'}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own session and process group, as a shell's job gets
        preexec_fn=started_as,
    )
    session = make.pid
    try:
        deadline = time.monotonic() + START_WITHIN_S
        while True:
            assert make.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the UI did not answer"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                time.sleep(1)
        assert len(session_processes(session)) >= 4  # make, dg dev, webserver, daemon (+ code servers)

        os.killpg(make.pid, signum)
        stop_by = time.monotonic() + STOP_WITHIN_S
        while time.monotonic() < stop_by and (make.poll() is None or session_processes(session)):
            time.sleep(0.2)
        left = session_processes(session)
        assert not left, f"{len(left)} processes left {STOP_WITHIN_S:.0f} s after {signum.name}: {left}"
    finally:
        for line in session_processes(session):  # only what this test started
            os.kill(int(line.split()[0]), signal.SIGKILL)
        make.wait(timeout=30)
        log.close()


@pytest.mark.e2e
@pytest.mark.timeout(60)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_the_supervisor_kills_what_does_not_stop_on_sigint(tmp_path: Path) -> None:
    """A command that ignores SIGINT, with a child of its own: both are gone within the bound anyway."""
    stubborn = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(tmp_path / 'started')!r}, 'w').close(); time.sleep(120)"
    )
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "dw_platform.runtime.supervise", sys.executable, "-c", stubborn],
        cwd=ROOT,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    session = supervisor.pid
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "started").exists():
            assert time.monotonic() < deadline and supervisor.poll() is None
            time.sleep(0.1)
        assert len(session_processes(session)) == 3
        os.killpg(supervisor.pid, signal.SIGTERM)
        assert supervisor.wait(timeout=STOP_WITHIN_S) == 0  # a requested stop is a clean exit
        assert "SIGTERM received" in supervisor.stderr.read().decode()
        assert session_processes(session) == []
    finally:
        for line in session_processes(session):
            os.kill(int(line.split()[0]), signal.SIGKILL)
        supervisor.wait(timeout=30)
