"""The lake's layout: every prefix the platform, Firehose and the IAM policies use, in one place.

    <table>/YYYY/MM/DD/HH/<object>                       raw hour folders, as Firehose writes them
    errors/<table>/format-conversion-failed/YYYY/MM/DD/HH/  records that failed conversion
    compacted/<table>/YYYY/MM/DD/HH/v00001-<token>/      compacted versions of an hour
    _firehose/<stream>/checkpoints.json                  the emulator's Firehose checkpoints
    _replay/<table>/<replay id>/                         dw replay's ledger (intent, commit, done)

Compacted versions sit outside the table's raw prefix so that a raw hour folder (Firehose's) and a
compacted version never overlap; the catalog says which one an hour is read from.
"""

import re
import uuid

# Firehose's `!{firehose:error-output-type}` for records that failed format conversion.
ERROR_OUTPUT_TYPE = "format-conversion-failed"
ERRORS_ROOT = "errors"
COMPACTED_ROOT = "compacted"
MANIFEST_NAME = "_manifest.json"
FIREHOSE_CHECKPOINTS = "_firehose/{stream}/checkpoints.json"
REPLAY_LEDGER_ROOT = "_replay"
# Firehose's own expression for the arrival hour, spelled as the hour folders are.
FIREHOSE_HOUR_EXPRESSION = "!{timestamp:yyyy/MM/dd/HH}/"
_VERSION = re.compile(r"/v(\d{5})-[0-9a-f]{12}/$")


def table_prefix(table: str) -> str:
    """A table's own data: its raw hour folders (streaming) or its objects (other tables)."""
    return f"{table}/"


def hour_folder(table: str, inserted_at: str) -> str:
    """The folder of one arrival hour of a table: `<table>/YYYY/MM/DD/HH/`, as Firehose writes it."""
    return f"{table_prefix(table)}{inserted_at}/"


def error_prefix(table: str) -> str:
    """Where a table's failed records land (Firehose's error prefix with the error-output type
    resolved for conversion failures): the location of its `<table>_errors` table."""
    return f"{ERRORS_ROOT}/{table}/{ERROR_OUTPUT_TYPE}/"


def firehose_prefixes(table: str) -> dict[str, str]:
    """The delivery stream's `Prefix` and `ErrorOutputPrefix`: the folders above, as expressions
    (an error prefix with expressions next to a prefix without them is rejected by Firehose)."""
    return {
        "Prefix": f"{table_prefix(table)}{FIREHOSE_HOUR_EXPRESSION}",
        "ErrorOutputPrefix": (
            f"{ERRORS_ROOT}/{table}/!{{firehose:error-output-type}}/{FIREHOSE_HOUR_EXPRESSION}"
        ),
    }


def delivery_write_prefixes(table: str) -> list[str]:
    """What a table's delivery stream may write: its raw folders and its error folders."""
    return [table_prefix(table), f"{ERRORS_ROOT}/{table}/"]


def replay_ledger_prefix(table: str) -> str:
    """Where `dw replay` records a table's replays (hidden from readers)."""
    return f"{REPLAY_LEDGER_ROOT}/{table}/"


def hour_root(table: str, hour: str) -> str:
    """The folder holding every compacted version of one hour."""
    return f"{COMPACTED_ROOT}/{table}/{hour}/"


def new_version_prefix(table: str, hour: str, version: int) -> str:
    """A fresh prefix: the token keeps two concurrent compactions of one hour apart."""
    return f"{hour_root(table, hour)}v{version:05d}-{uuid.uuid4().hex[:12]}/"


def version_of(location: str) -> int | None:
    """The version number of a compacted location, None for a raw hour folder."""
    if not location.startswith(f"{COMPACTED_ROOT}/"):
        return None
    match = _VERSION.search(location)
    return int(match.group(1)) if match else None
