"""Converting a whole flush at once: pyarrow's JSON reader over the records that can only mean one
thing to it, the record-by-record converter (Firehose's rules) for everything else.

The fast path is taken only where both give the same rows: tables whose columns are all strings,
records that are one flat JSON object on one line (no nesting, no control characters, valid UTF-8,
within the size limit, no `\\u` escape, which could spell a key), and keys that are exactly column
names, or at least none that differs from one only by case. The flush is screened with buffer-wide
byte operations, which find the records that are not plain; all the plain ones are parsed in one
call, first in pyarrow's strict mode (any key that is not a column name refuses the call: in the
usual flush that proves the keys exact), else in its lenient mode after a case check of the keys.
pyarrow refuses a number, boolean, object or array where a string is declared, NaN, duplicate keys
and broken JSON; a group it refuses is halved until the records at fault are found and converted
one by one. Rows keep the order of their records.
"""

import bisect
import io
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.json as pajson

from dw_platform.delivery.conversion import MAX_RECORD_BYTES, TYPE_MISMATCH, RecordConverter, RecordRejected

Failure = tuple[int, RecordRejected]  # (index of the record in the batch, why it was rejected)
# What Arrow raises for a Python value its column cannot hold.
_UNSTORABLE = (pa.ArrowException, ValueError, TypeError, OverflowError)


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


# Everything but the bytes `_plain_flags` looks at, for `bytes.translate(None, delete=...)`.
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b"{}[\n" and not (b < 0x20 and b != 0x0A))


def _plain_flags(records: Sequence[bytes], joined: bytes) -> list[bool]:
    """`_plain_object` of every record, with whole-flush operations where the flush allows: keeping
    only braces, brackets, line breaks and control characters must leave exactly `{}` per line. A
    record with anything before its `{` or after its `}` is refused by pyarrow, and then by the
    careful path."""
    structure = joined.translate(None, _NOT_STRUCTURAL)
    if structure.count(b"\n") != len(records) - 1:  # a record spans lines: no line is a record
        return [_plain_object(record) for record in records]
    if structure == b"{}\n" * (len(records) - 1) + b"{}":
        plain = [True] * len(records)
    else:
        plain = [shape == b"{}" for shape in structure.split(b"\n")]
    escape = joined.find(b"\\u") if b"\\" in joined else -1  # one byte is found much faster than two
    if escape != -1:
        ends = list(itertools.accumulate(len(record) + 1 for record in records))  # offsets past each "\n"
        while escape != -1:
            index = bisect.bisect_right(ends, escape)
            plain[index] = False
            escape = joined.find(b"\\u", ends[index])
    # Record by record only where needed: a record over the size limit, or bytes beyond ASCII.
    if (len(joined) > MAX_RECORD_BYTES and max(map(len, records)) > MAX_RECORD_BYTES) or not joined.isascii():
        plain = [
            flag and ((record.isascii() and len(record) <= MAX_RECORD_BYTES) or _plain_object(record))
            for flag, record in zip(plain, records, strict=True)
        ]
    return plain


class BatchConverter:
    def __init__(self, converter: RecordConverter, schema: pa.Schema) -> None:
        self.converter = converter
        self.schema = schema
        self.fast = all(pa.types.is_string(field.type) for field in schema)
        self._options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        self._strict_options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
        self._keys = [f'"{name}"'.encode() for name in schema.names]

    def convert(self, records: Sequence[bytes]) -> tuple[pa.Table, list[Failure]]:
        if not records:
            return self.schema.empty_table(), []
        joined = b"\n".join(records)
        plain = _plain_flags(records, joined) if self.fast else [False] * len(records)
        all_plain = all(plain)
        fast = list(range(len(records))) if all_plain else [index for index, flag in enumerate(plain) if flag]
        data = joined if len(fast) == len(records) else b"\n".join(records[i] for i in fast)
        # Usually every key of every record is exactly a column name: pyarrow's strict mode proves it
        # while parsing, and the key-case screening is not needed.
        parsed = self._read(data, self._strict_options) if fast else None
        groups: list[tuple[list[int], pa.Table]] = []
        slow = [] if all_plain else [index for index, flag in enumerate(plain) if not flag]
        if parsed is not None and parsed.num_rows == len(fast):
            groups = [(fast, parsed)]
        elif fast and self._no_key_case_variants(data):
            slow += self._parse(records, fast, groups, data)
        else:
            slow = list(range(len(records)))
        failures: list[Failure] = []
        slow_rows: list[dict[str, Any]] = []
        slow_positions: list[int] = []  # the record index of each slow row
        for index in sorted(slow):
            try:
                rows = self.converter.convert(records[index])
            except RecordRejected as rejected:
                failures.append((index, rejected))
                continue
            slow_rows += rows
            slow_positions += [index] * len(rows)
        try:
            slow_table = self._slow_table(slow_rows)
        except _UNSTORABLE:  # some record's value: find it, isolate it, keep every other one
            slow_rows, slow_positions = self._storable(slow_rows, slow_positions, failures)
            slow_table = self._slow_table(slow_rows)
        return self._in_record_order(groups, slow_table, slow_positions), failures

    def _slow_table(self, rows: list[dict[str, Any]]) -> pa.Table | None:
        if not rows:
            return None
        return pa.Table.from_pydict(
            {name: [row[name] for row in rows] for name in self.schema.names}, self.schema
        )

    def _storable(
        self,
        rows: list[dict[str, Any]],
        positions: list[int],
        failures: list[Failure],
    ) -> tuple[list[dict[str, Any]], list[int]]:
        """The rows of records whose every row Arrow accepts; the others join `failures`: a value the
        converter let through that Parquet cannot hold isolates its record, not the whole flush."""
        by_record: dict[int, list[dict[str, Any]]] = {}
        for row, index in zip(rows, positions, strict=True):
            by_record.setdefault(index, []).append(row)
        kept_rows: list[dict[str, Any]] = []
        kept_positions: list[int] = []
        for index, record_rows in by_record.items():
            try:
                self._slow_table(record_rows)
            except _UNSTORABLE as error:
                reason = " ".join(str(error).split())[:200]
                failures.append(
                    (index, RecordRejected(TYPE_MISMATCH, f"a value Parquet cannot hold: {reason}"))
                )
                continue
            kept_rows += record_rows
            kept_positions += [index] * len(record_rows)
        failures.sort(key=lambda failure: failure[0])
        return kept_rows, kept_positions

    def _parse(
        self,
        records: Sequence[bytes],
        indices: list[int],
        groups: list[tuple[list[int], pa.Table]],
        data: bytes | None = None,
    ) -> list[int]:
        """Adds to `groups` the records pyarrow parses one row each; a refused group is halved until
        the records at fault are alone. Returns those, for the careful path."""
        table = self._read(data if data is not None else b"\n".join(records[i] for i in indices))
        if table is not None and table.num_rows == len(indices):
            groups.append((indices, table))
            return []
        if len(indices) == 1:
            return indices
        middle = len(indices) // 2
        return self._parse(records, indices[:middle], groups) + self._parse(records, indices[middle:], groups)

    def _in_record_order(
        self,
        groups: list[tuple[list[int], pa.Table]],
        slow_table: pa.Table | None,
        slow_positions: list[int],
    ) -> pa.Table:
        tables = [table for _, table in groups]
        if slow_table is not None:
            tables.append(slow_table)
        if not tables:
            return self.schema.empty_table()
        if len(tables) == 1:
            return tables[0]
        # Groups are in record order among themselves; slow rows go back between them.
        positions = np.fromiter(
            itertools.chain.from_iterable([*(indices for indices, _ in groups), slow_positions]),
            dtype=np.int64,
        )
        combined = pa.concat_tables(tables)
        order = np.argsort(positions, kind="stable")
        if np.array_equal(order, np.arange(len(order))):
            return combined
        return combined.take(pa.array(order))

    def _no_key_case_variants(self, joined: bytes) -> bool:
        """Firehose matches keys case-insensitively, pyarrow exactly: `"ID"` must not reach pyarrow."""
        lowered = joined.lower()
        return all(joined.count(key) == lowered.count(key) for key in self._keys)

    def _read(self, data: bytes, options: pajson.ParseOptions | None = None) -> pa.Table | None:
        try:
            return pajson.read_json(io.BytesIO(data), parse_options=options or self._options)
        except pa.ArrowInvalid:
            return None
