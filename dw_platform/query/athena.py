"""Athena through pyathena: every statement runs in the warehouse's workgroup, which enforces the
result location, its encryption and the bytes-scanned cutoff.

Statements are submitted on pyathena's asynchronous cursor: polling for completion happens on its
worker threads, so a caller (a Dagster run, an event loop) can hold several queries in flight and is
blocked only where it chooses to wait for a result. Rows come typed (pyathena converts Athena's
types) and are returned as an Arrow table with matching Arrow types.
"""

import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from pyathena import connect
from pyathena.async_cursor import AsyncCursor
from pyathena.error import Error as PyAthenaError
from pyathena.util import RetryConfig

from dw_platform.aws.clients import MAX_ATTEMPTS, AwsEndpointError, client_config, guard
from dw_platform.query import trino_types as tt
from dw_platform.query.engine import QueryResult
from dw_platform.query.metadata import is_metadata_statement
from dw_platform.query.scan_plan import ScanPlan, ScanPlanner
from dw_platform.query.sql import QueryError
from dw_platform.query.trino_types import TrinoType

# pyathena logs every failed call with its traceback before raising; the error reaches the caller
# anyway, so without a logging configuration (the `dw` command) nothing more is printed.
logging.getLogger("pyathena").addHandler(logging.NullHandler())

ARROW_BY_ATHENA_TYPE = {
    "boolean": pa.bool_(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "float": pa.float32(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("ms"),
    "varbinary": pa.binary(),
}


def _arrow_type(athena_type: str, precision: int | None, scale: int | None) -> pa.DataType:
    if athena_type == "decimal":
        return pa.decimal128(precision or 38, scale or 0)
    return ARROW_BY_ATHENA_TYPE.get(athena_type, pa.string())  # varchar, char, json, row, array, map


def _cell(value: Any, type_: pa.DataType) -> Any:
    if value is None or not pa.types.is_string(type_) or isinstance(value, str):
        return value
    return str(value)  # nested values arrive as Python objects: keep them readable as text


def to_arrow(description: Sequence[tuple[Any, ...]], rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    fields = [pa.field(d[0], _arrow_type(d[1], d[4], d[5])) for d in description]
    columns = [
        pa.array([_cell(row[index], field.type) for row in rows], type=field.type)
        for index, field in enumerate(fields)
    ]
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def trino_types(description: Sequence[tuple[Any, ...]]) -> tuple[TrinoType, ...] | None:
    """The Trino type of each result column as Athena describes it (None when a column's type has
    parameters the description does not carry, as for arrays, maps and rows)."""
    types = []
    for column in description:
        name = str(column[1]).lower()
        if name == "decimal":
            types.append(tt.decimal(column[4] or 38, column[5] or 0))
        elif name in ("timestamp", "timestamp with time zone"):
            types.append(tt.timestamp(3) if name == "timestamp" else tt.timestamptz(3))
        elif name in (
            "char",
            "array",
            "map",
            "row",
            "time",
            "interval day to second",
            "interval year to month",
        ):
            return None
        else:
            try:
                types.append(tt.parse_type(name))
            except QueryError:
                return None
    return tuple(types)


class AthenaQueryFailed(QueryError):
    """Athena refused or failed the statement; the message carries Athena's reason."""


def _platform_error(error: Exception) -> Exception:
    """pyathena wraps every error of a call; an endpoint that does not answer is not a statement
    Athena refused, so it is raised as itself."""
    cause = error.__cause__
    return cause if isinstance(cause, AwsEndpointError) else error


class AthenaEngine:
    def __init__(
        self,
        region: str,
        workgroup: str,
        database: str,
        planner: ScanPlanner,
        *,
        poll_interval_s: float = 1.0,
    ) -> None:
        self.workgroup = workgroup
        self.database = database
        self.planner = planner  # the guard rail and the estimate, from the catalog and the lake
        # One cursor holds any number of queries in flight, each polled on its worker threads.
        connection = connect(
            region_name=region,
            work_group=workgroup,
            schema_name=database,
            cursor_class=AsyncCursor,
            poll_interval=poll_interval_s,
            config=client_config("athena"),
            # pyathena's own retry of TooManyRequestsException (queued + running over the quota)
            retry_config=RetryConfig(
                exceptions=("ThrottlingException", "TooManyRequestsException"),
                attempt=MAX_ATTEMPTS,
                max_delay=20,
            ),
        )
        guard(connection.client)  # an unanswered endpoint and the deadline, as for every client
        self._cursor = connection.cursor()

    def plan(self, sql: str, *, allow_full_scan: bool = False, budgeted: bool = True) -> ScanPlan:
        """What the query would read (raises FullScanRefused for an unbounded scan or one over the
        budget), without running it."""
        if is_metadata_statement(sql):
            return ScanPlan({})
        return self.planner.plan(sql, allow_full_scan=allow_full_scan, budgeted=budgeted)

    def submit(
        self, sql: str, *, allow_full_scan: bool = False, budgeted: bool = True
    ) -> "concurrent.futures.Future[QueryResult]":
        """Start a read-only query; the future resolves when Athena has finished it."""
        # One read-only statement, partitions bounded, within the budget.
        self.plan(sql, allow_full_scan=allow_full_scan, budgeted=budgeted)
        return self._submit(sql)

    def query(
        self,
        sql: str,
        *,
        allow_full_scan: bool = False,
        budgeted: bool = True,
        on_plan: "Callable[[ScanPlan], None] | None" = None,
        plain: bool = False,  # Athena's rows come as Arrow either way
    ) -> QueryResult:
        if on_plan is None:
            return self.submit(sql, allow_full_scan=allow_full_scan, budgeted=budgeted).result()
        on_plan(self.plan(sql, allow_full_scan=allow_full_scan, budgeted=budgeted))
        return self._submit(sql).result()

    def execute(self, statement: str) -> None:
        """Run any statement (UNLOAD, DDL) to completion; the platform's own, never user SQL."""
        self._submit(statement).result()

    def _submit(self, sql: str) -> "concurrent.futures.Future[QueryResult]":
        try:
            query_id, pending = self._cursor.execute(sql)
        except PyAthenaError as error:
            if isinstance(_platform_error(error), AwsEndpointError):
                raise _platform_error(error) from error
            raise AthenaQueryFailed(f"Athena refused the statement: {error}") from error
        result: concurrent.futures.Future[QueryResult] = concurrent.futures.Future()

        def collect(done: "concurrent.futures.Future[Any]") -> None:
            try:
                result_set = done.result()
                if result_set.state != "SUCCEEDED":
                    raise AthenaQueryFailed(
                        f"Athena query {query_id} {result_set.state}: {result_set.state_change_reason}"
                    )
                description = result_set.description or []
                table = to_arrow(description, result_set.fetchall())
                result.set_result(
                    QueryResult(
                        table,
                        (),
                        reported_bytes=result_set.data_scanned_in_bytes or 0,
                        types=trino_types(description),
                    )
                )
            except Exception as error:  # handed to whoever waits on the future
                result.set_exception(_platform_error(error))

        pending.add_done_callback(collect)
        return result
