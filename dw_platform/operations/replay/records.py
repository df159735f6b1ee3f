"""The records Firehose isolated: one JSON line per record in the error objects of an arrival hour,
with its reason and the record as sent (base64 `rawData`). A record is named by its error object and
line: error objects are never rewritten except by `dw replay`'s annotations, which keep every line
in its place."""

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Iterator, Sequence

from dw_platform.errors import DwError
from dw_platform.lake.layout import error_hour_folder, error_prefix
from dw_platform.lake.store import Lake


class DamagedErrorObject(DwError):
    """An error object whose line is not one of Firehose's error records."""


@dataclasses.dataclass(frozen=True)
class IsolatedRecord:
    record_id: str
    object_key: str
    line: int  # index among the object's lines
    hour: str  # the arrival hour whose error folder holds it
    data: bytes  # the record as sent
    error_code: str
    error_message: str


def record_id(object_key: str, line: int) -> str:
    """Deterministic: the same record always gets the same id (the ledger's and Kinesis's key)."""
    return hashlib.sha256(f"{object_key}#{line}".encode()).hexdigest()[:32]


def error_objects(lake: Lake, table: str, hours: Sequence[str]) -> list[str]:
    return [o.key for hour in hours for o in lake.list_objects(error_hour_folder(table, hour))]


def parse_lines(object_key: str, payload: bytes) -> Iterator[tuple[int, dict]]:
    """(line index, error record) for each non-blank line."""
    for index, line in enumerate(payload.split(b"\n")):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise DamagedErrorObject(
                f"error object {object_key} line {index + 1} is not JSON; move the object aside to replay "
                "the others"
            ) from None
        if not isinstance(record, dict) or "rawData" not in record:
            raise DamagedErrorObject(f"error object {object_key} line {index + 1} has no rawData")
        yield index, record


def decode_raw(object_key: str, index: int, record: dict) -> bytes:
    try:
        return base64.b64decode(record["rawData"], validate=True)
    except (binascii.Error, TypeError):
        raise DamagedErrorObject(
            f"error object {object_key} line {index + 1}: rawData is not base64"
        ) from None


def isolated_records(lake: Lake, table: str, hours: Sequence[str]) -> list[IsolatedRecord]:
    """Every isolated record of `table` in the given arrival hours, in object and line order."""
    found: list[IsolatedRecord] = []
    prefix = error_prefix(table)
    for key in error_objects(lake, table, hours):
        hour = key[len(prefix) :].rsplit("/", 1)[0]
        for index, record in parse_lines(key, lake.read_bytes(key)):
            found.append(
                IsolatedRecord(
                    record_id(key, index),
                    key,
                    index,
                    hour,
                    decode_raw(key, index, record),
                    str(record.get("errorCode", "")),
                    str(record.get("errorMessage", "")),
                )
            )
    return found
