"""Firehose's JSON -> Parquet record conversion against a table's columns (OpenX JSON SerDe rules).

- Fields not in the schema are dropped, missing fields are null, names match case-insensitively.
- Several concatenated JSON objects in one record become several rows; a JSON array, a scalar,
  unparseable JSON, or a value that cannot be converted to its column's type rejects the whole record.
- A string holding a lone UTF-16 surrogate escape (`"\\ud800"`, what JavaScript's JSON.stringify
  writes for a string cut inside an emoji) is stored with `?` in place of each lone surrogate, as
  Firehose stores it: the OpenX SerDe's tokenizer appends each `\\uXXXX` escape as one Java `char`,
  and the Parquet writer encodes the Java String with `String.getBytes(UTF_8)`, which replaces
  each unpaired surrogate with the encoder's replacement byte `?` (Python's `errors="replace"`).
"""

import dataclasses
import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from dw_platform.declaration.warehouse import Column

# Firehose takes at most 1,000 KiB per record (before base64); `dw send` refuses larger ones, and
# the delivery stream isolates any that reach it (Kinesis refuses records over 1 MiB).
MAX_RECORD_BYTES = 1000 * 1024

MALFORMED = "DataFormatConversion.MalformedData"
TYPE_MISMATCH = "DataFormatConversion.TypeMismatch"
TOO_LARGE = "DataFormatConversion.RecordTooLarge"

_INTEGER_RANGES = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
_INTEGER_TEXT = re.compile(r"^[+-]?\d{1,20}$")
# JSON's whitespace (RFC 8259 section 2), as inside a document: Python's `\s` would also skip form
# feeds, NEL and no-break spaces, which no JSON parser takes between documents.
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class RecordRejected(Exception):
    """A record Firehose would write to the error prefix, with its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Unconvertible(Exception):
    pass


def _json_type(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def storable_text(text: str) -> str:
    """`text` as a Parquet UTF-8 column can hold it: each lone surrogate becomes `?` (see above)."""
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def _to_string(value: object) -> str:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise _Unconvertible


def _integer_converter(type_name: str) -> Callable[[object], int]:
    low, high = _INTEGER_RANGES[type_name]

    def convert(value: object) -> int:
        if isinstance(value, bool):
            raise _Unconvertible
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
            number = int(value.strip())
        else:
            raise _Unconvertible
        if not low <= number <= high:
            raise _Unconvertible
        return number

    return convert


def _to_float(value: object) -> float:
    if isinstance(value, bool):
        raise _Unconvertible
    try:
        if isinstance(value, int | float):
            number = float(value)  # an integer beyond a double's range overflows
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            raise _Unconvertible
    except (ValueError, OverflowError):
        raise _Unconvertible from None
    if not math.isfinite(number):
        raise _Unconvertible
    return number


def _to_boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _Unconvertible


def _to_timestamp(value: object) -> datetime:
    # Out of datetime's range (an epoch far away, a zone pushing year 9999 over) is not a timestamp.
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)  # epoch milliseconds
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    except (ValueError, OverflowError, OSError):
        raise _Unconvertible from None
    raise _Unconvertible


def _to_date(value: object) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise _Unconvertible from None
    raise _Unconvertible


_CONVERTERS: dict[str, Callable[[object], Any]] = {
    "string": _to_string,
    "double": _to_float,
    "float": _to_float,
    "boolean": _to_boolean,
    "timestamp": _to_timestamp,
    "date": _to_date,
    **{name: _integer_converter(name) for name in _INTEGER_RANGES},
}


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


@dataclasses.dataclass(frozen=True)
class RecordConverter:
    """Converts raw Kinesis records into rows of one table's columns."""

    columns: Sequence[Column]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_lower", {c.name.lower(): c for c in self.columns})

    def convert(self, data: bytes) -> list[dict[str, Any]]:
        """Rows of one record (several for concatenated documents); raises RecordRejected."""
        if len(data) > MAX_RECORD_BYTES:
            raise RecordRejected(TOO_LARGE, f"record of {len(data)} bytes exceeds {MAX_RECORD_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RecordRejected(
                MALFORMED, f"record is not valid UTF-8: {error.reason} at byte {error.start}"
            ) from None
        return [self._row(document) for document in self._documents(text)]

    def _documents(self, text: str) -> list[object]:
        decoder = json.JSONDecoder(parse_constant=_reject_constant)
        documents: list[object] = []
        position = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
        if position == len(text):
            raise RecordRejected(MALFORMED, "empty record")
        while position < len(text):
            try:
                document, position = decoder.raw_decode(text, position)
            except json.JSONDecodeError as error:
                raise RecordRejected(
                    MALFORMED, f"malformed JSON: {error.msg} at character {error.pos}"
                ) from None
            except (ValueError, RecursionError) as error:
                reason = "nesting too deep" if isinstance(error, RecursionError) else str(error)
                raise RecordRejected(MALFORMED, f"malformed JSON: {reason}") from None
            if not isinstance(document, dict):
                raise RecordRejected(
                    MALFORMED,
                    f"a JSON {_json_type(document)} is not accepted: each document must be a JSON object",
                )
            documents.append(document)
            position = _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]
        return documents

    def _row(self, document: dict[str, object]) -> dict[str, Any]:
        row: dict[str, Any] = {c.name: None for c in self.columns}
        by_lower: dict[str, Column] = self._by_lower  # type: ignore[attr-defined]
        for field, value in document.items():
            column = by_lower.get(field.lower())
            if column is None or value is None:
                continue
            try:
                row[column.name] = _CONVERTERS[column.type](value)
            except _Unconvertible:
                preview = json.dumps(value)[:80]
                raise RecordRejected(
                    TYPE_MISMATCH,
                    f"column {column.name!r}: cannot convert {_json_type(value)} {preview} to {column.type}",
                ) from None
        return row
