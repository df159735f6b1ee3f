"""How `dw` fails: a `DwError` (bad input, an unfit state) is refused in one line in the platform's
words, exit 2; anything else is a bug, shown as one: exit 1, one line naming the file its traceback
was written to (a bare KeyError or ValueError deep in the code no longer passes for bad input)."""

import re
import tempfile
from pathlib import Path

import pytest

from dw_platform.cli.bug_report import report_bug
from tests.dw_process import dw, dw_env, one_line_error, start_dw, warehouse_lake

# A bug in the child: its sample events raise a KeyError a user could not have caused.
BROKEN_SAMPLE_EVENTS = """
import dw_platform.delivery.events as events

def broken_sample_events(*args, **kwargs):
    raise KeyError("boom")

events.sample_events = broken_sample_events
"""
BUG_LINE = re.compile(r"dw send: internal error: KeyError: 'boom'; traceback in (\S+)\n")


@pytest.mark.e2e
def test_bad_input_is_refused_in_one_line_in_the_platform_words(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    span = ("--from", "2026-03-01T10", "--to", "2026-03-01T10")
    cases = {  # raised as bare ValueError / KeyError before
        "malformed_ratio must be within 0-1, got 2.0": (env, "send", "clicks", "--malformed-ratio", "2"),
        "warehouse 'analytics_dw' has no table 'nosuch'; tables: ['impressions',": (
            env,
            "replay",
            "nosuch",
            *span,
        ),
        "DW_AWS_DEADLINE_S must be a number of seconds, got 'soon'": (
            {**env, "DW_AWS_DEADLINE_S": "soon"},
            "provision",
            "plan",
        ),
    }
    for expected, (environment, command, *args) in cases.items():
        line = one_line_error(dw(environment, command, *args, check=False), command)
        assert expected in line and "internal error" not in line, line
    assert not (tmp_path / "dw" / "logs").exists(), "no traceback for bad input"


@pytest.mark.e2e
def test_a_bug_exits_1_in_one_line_naming_its_traceback_file(tmp_path: Path) -> None:
    """A KeyError from inside `dw send`, put there by the test in the child process alone."""
    env = dw_env(tmp_path)
    broken = start_dw(env, "send", "clicks", "--count", "5", prelude=BROKEN_SAMPLE_EVENTS)
    err = broken.communicate(timeout=300)[1].decode()
    assert broken.returncode == 1 and "Traceback" not in err, err
    found = BUG_LINE.fullmatch(err)
    assert found, err
    written = Path(found.group(1))
    assert written.parent == tmp_path / "dw" / "logs"
    traceback = written.read_text()
    assert traceback.startswith("Traceback (most recent call last):")
    assert "in broken_sample_events" in traceback and traceback.endswith("KeyError: 'boom'\n")
    assert not warehouse_lake(env).exists() or not any(warehouse_lake(env).rglob("*.parquet"))


def test_a_traceback_goes_to_the_temporary_folder_when_dw_home_cannot_hold_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.write_text("a file, not a folder")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    try:
        raise ValueError("not a user's mistake")
    except ValueError as error:
        line = report_bug(error, home)
    prefix = "internal error: ValueError: not a user's mistake; traceback in "
    assert line.startswith(prefix), line
    written = Path(line.removeprefix(prefix))
    assert written.parent == tmp_path / "tmp" and "ValueError: not a user's mistake" in written.read_text()
