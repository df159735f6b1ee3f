"""Streaming rewrite of many Parquet objects into files near a target size.

Memory is bounded by one row group per writer, never by the hour: batches are read object by
object (local or S3, through the lake's pyarrow filesystem) and written out row group by row group,
rolling to a new file when the current one reaches the target size. De-duplication streams the same
way through DuckDB, which spills to disk beyond its memory limit.
"""

import bisect
import dataclasses
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from dw_platform.declaration.identifiers import validate_identifier
from dw_platform.lake.layout import compacted_part
from dw_platform.lake.stats import parquet_rows
from dw_platform.lake.store import Lake, LakeObject
from dw_platform.operations.compaction.versions import FileStamp

BATCH_ROWS = 64 * 1024


@dataclasses.dataclass(frozen=True)
class RewriteOptions:
    target_file_bytes: int = 128 * 1024 * 1024  # within Athena's recommended 128 MB - 1 GB
    row_group_rows: int = 1_000_000
    dedupe_key: str | None = None
    duckdb_memory_limit: str = "512MB"
    compression: str = "snappy"
    # Writers at once, each over its own contiguous share of the inputs (only when the hour fills
    # several files anyway): pyarrow encodes a file on one thread. Memory: that many row groups.
    writers: int = 2


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
    """Writes row groups into `part-NNNNN.parquet` files under a prefix, rolling at a target size.
    Each file's footer carries the version's `stamp` with the file's place in this writer's share,
    so that the files alone tell a complete version from an interrupted one."""

    def __init__(
        self,
        lake: Lake,
        prefix: str,
        schema: pa.Schema,
        options: RewriteOptions,
        first_number: int = 0,
        stamp: FileStamp | None = None,
    ) -> None:
        self.lake, self.prefix, self.schema, self.options = lake, prefix, schema, options
        self.first_number = first_number
        self.stamp = stamp
        self.files: list[str] = []
        self.bytes = 0
        self.rows = 0
        self._sink: pa.NativeFile | None = None
        self._writer: pq.ParquetWriter | None = None
        self._full = False

    def _open(self) -> None:
        key = compacted_part(self.prefix, self.first_number + len(self.files))
        self.files.append(key)
        self._sink = self.lake.open_output(key)
        self._writer = pq.ParquetWriter(self._sink, self.schema, compression=self.options.compression)

    def write_row_group(self, batches: list[pa.RecordBatch]) -> None:
        if self._full:  # closed only now: the footer must say whether the file is the share's last
            self._finish(last=False)
        if self._writer is None:
            self._open()
        assert self._writer is not None and self._sink is not None
        table = pa.Table.from_batches(batches, self.schema)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += table.num_rows
        self._full = self._sink.tell() >= self.options.target_file_bytes

    def _finish(self, *, last: bool) -> None:
        if self._writer is not None and self._sink is not None:
            if self.stamp is not None:
                place = dataclasses.replace(self.stamp, part=len(self.files) - 1, last=last)
                self._writer.add_key_value_metadata(place.to_footer())
            self._writer.close()
            self.bytes += self._sink.tell()
            self._sink.close()
        self._writer = self._sink = None
        self._full = False

    def close(self) -> None:
        if self.stamp is not None and not self.files:
            self._open()  # an empty share still writes its (empty) last file: the set stays checkable
        self._finish(last=True)


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


def _shares(inputs: Sequence[LakeObject], count: int, target_bytes: int) -> list[list[str]]:
    """`inputs` cut into at most `count` contiguous shares of about equal bytes, each cut at a
    multiple of the target file size, so that the shares fill as few files as one writer would."""
    total = sum(o.size for o in inputs)
    cuts = [round(i * total / count / target_bytes) * target_bytes for i in range(1, count)]
    shares: list[list[str]] = [[] for _ in range(count)]
    done = 0
    for obj in inputs:
        shares[bisect.bisect_right(cuts, done)].append(obj.key)
        done += obj.size
    return [share for share in shares if share]


def rewrite(
    lake: Lake,
    inputs: Sequence[LakeObject],
    output_prefix: str,
    schema: pa.Schema,
    options: RewriteOptions,
    stamp: FileStamp | None = None,
) -> RewriteResult:
    """Rewrite the `inputs` objects into files under `output_prefix` (which no reader looks at yet).
    Without de-duplication, an hour of several target-sized files is written by `options.writers`
    writers at once, each over a contiguous share of the inputs: files keep the inputs' row order.
    `stamp` (shares, share and part are filled in here) goes into every file's footer."""
    schema = schema.remove_metadata()
    input_rows = parquet_rows(lake, inputs)  # from the footers
    if options.dedupe_key:
        dataset = _dataset(lake, [o.key for o in inputs], schema)
        batches: Iterable[pa.RecordBatch] = (
            _conform(b, schema) for b in _deduplicated_batches(dataset, options.dedupe_key, options)
        )
        one = dataclasses.replace(stamp, shares=1, share=0) if stamp else None
        writer = _RollingWriter(lake, output_prefix, schema, options, stamp=one)
        _write(batches, writer, options.row_group_rows)
        return RewriteResult(tuple(writer.files), input_rows, writer.rows, writer.bytes)
    files_needed = sum(o.size for o in inputs) // options.target_file_bytes
    shares = _shares(inputs, max(1, min(options.writers, files_needed)), options.target_file_bytes)
    # Share i numbers its files from i * 10,000, so that file names sort in row order.
    writers = [
        _RollingWriter(
            lake,
            output_prefix,
            schema,
            options,
            first_number=index * 10_000,
            stamp=dataclasses.replace(stamp, shares=len(shares), share=index) if stamp else None,
        )
        for index in range(len(shares))
    ]

    def write_share(index: int) -> None:
        _write(_plain_batches(lake, shares[index], schema), writers[index], options.row_group_rows)

    if len(shares) == 1:
        write_share(0)
    else:
        with ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="rewrite") as pool:
            list(pool.map(write_share, range(len(shares))))
    return RewriteResult(
        tuple(f for w in writers for f in w.files),
        input_rows,
        sum(w.rows for w in writers),
        sum(w.bytes for w in writers),
    )
