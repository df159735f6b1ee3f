from datetime import datetime

import pytest

from dw_platform.declaration.warehouse import Column
from dw_platform.delivery.conversion import (
    MALFORMED,
    MAX_RECORD_BYTES,
    TOO_LARGE,
    TYPE_MISMATCH,
    RecordConverter,
    RecordRejected,
)

EVENTS = RecordConverter((Column("id"), Column("session_id"), Column("event_time")))
TYPED = RecordConverter(
    (Column("n", "int"), Column("x", "double"), Column("ok", "boolean"), Column("at", "timestamp"))
)


def rejected(converter: RecordConverter, data: bytes) -> RecordRejected:
    with pytest.raises(RecordRejected) as info:
        converter.convert(data)
    return info.value


def test_unknown_fields_dropped_missing_fields_null_names_case_insensitive() -> None:
    rows = EVENTS.convert(b'{"ID": "1", "extra": {"deep": [1]}, "event_time": "t"}')
    assert rows == [{"id": "1", "session_id": None, "event_time": "t"}]


def test_concatenated_documents_become_several_rows() -> None:
    rows = EVENTS.convert(b'{"id": "1"} {"id": "2"}\n{"id": "3"}')
    assert [r["id"] for r in rows] == ["1", "2", "3"]


def test_scalars_convert_to_string_columns() -> None:
    assert EVENTS.convert(b'{"id": 7, "session_id": true, "event_time": 1.5}') == [
        {"id": "7", "session_id": "true", "event_time": "1.5"}
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[{"id": "1"}]', "a JSON array is not accepted"),
        (b'"just a string"', "a JSON string is not accepted"),
        (b"42", "a JSON number is not accepted"),
        (b'{"id": "1"', "malformed JSON"),
        (b'{"id": NaN}', "NaN is not valid JSON"),
        (b"", "empty record"),
        (b"   \n ", "empty record"),
        (b'{"id": "1"} [1]', "a JSON array is not accepted"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON"),
    ],
)
def test_malformed_records_are_rejected_with_their_reason(data: bytes, message: str) -> None:
    error = rejected(EVENTS, data)
    assert error.code == MALFORMED
    assert message in error.message


def test_values_that_cannot_be_converted_are_rejected_naming_the_column() -> None:
    error = rejected(EVENTS, b'{"id": {"a": 1}}')
    assert error.code == TYPE_MISMATCH
    assert "column 'id': cannot convert object" in error.message
    assert rejected(TYPED, b'{"n": "twelve"}').code == TYPE_MISMATCH
    assert rejected(TYPED, b'{"n": 3000000000}').code == TYPE_MISMATCH  # int overflow
    assert rejected(TYPED, b'{"n": 1.5}').code == TYPE_MISMATCH
    assert rejected(TYPED, b'{"ok": "maybe"}').code == TYPE_MISMATCH
    assert rejected(TYPED, b'{"at": "not a time"}').code == TYPE_MISMATCH


def test_typed_columns_accept_what_the_serde_accepts() -> None:
    rows = TYPED.convert(b'{"n": "12", "x": "2.5", "ok": "TRUE", "at": "2026-01-01T10:00:00Z"}')
    assert rows == [{"n": 12, "x": 2.5, "ok": True, "at": datetime(2026, 1, 1, 10)}]
    assert TYPED.convert(b'{"n": null, "at": 0}') == [
        {"n": None, "x": None, "ok": None, "at": datetime(1970, 1, 1)}
    ]


def test_oversized_record_is_rejected() -> None:
    error = rejected(EVENTS, b'{"id": "' + b"x" * MAX_RECORD_BYTES + b'"}')
    assert error.code == TOO_LARGE
