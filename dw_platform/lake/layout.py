"""The lake's layout: every prefix and key shape the platform, Firehose and the IAM policies use,
in one place.

Each deployment of a warehouse (its catalog database: the warehouse's name, or its stack's on AWS)
has the lake to itself under its root, `<database>/` in the directory or bucket, so two warehouses
on one DW_HOME or one bucket never see, compact or delete each other's objects. The platform's keys
are relative to that root (the `Lake` a runtime holds starts there); Firehose's prefixes, Glue's
locations and the IAM policies, which name whole keys, add it with `lake_root`.

    <database>/                                       a deployment's root; below it:
      <table>/YYYY/MM/DD/HH/<object>.parquet          raw hour folders, as Firehose writes them
                                                      (<object>: <stream>-1-<oldest arrival>-<uuid>)
      <table>/YYYY/MM/DD/HH/results.json              a batch table's hours (aggregates)
      errors/<table>/format-conversion-failed/YYYY/MM/DD/HH/<object>
                                                      records that failed conversion (JSON lines)
      compacted/<table>/YYYY/MM/DD/HH/v00001-<token>/ compacted versions of an hour:
                                                      part-00000.parquet, ..., _manifest.json
      _delivery/<table>/YYYY/MM/DD/HH/<object>.json   the local delivery stream's ledger
      _firehose/<stream>/checkpoints.json             the emulator's Firehose checkpoints
      _replay/<table>/<replay id>/<name>              dw replay's ledger (intent, commit, done)
      _replay/<table>/_lease, _lease.json             dw replay's lease (local lock, bucket object)

Compacted versions sit outside the table's raw prefix so that a raw hour folder (Firehose's) and a
compacted version never overlap; the catalog says which one an hour is read from. The folders the
layout names for itself are refused as table names (`RESERVED_TABLE_NAMES`).
"""

import re
import uuid
from datetime import datetime

# Firehose's `!{firehose:error-output-type}` for records that failed format conversion.
ERROR_OUTPUT_TYPE = "format-conversion-failed"
ERRORS_ROOT = "errors"
COMPACTED_ROOT = "compacted"
MANIFEST_NAME = "_manifest.json"
RESULT_OBJECT = "results.json"
FIREHOSE_ROOT = "_firehose"
FIREHOSE_CHECKPOINTS = FIREHOSE_ROOT + "/{stream}/checkpoints.json"
REPLAY_LEDGER_ROOT = "_replay"
DELIVERY_LEDGER_ROOT = "_delivery"
# Folders of a deployment's root that are the platform's own: a table of that name would share them.
RESERVED_TABLE_NAMES = frozenset(
    {ERRORS_ROOT, COMPACTED_ROOT, REPLAY_LEDGER_ROOT, DELIVERY_LEDGER_ROOT, FIREHOSE_ROOT}
)
# The delivery stream's version in Firehose's object names (the local stream's is always 1).
FIREHOSE_STREAM_VERSION = 1
# Firehose's own expression for the arrival hour, spelled as the hour folders are.
FIREHOSE_HOUR_EXPRESSION = "!{timestamp:yyyy/MM/dd/HH}/"
_VERSION = re.compile(r"/v(\d{5})-[0-9a-f]{12}/$")


def lake_root(database: str) -> str:
    """A deployment's root in the lake directory or the data bucket: every key of its lake is below."""
    return f"{database}/"


def table_prefix(table: str) -> str:
    """A table's own data: its raw hour folders (streaming) or its objects (other tables)."""
    return f"{table}/"


def hour_folder_at(location: str, hour: str) -> str:
    """The folder of one hour below a table's location (raw, results or errors); with an expression
    for `hour`, the template of every hour (partition projection's `storage.location.template`)."""
    return f"{location}{hour}/"


def hour_folder(table: str, inserted_at: str) -> str:
    """The folder of one arrival hour of a table: `<table>/YYYY/MM/DD/HH/`, as Firehose writes it."""
    return hour_folder_at(table_prefix(table), inserted_at)


def result_object(table: str, hour: str) -> str:
    """A batch table's one object of an hour: the job's rows as JSON lines."""
    return f"{hour_folder(table, hour)}{RESULT_OBJECT}"


def firehose_object_name(stream: str, oldest: datetime, token: uuid.UUID | None = None) -> str:
    """Firehose's name for an object it writes: the stream, its version, the oldest record's arrival
    and a UUID (`token`, for an object written again under the same name)."""
    arrival = oldest.strftime("%Y-%m-%d-%H-%M-%S")
    return f"{stream}-{FIREHOSE_STREAM_VERSION}-{arrival}-{token or uuid.uuid4()}"


def data_object(table: str, hour: str, name: str) -> str:
    """A Parquet object Firehose (or the local delivery stream) writes into an hour folder."""
    return f"{hour_folder(table, hour)}{name}.parquet"


def error_prefix(table: str) -> str:
    """Where a table's failed records land (Firehose's error prefix with the error-output type
    resolved for conversion failures): the location of its `<table>_errors` table."""
    return f"{ERRORS_ROOT}/{table}/{ERROR_OUTPUT_TYPE}/"


def error_hour_folder(table: str, hour: str) -> str:
    """The folder of one arrival hour's failed records of a table."""
    return hour_folder_at(error_prefix(table), hour)


def error_object(table: str, hour: str, name: str) -> str:
    """An object of failed records (JSON lines, no extension, as Firehose writes it)."""
    return f"{error_hour_folder(table, hour)}{name}"


def firehose_prefixes(database: str, table: str) -> dict[str, str]:
    """The delivery stream's `Prefix` and `ErrorOutputPrefix` in the bucket: the folders above under
    the deployment's root, as expressions (an error prefix with expressions next to a prefix without
    them is rejected by Firehose)."""
    root = lake_root(database)
    return {
        "Prefix": f"{root}{table_prefix(table)}{FIREHOSE_HOUR_EXPRESSION}",
        "ErrorOutputPrefix": (
            f"{root}{ERRORS_ROOT}/{table}/!{{firehose:error-output-type}}/{FIREHOSE_HOUR_EXPRESSION}"
        ),
    }


def delivery_write_prefixes(database: str, table: str) -> list[str]:
    """What a table's delivery stream may write in the bucket: its raw folders and its error folders."""
    root = lake_root(database)
    return [f"{root}{table_prefix(table)}", f"{root}{ERRORS_ROOT}/{table}/"]


def delivery_ledger_prefix(table: str, hour: str) -> str:
    """Where the local delivery stream notes, per object, what it was sent (hidden from readers).
    Firehose keeps no such ledger: on AWS the counts come from its CloudWatch metrics instead."""
    return f"{DELIVERY_LEDGER_ROOT}/{table}/{hour}/"


def delivery_ledger_entry(table: str, hour: str, name: str) -> str:
    """The ledger entry of the delivered object `name` (what it was sent, delivered and isolated)."""
    return f"{delivery_ledger_prefix(table, hour)}{name}.json"


def replay_ledger_prefix(table: str) -> str:
    """Where `dw replay` records a table's replays (hidden from readers)."""
    return f"{REPLAY_LEDGER_ROOT}/{table}/"


def replay_folder(table: str, replay_id: str) -> str:
    """The ledger of one replay."""
    return f"{replay_ledger_prefix(table)}{replay_id}/"


def replay_ledger_object(table: str, replay_id: str, name: str) -> str:
    """One object of a replay's ledger (its intent, commit or done marker)."""
    return f"{replay_folder(table, replay_id)}{name}"


def replay_lease_lock(table: str) -> str:
    """The local lake's lock file of a table's replay lease (an exclusive `flock`)."""
    return f"{replay_ledger_prefix(table)}_lease"


def replay_lease_object(table: str) -> str:
    """The object of a table's replay lease in a bucket (created only if absent)."""
    return f"{replay_lease_lock(table)}.json"


def compacted_prefix(table: str) -> str:
    """The folder holding every compacted version of every hour of a table."""
    return f"{COMPACTED_ROOT}/{table}/"


def hour_root(table: str, hour: str) -> str:
    """The folder holding every compacted version of one hour."""
    return hour_folder_at(compacted_prefix(table), hour)


def new_version_prefix(table: str, hour: str, version: int) -> str:
    """A fresh prefix: the token keeps two concurrent compactions of one hour apart."""
    return f"{hour_root(table, hour)}v{version:05d}-{uuid.uuid4().hex[:12]}/"


def compacted_part(version_prefix: str, number: int) -> str:
    """One Parquet file of a compacted version."""
    return f"{version_prefix}part-{number:05d}.parquet"


def manifest_object(version_prefix: str) -> str:
    """The manifest describing a compacted version (its files, rows and the raw objects it holds)."""
    return f"{version_prefix}{MANIFEST_NAME}"


def version_of(location: str) -> int | None:
    """The version number of a compacted location, None for a raw hour folder."""
    if not location.startswith(f"{COMPACTED_ROOT}/"):
        return None
    match = _VERSION.search(location)
    return int(match.group(1)) if match else None
