"""What `dw` says about a bug (an exception that is not a `DwError`): one line, and the traceback in
a file, so that the terminal shows no stack trace and the report keeps it whole."""

import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

# Where a bug's traceback goes: below DW_HOME (the system's temporary folder if that cannot be written).
LOGS_DIR = "logs"


def report_bug(error: BaseException, home: Path) -> str:
    """The one line for a bug, after writing its traceback to a file under `home` (or the system's
    temporary folder): the line names the file; the traceback goes to stderr only if neither can be
    written."""
    kind = type(error).__qualname__
    if type(error).__module__ != "builtins":
        kind = f"{type(error).__module__}.{kind}"
    text = "".join(traceback.format_exception(error))
    name = f"dw-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.txt"
    for folder in (home / LOGS_DIR, Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        except OSError:
            continue
        return f"internal error: {kind}: {error}; traceback in {folder / name}"
    sys.stderr.write(text)
    return f"internal error: {kind}: {error}; the traceback above could not be written to a file"
