"""The declaration API: a warehouse is an immutable value built with fluent `with_*` calls.

Everything else (catalog tables, delivery streams, Dagster assets, schedules and, in the AWS profile,
provisioned resources) is derived from this spec, so adding a streaming table is one line.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dw_platform.declaration.column_types import SUPPORTED_TYPES
from dw_platform.declaration.identifiers import validate_identifier
from dw_platform.errors import PreconditionError, UnknownTableError, UserInputError
from dw_platform.lake.hours import is_inserted_at
from dw_platform.lake.layout import RESERVED_TABLE_NAMES, error_prefix, table_prefix

DATA_FORMATS = ("PARQUET", "JSON")
DEV_FLUSH_INTERVAL_S = 60
PROD_FLUSH_INTERVAL_S = 900
# Firehose's buffering bounds when record format conversion is enabled.
MIN_BUFFER_MIB, MAX_BUFFER_MIB = 64, 128


class DeclarationError(UserInputError):
    """An invalid warehouse declaration; the message names the offending table or column."""


class ReservedTableNameError(DeclarationError):
    """A table name the platform uses for itself: a lake folder of its own or a derived table's name."""


# Suffixes of the names derived from a streaming table: its errors table and its compaction asset.
DERIVED_SUFFIXES = ("_errors", "_compacted")
# Athena UNLOAD re-compactions stage a late hour in a table `<table>__late_<hour>` of the database.
STAGING_MARKER = "__late_"


class TableKind(enum.Enum):
    STATIC = "static"
    STREAMING = "streaming"
    BATCH = "batch"
    ERRORS = "errors"  # a streaming table's isolated records, declared with it


# Firehose's error records (JSON lines under the error prefix): column -> JSON key. The JSON SerDe
# maps keys case-insensitively; the mapping makes it explicit for every reader.
ERROR_RECORD_COLUMNS = (
    ("errorcode", "string", "errorCode"),
    ("errormessage", "string", "errorMessage"),
    ("arrivaltimestamp", "bigint", "arrivalTimestamp"),  # epoch milliseconds
    ("attemptsmade", "int", "attemptsMade"),
    ("rawdata", "string", "rawData"),  # base64 of the record as sent: try(from_utf8(from_base64(rawdata)))
    # Written by `dw replay` beside Firehose's fields (NULL for a record never replayed): `delivered`
    # (converted with the current schema and delivered into arrival hour `replayedinto`) or
    # `still_failing` (with the reason it fails now).
    ("replaystatus", "string", "dwReplayStatus"),
    ("replayedinto", "string", "dwReplayedInto"),
    ("replayerrorcode", "string", "dwReplayErrorCode"),
    ("replayerrormessage", "string", "dwReplayErrorMessage"),
    ("replayid", "string", "dwReplayId"),
)


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"

    def __post_init__(self) -> None:
        validate_identifier(self.name, what="column")
        if self.type not in SUPPORTED_TYPES:
            raise DeclarationError(
                f"column {self.name!r} has unknown type {self.type!r}; supported: {sorted(SUPPORTED_TYPES)}"
            )


ColumnsLike = Iterable[Column | tuple[str, str] | Mapping[str, str]]


@dataclasses.dataclass(frozen=True)
class StreamingOptions:
    """Kinesis + Firehose settings of a streaming table (defaults: `with_streaming_input_table`'s)."""

    shard_count: int
    flush_interval_s: int
    buffer_size_mib: int
    # On-demand Kinesis capacity instead of `shard_count` provisioned shards.
    on_demand: bool
    # Partition projection from this `YYYY/MM/DD/HH` hour on: Athena computes the hourly partitions,
    # nothing is registered, and the table is not compacted (see README: partition projection).
    projection_start: str | None
    # The error-rate check: WARN above the first share of isolated records, ERROR above the second
    # (an hour's rate judged by its 95 % lower bound: see operations/error_rates).
    error_rate_warn: float
    error_rate_error: float
    # The interval as declared; None: the deployment's default (60 s in development, 900 s else).
    declared_flush_interval_s: int | None


@dataclasses.dataclass(frozen=True)
class BatchOptions:
    """A table filled by user code: `job(context)` returns rows per partition value (defaults:
    `with_batch_input_table`'s)."""

    job: Callable[..., Any]
    # A 5-field cron; None: every hour, once the inputs have settled (see operations.batch_tables).
    schedule: str | None
    inputs: tuple[str, ...]
    # Hours after an hour during which its rows can still change (late arrivals): each scheduled run
    # recomputes the last `lateness_hours + 1` hours, and the job may read that far ahead.
    lateness_hours: int
    # How far a device's clock may run ahead of arrival: an event-time job reads arrival hours from
    # this (plus the inputs' flush interval) before an event hour on.
    clock_skew_minutes: int
    # The numbers a partition carries besides its size (plotted per hour in the UI): `metrics(rows)`
    # gets the hour's rows and returns name -> number, e.g. impressions, clicks, click-through rate.
    metrics: Callable[[Sequence[Mapping[str, Any]]], Mapping[str, float]] | None


@dataclasses.dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    data_format: str
    partition_keys: tuple[Column, ...]
    kind: TableKind
    streaming: StreamingOptions | None = None
    batch: BatchOptions | None = None
    seed_file: Path | None = None
    # An errors table: the streaming table whose failed records it shows, and its JSON keys.
    errors_of: str | None = None
    json_keys: tuple[tuple[str, str], ...] = ()

    @property
    def prefix(self) -> str:
        """Key prefix of the table's data in the lake (S3 bucket or local directory)."""
        if self.errors_of is not None:
            return error_prefix(self.errors_of)
        return table_prefix(self.name)

    @property
    def partition_key(self) -> str | None:
        return self.partition_keys[0].name if self.partition_keys else None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def streaming_options(self) -> StreamingOptions:
        """The table's delivery settings; asking a table that has none is the caller's mistake."""
        if self.streaming is None:
            raise PreconditionError(f"table {self.name!r} is not a streaming table")
        return self.streaming

    def batch_options(self) -> BatchOptions:
        if self.batch is None:
            raise PreconditionError(f"table {self.name!r} is not a batch table")
        return self.batch

    def seed(self) -> Path:
        if self.seed_file is None:
            raise PreconditionError(f"table {self.name!r} has no seed file")
        return self.seed_file


def _columns(columns: ColumnsLike, *, table: str, what: str = "columns") -> tuple[Column, ...]:
    result: list[Column] = []
    for item in columns:
        if isinstance(item, Column):
            result.append(item)
        elif isinstance(item, Mapping):
            result.append(Column(item["name"], item.get("type", "string")))
        else:
            name, type_ = item
            result.append(Column(name, type_))
    names = [c.name for c in result]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DeclarationError(f"table {table!r} declares {what} more than once: {duplicates}")
    if what == "columns" and not result:
        raise DeclarationError(f"table {table!r} has no columns")
    return tuple(result)


def _check_not_reserved(name: str) -> None:
    if name in RESERVED_TABLE_NAMES:
        raise ReservedTableNameError(
            f"table name {name!r} is reserved: the lake keeps the platform's own {name}/ folder "
            f"beside the tables' folders (reserved: {', '.join(sorted(RESERVED_TABLE_NAMES))})"
        )
    if STAGING_MARKER in name:
        raise ReservedTableNameError(
            f"table name {name!r} is reserved: names containing {STAGING_MARKER!r} are the staging "
            "tables of re-compactions"
        )


@dataclasses.dataclass(frozen=True)
class ServerlessDataWarehouse:
    """An immutable warehouse declaration. Each `with_*` returns a new warehouse with one more table."""

    name: str
    # Development defaults (60 s flushes, buckets destroyed with their data); None: the deployment
    # decides (DW_IS_DEV, see `deployed`).
    is_dev: bool | None = None
    # The Athena workgroup cancels any query scanning more (the backstop behind the query guard rail).
    query_cutoff_gib: int = 100
    # The query guard rail's per-query budget, checked on the plan before a query runs: the most
    # partitions (hours) one scan of a partitioned table may read, and the most bytes in all (whole
    # objects). A month, and 10 GiB ($0.05 on Athena; None: 10 GiB or the cutoff if lower); the bytes
    # at most the workgroup's cutoff, which would stop the query after billing what it read.
    query_budget_hours: int = 744
    query_budget_gib: float | None = None
    tables: tuple[TableSpec, ...] = ()
    # Who answers for the warehouse's assets (shown in the Dagster UI): e-mail addresses or `team:<name>`.
    owners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.name, what="warehouse (Glue database)")
        if self.query_cutoff_gib < 1:
            raise DeclarationError(f"query_cutoff_gib must be at least 1, got {self.query_cutoff_gib}")
        if self.query_budget_hours < 1:
            raise DeclarationError(f"query_budget_hours must be at least 1, got {self.query_budget_hours}")
        if self.query_budget_gib is not None and not 0 < self.query_budget_gib <= self.query_cutoff_gib:
            raise DeclarationError(
                f"query_budget_gib must be above 0 and at most query_cutoff_gib ({self.query_cutoff_gib}), "
                f"got {self.query_budget_gib}"
            )
        for owner in self.owners:
            if not re.fullmatch(r"team:[A-Za-z0-9_-]+|[^@\s]+@[^@\s]+\.[^@\s]+", owner):
                raise DeclarationError(f"owner {owner!r} is neither an e-mail address nor team:<name>")

    @property
    def query_budget(self) -> tuple[int, float]:
        """The per-query budget the guard rail applies: hours per scan, GiB in all."""
        gib = self.query_budget_gib if self.query_budget_gib is not None else min(10.0, self.query_cutoff_gib)
        return self.query_budget_hours, gib

    def deployed(self, *, is_dev: bool) -> ServerlessDataWarehouse:
        """The warehouse as a deployment runs it: development or production defaults (flush
        intervals not declared, whether buckets are destroyed with their data). The declaration
        itself never depends on where it runs."""
        if self.is_dev is not None:  # declared: it stands wherever the warehouse runs
            return self
        interval = DEV_FLUSH_INTERVAL_S if is_dev else PROD_FLUSH_INTERVAL_S
        tables = tuple(
            dataclasses.replace(
                spec, streaming=dataclasses.replace(spec.streaming, flush_interval_s=interval)
            )
            if spec.streaming is not None and spec.streaming.declared_flush_interval_s is None
            else spec
            for spec in self.tables
        )
        return dataclasses.replace(self, is_dev=is_dev, tables=tables)

    # ---- fluent declaration -------------------------------------------------------------------
    def with_table(
        self,
        name: str,
        columns: ColumnsLike,
        *,
        data_format: str = "PARQUET",
        partition_keys: ColumnsLike | None = None,
        seed_file: str | Path | None = None,
    ) -> ServerlessDataWarehouse:
        """A plain table; `seed_file` (JSON lines or Parquet) is loaded as its only object."""
        spec = self._table(name, columns, data_format, partition_keys, TableKind.STATIC)
        return self._add(dataclasses.replace(spec, seed_file=Path(seed_file) if seed_file else None))

    def with_streaming_input_table(
        self,
        name: str,
        columns: ColumnsLike,
        *,
        partition_key: str = "inserted_at",
        shard_count: int = 1,
        flush_interval_s: int | None = None,
        buffer_size_mib: int = MAX_BUFFER_MIB,
        on_demand: bool = False,
        partition_projection_from: str | None = None,
        error_rate_warn: float = 0.001,
        error_rate_error: float = 0.05,
    ) -> ServerlessDataWarehouse:
        """A table fed by Kinesis -> Firehose, always Parquet, partitioned hourly by arrival time.

        `shard_count` provisioned shards (see `provisioning.shards.shards_needed`), or `on_demand`
        capacity. `flush_interval_s` and `buffer_size_mib` are Firehose's buffering hints.
        `partition_projection_from` (an hour, `YYYY/MM/DD/HH`) opts into partition projection.
        The hourly error-rate check warns above `error_rate_warn` and errs above `error_rate_error`."""
        interval = flush_interval_s
        if interval is None:
            interval = DEV_FLUSH_INTERVAL_S if self.is_dev else PROD_FLUSH_INTERVAL_S
        if not 0 <= interval <= 900:
            raise DeclarationError(f"table {name!r}: flush_interval_s must be within 0-900, got {interval}")
        if not MIN_BUFFER_MIB <= buffer_size_mib <= MAX_BUFFER_MIB:
            raise DeclarationError(
                f"table {name!r}: buffer_size_mib must be within {MIN_BUFFER_MIB}-{MAX_BUFFER_MIB} "
                f"(Firehose's range with format conversion), got {buffer_size_mib}"
            )
        if shard_count < 1:
            raise DeclarationError(f"table {name!r}: shard_count must be at least 1, got {shard_count}")
        spec = self._table(name, columns, "PARQUET", [(partition_key, "string")], TableKind.STREAMING)
        if partition_projection_from is not None and not is_inserted_at(partition_projection_from):
            raise DeclarationError(
                f"table {name!r}: partition_projection_from must be an hour YYYY/MM/DD/HH, "
                f"got {partition_projection_from!r}"
            )
        if not 0 <= error_rate_warn <= error_rate_error <= 1:
            raise DeclarationError(
                f"table {name!r}: need 0 <= error_rate_warn <= error_rate_error <= 1, "
                f"got {error_rate_warn} and {error_rate_error}"
            )
        options = StreamingOptions(
            shard_count,
            interval,
            buffer_size_mib,
            on_demand,
            partition_projection_from,
            error_rate_warn,
            error_rate_error,
            flush_interval_s,
        )
        errors = self._table(
            f"{name}_errors",
            [(column, type_) for column, type_, _ in ERROR_RECORD_COLUMNS],
            "JSON",
            [(partition_key, "string")],
            TableKind.ERRORS,
        )
        errors = dataclasses.replace(
            errors, errors_of=name, json_keys=tuple((c, key) for c, _, key in ERROR_RECORD_COLUMNS)
        )
        return self._add(dataclasses.replace(spec, streaming=options))._add(errors)

    def with_batch_input_table(
        self,
        name: str,
        columns: ColumnsLike,
        *,
        job: Callable[..., Any],
        schedule: str | None = None,
        inputs: Sequence[str] = (),
        data_format: str = "JSON",
        partition_keys: ColumnsLike | None = (("inserted_at", "string"),),
        lateness_hours: int = 0,
        clock_skew_minutes: int = 5,
        metrics: Callable[[Sequence[Mapping[str, Any]]], Mapping[str, float]] | None = None,
    ) -> ServerlessDataWarehouse:
        """A table written by `job` for each hour an input hour it reads changed (registered or
        compacted; the latest hour once its inputs have settled), reading the declared `inputs`
        tables; a `schedule` (cron) holds the recomputations until its next tick. With
        `lateness_hours`, an input hour's change recomputes that many hours back as well.
        `clock_skew_minutes` bounds how far event times may run ahead of arrival times (event-time
        jobs read that much, plus the inputs' flush interval, before each hour). `metrics(rows)`:
        numbers per hour for the UI (name -> number) computed from the hour's rows."""
        if metrics is not None and not callable(metrics):
            raise DeclarationError(f"table {name!r}: metrics must be callable, got {metrics!r}")
        if not callable(job):
            raise DeclarationError(f"table {name!r}: job must be callable, got {job!r}")
        if schedule is not None and len(schedule.split()) != 5:
            raise DeclarationError(
                f"table {name!r}: schedule must be a 5-field cron string, got {schedule!r}"
            )
        for upstream in inputs:
            if upstream not in self.table_names:
                raise DeclarationError(f"table {name!r}: input table {upstream!r} is not declared (yet)")
        spec = self._table(name, columns, data_format, partition_keys, TableKind.BATCH)
        if [k.type for k in spec.partition_keys] != ["string"]:
            # Batch tables are computed per `YYYY/MM/DD/HH` hour of their inputs.
            raise DeclarationError(
                f"table {name!r}: a batch table needs exactly one string partition key (the hour)"
            )
        if not 0 <= lateness_hours <= 168:
            raise DeclarationError(
                f"table {name!r}: lateness_hours must be within 0-168, got {lateness_hours}"
            )
        if not 0 <= clock_skew_minutes <= 1440:
            raise DeclarationError(
                f"table {name!r}: clock_skew_minutes must be within 0-1440, got {clock_skew_minutes}"
            )
        options = BatchOptions(job, schedule, tuple(inputs), lateness_hours, clock_skew_minutes, metrics)
        return self._add(dataclasses.replace(spec, batch=options))

    # ---- queries on the spec ------------------------------------------------------------------
    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def table(self, name: str) -> TableSpec:
        for spec in self.tables:
            if spec.name == name:
                return spec
        raise UnknownTableError(
            f"warehouse {self.name!r} has no table {name!r}; tables: {list(self.table_names)}"
        )

    def tables_of(self, kind: TableKind) -> tuple[TableSpec, ...]:
        return tuple(t for t in self.tables if t.kind is kind)

    def errors_table(self, table: str) -> TableSpec | None:
        """The `<table>_errors` table of a streaming table (None for other tables)."""
        return next((t for t in self.tables if t.errors_of == table), None)

    # ---- internals ----------------------------------------------------------------------------
    def _table(
        self,
        name: str,
        columns: ColumnsLike,
        data_format: str,
        partition_keys: ColumnsLike | None,
        kind: TableKind,
    ) -> TableSpec:
        validate_identifier(name, what="table")
        if kind is not TableKind.ERRORS:
            _check_not_reserved(name)
        if data_format not in DATA_FORMATS:
            raise DeclarationError(
                f"table {name!r}: unknown data_format {data_format!r}; use one of {list(DATA_FORMATS)}"
            )
        cols = _columns(columns, table=name)
        keys = _columns(partition_keys or (), table=name, what="partition keys")
        clash = sorted(set(c.name for c in cols) & set(k.name for k in keys))
        if clash:
            raise DeclarationError(f"table {name!r}: partition keys {clash} are also declared as columns")
        return TableSpec(name, cols, data_format, keys, kind)

    def _add(self, spec: TableSpec) -> ServerlessDataWarehouse:
        # Either order: a streaming table after a table named like its derived names, or before.
        streaming = [t.name for t in (*self.tables, spec) if t.kind is TableKind.STREAMING]
        for other in (spec, *self.tables):
            for base in streaming:
                if other.errors_of is None and other.name in {f"{base}{s}" for s in DERIVED_SUFFIXES}:
                    raise ReservedTableNameError(
                        f"table name {other.name!r} is reserved in warehouse {self.name!r}: streaming "
                        f"table {base!r} derives it (its errors table and its compaction asset are "
                        f"{base}_errors and {base}_compacted); choose another name"
                    )
        if spec.name in self.table_names:
            raise DeclarationError(f"duplicate table {spec.name!r} in warehouse {self.name!r}")
        return dataclasses.replace(self, tables=(*self.tables, spec))
