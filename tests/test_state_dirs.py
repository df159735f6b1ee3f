"""Every command over a state directory it must not or cannot use: refused in one line, nothing lost,
and back to normal once the cause is gone."""

import hashlib
from pathlib import Path

from tests.dw_process import dw, dw_env, one_line_error


def _snapshot(directory: Path) -> dict[str, str]:
    """Every file under `directory` with a digest of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    env = dw_env(tmp_path)
    home = Path(env["DW_HOME"])
    dw(env, "send", "clicks", "--count", "30", "--arrival", "2026-03-01T10:05:00Z")
    (home / "notes.txt").write_text("not the demo's")
    before = _snapshot(home)
    for target in (home, home / "lake"):
        refused = dw(
            env, "demo", "--hours", "1", "--events-per-hour", "20", "--home", str(target), check=False
        )
        assert "refusing to delete it" in one_line_error(refused, "demo")
    assert _snapshot(home) == before

    # A missing directory, then the same one again (it is the demo's now), then an empty one.
    demo_home = tmp_path / "demo"
    for _ in range(2):
        out = dw(env, "demo", "--hours", "1", "--events-per-hour", "20", "--home", str(demo_home)).stdout
        assert b"backfilled 1 hours" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (
        b"backfilled 1 hours"
        in dw(env, "demo", "--hours", "1", "--events-per-hour", "20", "--home", str(empty)).stdout
    )
    assert _snapshot(home) == before
