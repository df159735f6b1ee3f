"""Running `dw` as a user does, in its own process, for tests that crash it or break its state."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

DW = [sys.executable, "-m", "dw_platform.cli.main"]
# Root ignores permission bits; without these capabilities it honours them like any user.
UNPRIVILEGED = (
    ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
)


def warehouse_lake(env: dict[str, str], warehouse: str = "analytics_dw") -> Path:
    """The directory of a warehouse's lake in the local home `env` names (keys below it)."""
    from dw_platform.lake.layout import lake_root
    from dw_platform.runtime.settings import Settings

    return Settings.from_env({"DW_HOME": env["DW_HOME"]}).lake_dir / lake_root(warehouse)


def warehouse_catalog(env: dict[str, str], warehouse: str = "analytics_dw") -> Path:
    """A warehouse's local catalog file in the home `env` names."""
    from dw_platform.runtime.settings import Settings

    return Settings.from_env({"DW_HOME": env["DW_HOME"]}).catalog_path(warehouse)


def dw_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DW_HOME": str(tmp_path / "dw"), "DAGSTER_HOME": str(tmp_path / "dagster")}
    env.pop("DW_PROFILE", None)
    return {**env, **extra}


def dw(
    env: dict[str, str],
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    timeout: float = 300,
    stdin: int | None = None,
    unprivileged: bool = False,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    """`dw ARGS`; `unprivileged`: as a process that file permissions apply to, even under root;
    `cwd`: where it runs (`python -m` imports the package found there before PYTHONPATH's)."""
    result = subprocess.run(
        [*(UNPRIVILEGED if unprivileged else []), *DW, *args],
        env=env,
        cwd=cwd,
        input=input,
        stdin=stdin,
        capture_output=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"dw {' '.join(args)} failed:\n{result.stdout.decode()}\n{result.stderr.decode()}"
        )
    return result


def start_dw(env: dict[str, str], *args: str, prelude: str = "") -> subprocess.Popen:
    """`dw ARGS` in a child process, after running `prelude` in it (a crash point: code that stops the
    process at a chosen moment so the test can kill -9 it there)."""
    code = f"import sys\n{prelude}\nfrom dw_platform.cli.main import main\nsys.exit(main({list(args)!r}))\n"
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def one_line_error(result: subprocess.CompletedProcess, command: str) -> str:
    """The stderr of a refused command: exactly one line `dw COMMAND: ...`, no traceback, exit 2."""
    err = result.stderr.decode()
    assert result.returncode == 2, (result.returncode, result.stdout.decode(), err)
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith(f"dw {command}: "), err
    return err


def dw_on_terminal(
    env: dict[str, str], *args: str, answer: bytes = b"", timeout: float = 300
) -> tuple[int, str]:
    """`dw ARGS` with a terminal for its standard input, output and error (a pseudo-terminal), as a
    user at a shell runs it; `answer` is typed in. Returns the exit status and everything shown."""
    controller, terminal = pty.openpty()
    # A terminal of 100 x 30 characters (a fresh pseudo-terminal has no size, and draws no bar).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen([*DW, *args], env=env, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    if answer:
        os.write(controller, answer)
    shown = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end closed: dw exited
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    return process.wait(timeout=max(1, deadline - time.monotonic())), shown.decode(errors="replace")
