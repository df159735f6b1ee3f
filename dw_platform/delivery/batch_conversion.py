"""Converting a whole flush at once: pyarrow's JSON reader over the records that can only mean one
thing to it, the record-by-record converter (Firehose's rules) for everything else.

The fast path is taken only where both give the same rows: tables whose columns are all strings,
records that are one flat JSON object on one line (no nesting, no control characters, valid UTF-8,
within the size limit, no `\\u` escape, which could spell a key), and flushes where no key differs
from a column name only by case. A whole flush is screened with buffer-wide operations first.
pyarrow refuses a number, boolean, object or array where a string is declared, NaN, duplicate keys
and broken JSON; a group it refuses, or that yields another number of rows than records
(concatenated documents), is halved until the records at fault are found and converted one by one.
Rows keep the order of their records.
"""

import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson

from dw_platform.delivery.conversion import MAX_RECORD_BYTES, RecordConverter, RecordRejected

Failure = tuple[int, RecordRejected]  # (index of the record in the batch, why it was rejected)


# Bytes that send a record (or, checked on a whole flush, the flush) to the careful path: control
# characters (Python's JSON rejects them inside strings), `[` and a second `{` (nesting: Python's
# JSON has a depth limit, and nested values never fit a string column anyway) and `\\u` escapes.
_CONTROL_BYTES = bytes([*range(0x00, 0x0A), *range(0x0B, 0x20)])


def _plain_object(record: bytes) -> bool:
    """One flat JSON object on one line, valid UTF-8, within the size limit."""
    if not (
        record[:1] == b"{"
        and record[-1:] == b"}"
        and len(record) <= MAX_RECORD_BYTES
        and record.count(b"{") == 1
        and record.count(b"}") == 1
        and b"[" not in record
        and b"\\u" not in record
        and len(record.translate(None, _CONTROL_BYTES)) == len(record)
    ):
        return False
    if record.isascii():
        return True
    try:
        record.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Everything but the bytes `_all_plain` looks at, for `bytes.translate(None, delete=...)`.
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b"{}[\n" and not (b < 0x20 and b != 0x0A))


def _all_plain(records: Sequence[bytes], joined: bytes) -> bool:
    """`_plain_object` for every record at once, with whole-buffer operations: keeping only braces,
    brackets, line breaks and control characters must leave exactly `{}` per line. A record with
    anything before its `{` or after its `}` is refused by pyarrow, and then by the careful path."""
    structure = joined.translate(None, _NOT_STRUCTURAL)
    if structure != b"{}\n" * (len(records) - 1) + b"{}" or b"\\u" in joined:
        return False
    if max(map(len, records)) > MAX_RECORD_BYTES:
        return False
    try:
        joined.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class BatchConverter:
    def __init__(self, converter: RecordConverter, schema: pa.Schema) -> None:
        self.converter = converter
        self.schema = schema
        self.fast = all(pa.types.is_string(field.type) for field in schema)
        self._options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        self._keys = [f'"{name}"'.encode() for name in schema.names]

    def convert(self, records: Sequence[bytes]) -> tuple[pa.Table, list[Failure]]:
        pieces: list[pa.Table | list[dict[str, Any]]] = []  # fast tables, runs of slow rows, in order
        failures: list[Failure] = []
        joined = b"\n".join(records)
        fast = self.fast and bool(records) and self._no_key_case_variants(joined)
        if fast and _all_plain(records, joined):
            self._fast(records, list(range(len(records))), pieces, failures, joined)
        else:
            run: list[int] = []
            for index, record in enumerate(records):
                if fast and _plain_object(record):
                    run.append(index)
                    continue
                self._fast(records, run, pieces, failures)
                run = []
                self._slow(records, index, pieces, failures)
            self._fast(records, run, pieces, failures)
        tables = [piece if isinstance(piece, pa.Table) else self._table(piece) for piece in pieces]
        return (pa.concat_tables(tables) if tables else self.schema.empty_table()), failures

    def _no_key_case_variants(self, joined: bytes) -> bool:
        """Firehose matches keys case-insensitively, pyarrow exactly: `"ID"` must not reach pyarrow."""
        lowered = joined.lower()
        return all(joined.count(key) == lowered.count(key) for key in self._keys)

    def _fast(
        self,
        records: Sequence[bytes],
        indices: list[int],
        pieces: list[pa.Table | list[dict[str, Any]]],
        failures: list[Failure],
        joined: bytes | None = None,
    ) -> None:
        if not indices:
            return
        table = self._read(joined if joined is not None else b"\n".join(records[i] for i in indices))
        if table is not None and table.num_rows == len(indices):
            pieces.append(table)
        elif len(indices) == 1:
            self._slow(records, indices[0], pieces, failures)
        else:
            middle = len(indices) // 2
            self._fast(records, indices[:middle], pieces, failures)
            self._fast(records, indices[middle:], pieces, failures)

    def _read(self, data: bytes) -> pa.Table | None:
        try:
            return pajson.read_json(io.BytesIO(data), parse_options=self._options)
        except pa.ArrowInvalid:
            return None

    def _slow(
        self,
        records: Sequence[bytes],
        index: int,
        pieces: list[pa.Table | list[dict[str, Any]]],
        failures: list[Failure],
    ) -> None:
        try:
            rows = self.converter.convert(records[index])
        except RecordRejected as rejected:
            failures.append((index, rejected))
            return
        if pieces and isinstance(pieces[-1], list):
            pieces[-1].extend(rows)
        else:
            pieces.append(list(rows))

    def _table(self, rows: list[dict[str, Any]]) -> pa.Table:
        columns = {name: [row[name] for row in rows] for name in self.schema.names}
        return pa.Table.from_pydict(columns, schema=self.schema)
