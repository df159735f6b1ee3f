"""Runs `make dev`'s `dg dev` so that SIGTERM and SIGINT stop it, and every process it started,
within a bound: `python -m dw_platform.runtime.supervise COMMAND...`.

Why it is needed: `dagster dev` stops on SIGINT (KeyboardInterrupt) and points SIGTERM at its
SIGINT handler. Started with SIGINT ignored, as a non-interactive shell starts `make dev &` (CI
scripts), it points SIGTERM at "ignore" too, and the webserver, daemon and code servers inherit
that: after SIGTERM to the group they all kept running. And its graceful stop waits on the
webserver, the daemon, code servers and runs in turn, for longer than `docker stop` or systemd
wait under load.

So the command runs in a process group of its own, with SIGINT and SIGTERM at their defaults. On
SIGTERM or SIGINT the supervisor sends SIGINT to that group (what Ctrl-C in a terminal does: each
process stops as dg's own shutdown intends), waits up to GRACE_S, then kills what is left of the
group. When the command exits by itself, whatever it left in its group is killed too.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

GRACE_S = 6.0  # the graceful stop's share of the 10 s a stop may take
_POLL_S = 0.1


def _signal_group(group: int, signum: int) -> bool:
    """Send `signum` to the process group; False when no process is left in it."""
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        return False
    return True


def run(command: Sequence[str], grace_s: float = GRACE_S) -> int:
    requested: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        requested.append(signum)

    # Caught here (even if inherited as ignored), so the command starts with both at their defaults:
    # exec resets a caught signal, never an ignored one.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    child = subprocess.Popen(list(command), process_group=0)
    while child.poll() is None and not requested:
        time.sleep(_POLL_S)
    if requested:
        name = signal.Signals(requested[0]).name
        print(f"{name} received: stopping {command[0]} (at most {grace_s:.0f} s)", file=sys.stderr)
        _signal_group(child.pid, signal.SIGINT)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            child.poll()  # reaps the command itself once it exits
            if not _signal_group(child.pid, 0):
                break
            time.sleep(_POLL_S)
    _signal_group(child.pid, signal.SIGKILL)  # whatever is left of the group
    code = child.wait()
    return 0 if requested else code


def main(argv: Sequence[str]) -> int:
    if not argv:
        print("usage: python -m dw_platform.runtime.supervise COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
