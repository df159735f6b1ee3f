"""Streaming rewrite of many Parquet objects into files near a target size.

Memory is bounded by one row group, never by the hour: batches are read object by object (local or
S3, through the lake's pyarrow filesystem) and written out row group by row group, rolling to a new
file when the current one reaches the target size. De-duplication streams the same way
through DuckDB, which spills to disk beyond its memory limit.
"""

import dataclasses
import tempfile
from collections.abc import Iterable, Iterator, Sequence

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from dw_platform.identifiers import validate_identifier
from dw_platform.lake import Lake, LakeObject
from dw_platform.lake_stats import parquet_rows

BATCH_ROWS = 64 * 1024


@dataclasses.dataclass(frozen=True)
class RewriteOptions:
    target_file_bytes: int = 128 * 1024 * 1024  # within Athena's recommended 128 MB - 1 GB
    row_group_rows: int = 1_000_000
    dedupe_key: str | None = None
    duckdb_memory_limit: str = "512MB"
    compression: str = "snappy"


@dataclasses.dataclass(frozen=True)
class RewriteResult:
    files: tuple[str, ...]
    input_rows: int
    rows: int
    bytes: int


def _dataset(lake: Lake, keys: Sequence[str], schema: pa.Schema) -> ds.Dataset:
    # An explicit schema reads older objects that lack a later-added column as nulls.
    return ds.dataset(
        [lake.path(k) for k in keys], format="parquet", filesystem=lake.filesystem, schema=schema
    )


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch in the table's schema: an object written before a column was added reads as nulls."""
    if batch.schema == schema:
        return batch
    names = set(batch.schema.names)
    columns = [
        batch.column(f.name).cast(f.type) if f.name in names else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _plain_batches(lake: Lake, keys: Sequence[str], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    # One object at a time: the dataset scanner's read-ahead grew to ~1 GiB on a 20M-row hour when
    # the writer was the slower side; this stays near one row group at the same speed.
    for key in keys:
        with lake.filesystem.open_input_file(lake.path(key)) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=BATCH_ROWS):
                yield _conform(batch, schema)


def _deduplicated_batches(dataset: ds.Dataset, key: str, options: RewriteOptions) -> Iterator[pa.RecordBatch]:
    """One row per non-null key (the first by the other columns, so re-runs keep the same row);
    rows without a key are all kept, since they cannot be told apart."""
    validate_identifier(key, what="column")
    others = [f'"{c}"' for c in dataset.schema.names if c != key] or [f'"{key}"']
    with tempfile.TemporaryDirectory(prefix="dw-dedupe-") as spill:
        connection = duckdb.connect(
            ":memory:",
            config={"memory_limit": options.duckdb_memory_limit, "temp_directory": spill, "threads": 2},
        )
        try:
            connection.register("source", dataset)
            relation = connection.sql(
                f'SELECT * FROM source QUALIFY "{key}" IS NULL '
                f'OR row_number() OVER (PARTITION BY "{key}" ORDER BY {", ".join(others)}) = 1'
            )
            yield from relation.to_arrow_reader(BATCH_ROWS)
        finally:
            connection.close()


class _RollingWriter:
    """Writes row groups into `part-NNNNN.parquet` files under a prefix, rolling at a target size."""

    def __init__(self, lake: Lake, prefix: str, schema: pa.Schema, options: RewriteOptions) -> None:
        self.lake, self.prefix, self.schema, self.options = lake, prefix, schema, options
        self.files: list[str] = []
        self.bytes = 0
        self.rows = 0
        self._sink: pa.NativeFile | None = None
        self._writer: pq.ParquetWriter | None = None

    def write_row_group(self, batches: list[pa.RecordBatch]) -> None:
        if self._writer is None:
            key = f"{self.prefix}part-{len(self.files):05d}.parquet"
            self.files.append(key)
            self._sink = self.lake.open_output(key)
            self._writer = pq.ParquetWriter(self._sink, self.schema, compression=self.options.compression)
        table = pa.Table.from_batches(batches, self.schema)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += table.num_rows
        assert self._sink is not None
        if self._sink.tell() >= self.options.target_file_bytes:
            self.close()

    def close(self) -> None:
        if self._writer is not None and self._sink is not None:
            self._writer.close()
            self.bytes += self._sink.tell()
            self._sink.close()
        self._writer = self._sink = None


def _write(batches: Iterable[pa.RecordBatch], writer: _RollingWriter, row_group_rows: int) -> None:
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows >= row_group_rows:
            writer.write_row_group(pending)
            pending, pending_rows = [], 0
    if pending:
        writer.write_row_group(pending)
    writer.close()


def rewrite(
    lake: Lake, inputs: Sequence[str], output_prefix: str, schema: pa.Schema, options: RewriteOptions
) -> RewriteResult:
    """Rewrite the `inputs` objects into files under `output_prefix` (which no reader looks at yet)."""
    schema = schema.remove_metadata()
    input_rows = parquet_rows(lake, [LakeObject(k, 0) for k in inputs])  # from the footers
    if options.dedupe_key:
        dataset = _dataset(lake, inputs, schema)
        batches: Iterable[pa.RecordBatch] = (
            _conform(b, schema) for b in _deduplicated_batches(dataset, options.dedupe_key, options)
        )
    else:
        batches = _plain_batches(lake, inputs, schema)
    writer = _RollingWriter(lake, output_prefix, schema, options)
    _write(batches, writer, options.row_group_rows)
    return RewriteResult(tuple(writer.files), input_rows, writer.rows, writer.bytes)
