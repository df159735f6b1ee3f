"""The batch converter (pyarrow's reader where it cannot differ) gives exactly the rows and
rejections of the record-by-record converter, on records chosen to tempt it into differing."""

import pyarrow as pa
import pytest

from dw_platform.defs.analytics_dw.warehouse import EVENT_COLUMNS
from dw_platform.delivery.batch_conversion import BatchConverter
from dw_platform.delivery.conversion import RecordConverter, RecordRejected

SCHEMA = pa.schema([(c.name, pa.string()) for c in EVENT_COLUMNS])
PLAIN = [f'{{"id": "e{i}", "session_id": "s", "event_time": "t"}}'.encode() for i in range(50)]
TEMPTING = [
    b'{"ID": "upper-case key"}',  # Firehose matches keys case-insensitively, pyarrow does not
    b'{"\\u0069d": "escaped key"}',
    b' {"id": "leading space"}',
    b'{"id": "a"}{"id": "b"}',  # two documents in one record
    b'{"id": 42}',  # a number into a string column: converted, not rejected
    b'{"id": true, "session_id": null}',
    b'{"id": "x", "id": "y"}',  # a duplicate key: the last one wins
    b'{"id": "tab\tinside"}',  # a raw control character: rejected
    b'{"id": "nested", "extra": {"deep": [1, 2]}}',
    b'{"id": "caf\xc3\xa9"}',
    b'{"id": "caf\xe9"}',  # not UTF-8
    b"",
    b'{"id": NaN}',
    b'{"id": "brace } inside"}',
    b'{"id": "a"} trailing',
]


def one_by_one(records: list[bytes]) -> tuple[list[dict], list[int]]:
    converter, rows, rejected = RecordConverter(EVENT_COLUMNS), [], []
    for index, record in enumerate(records):
        try:
            rows += converter.convert(record)
        except RecordRejected:
            rejected.append(index)
    return rows, rejected


@pytest.mark.parametrize("split", [0, 7, 25, 50])
@pytest.mark.parametrize(
    "tempting",
    [
        TEMPTING,
        TEMPTING[1:],  # without the upper-case key: the fast path is on
        [*TEMPTING[1:], b'{"id":\n "pretty-printed"}'],  # a record spanning lines: no line is a record
    ],
)
def test_batch_conversion_matches_record_by_record(split: int, tempting: list[bytes]) -> None:
    records = PLAIN[:split] + tempting + PLAIN[split:]
    table, failures = BatchConverter(RecordConverter(EVENT_COLUMNS), SCHEMA).convert(records)
    rows, rejected = one_by_one(records)
    assert table.to_pylist() == rows
    assert [index for index, _ in failures] == rejected


def test_a_plain_flush_takes_the_fast_path() -> None:
    converter = BatchConverter(RecordConverter(EVENT_COLUMNS), SCHEMA)
    table, failures = converter.convert(PLAIN)
    assert table.num_rows == 50 and failures == [] and converter.fast


def test_records_at_fault_scattered_through_a_large_flush_keep_their_order() -> None:
    plain = [f'{{"id": "e{i}", "session_id": "s{i % 7}", "event_time": "t"}}'.encode() for i in range(3000)]
    records = list(plain)
    for position in (0, 1, 999, 1000, 2998):
        records.insert(position, TEMPTING[(position % (len(TEMPTING) - 1)) + 1])
    table, failures = BatchConverter(RecordConverter(EVENT_COLUMNS), SCHEMA).convert(records)
    rows, rejected = one_by_one(records)
    assert table.to_pylist() == rows
    assert [index for index, _ in failures] == rejected


def test_a_value_parquet_cannot_hold_isolates_its_record_not_the_flush() -> None:
    # The converter admits any bigint; the Parquet schema (narrower here) cannot hold 2**40: that
    # record alone is rejected, the rows of the others are kept in their order.
    from dw_platform.declaration.warehouse import Column
    from dw_platform.delivery.conversion import TYPE_MISMATCH

    converter = BatchConverter(RecordConverter((Column("n", "bigint"),)), pa.schema([("n", pa.int32())]))
    rows, failures = converter.convert([b'{"n": 1}', b'{"n": 1099511627776}', b'{"n": "2"}', b'{"n": []}'])
    assert rows.column("n").to_pylist() == [1, 2]
    assert [(index, rejected.code) for index, rejected in failures] == [
        (1, TYPE_MISMATCH),
        (3, TYPE_MISMATCH),
    ]
    assert "a value Parquet cannot hold" in failures[0][1].message
