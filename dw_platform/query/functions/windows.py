"""Trino's window functions (functions/window.md): the ranking and value functions, looked up by
name, and any aggregate over a window (aggregates.py); the OVER clause and its frame."""

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.aggregates import aggregate
from dw_platform.query.functions.checks import _arity, _int, function_name
from dw_platform.query.functions.registry import Family, lookup
from dw_platform.query.instant_keys import instant_of, refuse_nested
from dw_platform.query.operators import Typed, coerce
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

windows = Family("windows")


def window(tr: "Translator", node: exp.Window, scope: Scope) -> Typed:
    if node.args.get("alias"):
        raise UnsupportedQuery("named windows")
    parts = []
    partition = node.args.get("partition_by") or []
    if partition:
        keys = [tr.expr(e, scope) for e in partition]
        for key in keys:
            refuse_nested(key.type, "PARTITION BY")
        # Trino partitions a timestamp with time zone by its instant (the zone takes no part).
        parts.append("PARTITION BY " + ", ".join(instant_of(k) for k in keys))
    order = node.args.get("order")
    order_sql = ""
    if order:
        order_sql = " ORDER BY " + ", ".join(tr._ordered(o, scope, 0) for o in order.expressions)
        parts.append(order_sql.strip())
    frame = node.args.get("spec")
    if frame is not None:
        parts.append(_frame(tr, frame, order, scope))
    over = f" OVER ({' '.join(parts)})"
    function = node.this
    filter_ = None
    if isinstance(function, exp.Filter):
        function, filter_ = function.this, function.expression
    if isinstance(function, exp.IgnoreNulls | exp.RespectNulls):
        raise UnsupportedQuery("IGNORE NULLS / RESPECT NULLS")
    name = function_name(function)
    if isinstance(function, exp.GroupConcat):
        raise QueryError("listagg cannot be used as a window function")
    spec = lookup(name)
    if spec is not None and spec.kind == "aggregate":
        return aggregate(tr, function, scope, filter_=filter_, window=over, window_order=order_sql)
    if spec is None or spec.kind != "window" or not isinstance(function, exp.Anonymous):
        raise UnsupportedQuery(f"the window function {name}()")
    args = [tr.expr(a, scope) for a in function.expressions]
    assert spec.translate is not None
    return spec.translate(name, args, over)


def _frame(tr: "Translator", spec: exp.WindowSpec, order: exp.Order | None, scope: Scope) -> str:
    kind = (spec.args.get("kind") or "RANGE").upper()
    if spec.args.get("exclude"):
        raise UnsupportedQuery("EXCLUDE in window frames")

    def bound(value: object, side: object) -> str:
        side_text = str(side or "").upper()
        if isinstance(value, str):
            text = value.upper()
            if text == "UNBOUNDED":
                return f"UNBOUNDED {side_text}"
            if text == "CURRENT ROW":
                return "CURRENT ROW"
        if isinstance(value, exp.Expression):
            typed = tr.expr(value, scope)
            zero = "0"
            if typed.type.name in ("interval_ds", "interval_ym") and kind == "RANGE":
                # Offsets in time over dates and timestamps; DuckDB's interval arithmetic on a date
                # clamps to the month's end as Trino's does (2001-03-31 - 1 month = 2001-02-28).
                keys = [tr.expr(o.this, scope).type for o in (order.expressions if order else [])]
                if any(k.name not in ("date", "timestamp") for k in keys):
                    raise UnsupportedQuery("RANGE frames with an interval offset over this ORDER BY")
                zero = "INTERVAL 0 SECOND"
            elif not (typed.type.is_numeric or typed.type.is_unknown):
                raise UnsupportedQuery(f"{kind} frames with an offset of type {typed.type.trino()}")
            # Trino checks each row's offset (DuckDB would take a NULL or negative one).
            checked = (
                f"(CASE WHEN ({typed.sql}) IS NULL OR ({typed.sql}) < {zero} THEN "
                f"error('Window frame offset value must not be negative or null') ELSE {typed.sql} END)"
            )
            return f"{checked} {side_text}"
        raise UnsupportedQuery("this window frame")

    start = bound(spec.args.get("start"), spec.args.get("start_side"))
    end_value = spec.args.get("end")
    if end_value is None:
        return f"{kind} {start}"
    return f"{kind} BETWEEN {start} AND {bound(end_value, spec.args.get('end_side'))}"


# ---- the window functions, by name ---------------------------------------------------------------
@windows.window("row_number", "rank", "dense_rank", args="()", returns="bigint")
def _ranking(name: str, args: list[Typed], over: str) -> Typed:
    _arity(name, args, 0)
    return Typed(f"CAST({name}(){over} AS BIGINT)", tt.BIGINT)


@windows.window("percent_rank", "cume_dist", args="()", returns="double")
def _distribution(name: str, args: list[Typed], over: str) -> Typed:
    _arity(name, args, 0)
    return Typed(f"{name}(){over}", tt.DOUBLE)


@windows.window("ntile", args="n bigint", returns="bigint")
def _ntile(name: str, args: list[Typed], over: str) -> Typed:
    _arity(name, args, 1)
    return Typed(f"CAST(ntile({_int('ntile', args[0]).sql}){over} AS BIGINT)", tt.BIGINT)


@windows.window("lag", "lead", args="x T[, offset bigint[, default T]]", returns="T")
def _offset(name: str, args: list[Typed], over: str) -> Typed:
    _arity(name, args, 1, 2, 3)
    value = args[0]
    extra = []
    if len(args) >= 2:
        if not re.fullmatch(r"\d+", _int(name, args[1]).sql):
            raise UnsupportedQuery(f"{name}() with an offset that is not a literal")
        extra.append(args[1].sql)
    if len(args) == 3:
        extra.append(coerce(args[2], value.type).sql)
    return Typed(f"{name}({', '.join([value.sql, *extra])}){over}", value.type)


@windows.window("first_value", "last_value", args="x T", returns="T")
def _end_value(name: str, args: list[Typed], over: str) -> Typed:
    _arity(name, args, 1)
    return Typed(f"{name}({args[0].sql}){over}", args[0].type)


@windows.window("nth_value", args="x T, offset bigint", returns="T")
def _nth_value(name: str, args: list[Typed], over: str) -> Typed:
    _arity(name, args, 2)
    if not re.fullmatch(r"\d+", args[1].sql):
        raise UnsupportedQuery("nth_value() with an offset that is not a literal")
    if int(args[1].sql) < 1:
        raise QueryError("Offset must be at least 1")
    return Typed(f"nth_value({args[0].sql}, {_int('nth_value', args[1]).sql}){over}", args[0].type)
