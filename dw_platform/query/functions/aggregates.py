"""Trino's aggregate functions (functions/aggregate.md), one translation each, looked up by name.

An aggregate's translation gets the call (`AggregateCall`: its written arguments, DISTINCT, the
FILTER, the window it is computed over) and returns the DuckDB text, typed as Trino types it.
"""

import dataclasses
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import complex_compare
from dw_platform.query import trino_types as tt
from dw_platform.query.contract_aggregates import CONTRACT_AGGREGATES, NOTES, contract_aggregate, note
from dw_platform.query.functions.checks import _arity, _double, function_name
from dw_platform.query.functions.registry import Family, lookup
from dw_platform.query.listagg import listagg
from dw_platform.query.operators import Typed, arithmetic, cast, holds_tstz
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

aggregates = Family("aggregates")

# Argument types Trino resolves to an aggregate's real overload when it has only real and double ones.
_TO_REAL_OVERLOAD = frozenset(("tinyint", "smallint", "integer", "bigint", "real"))


@dataclasses.dataclass
class AggregateCall:
    """One aggregate call as written: its arguments (DISTINCT and an inner ORDER BY taken off), and
    the text that follows the call (FILTER, OVER)."""

    tr: "Translator"
    scope: Scope
    name: str
    raw: list[exp.Expression]
    distinct: bool
    filter_sql: str
    window: str
    window_order: str
    order_sql: str

    @property
    def prefix(self) -> str:
        return "DISTINCT " if self.distinct else ""

    def wrap(self, duck: str, args: list[str], t: TrinoType, cast_to: bool = True) -> Typed:
        text = f"{duck}({self.prefix}{', '.join(args)}){self.filter_sql}{self.window}"
        return Typed(f"CAST({text} AS {t.duckdb()})" if cast_to else text, t)

    def arguments(self) -> list[Typed]:
        """The arguments translated, with the checks every aggregate but count makes of them."""
        args = [self.tr.expr(a, self.scope) for a in self.raw]
        if self.distinct:
            for a in args:
                complex_compare.refuse_map_grouping(a.type, f"{self.name}(DISTINCT ...)")
        _distinct_by_instant(self.distinct, args)
        return args


def _distinct_by_instant(distinct: bool, args: list[Typed]) -> None:
    """DuckDB tells a timestamp with time zone apart by its zone too, Trino by its instant only."""
    if distinct and any(holds_tstz(a.type) for a in args):
        raise UnsupportedQuery("DISTINCT in an aggregate over timestamp with time zone values")


def is_aggregate(name: str) -> bool:
    spec = lookup(name.lower())
    return spec is not None and spec.kind == "aggregate"


def aggregate(
    tr: "Translator",
    node: exp.Expression,
    scope: Scope,
    filter_: exp.Expression | None = None,
    window: str = "",
    window_order: str = "",
) -> Typed:
    if isinstance(node, exp.ArgMax | exp.ArgMin):  # sqlglot reads max_by/min_by as these
        name = "max_by" if isinstance(node, exp.ArgMax) else "min_by"
        if node.args.get("count") is not None:
            raise UnsupportedQuery(f"{name}(x, y, n)")
        node = exp.Anonymous(this=name, expressions=[node.this, node.expression])
    if isinstance(node, exp.GroupConcat) and not window:
        condition = filter_.this if isinstance(filter_, exp.Where) else filter_
        where = f" FILTER (WHERE {tr.boolean(condition, scope).sql})" if condition is not None else ""
        return listagg(tr, node, scope, where)
    if isinstance(node, exp.GroupConcat):
        raise QueryError("listagg cannot be used as a window function")
    if not isinstance(node, exp.Anonymous):
        raise UnsupportedQuery(f"the aggregate {node.sql('trino')[:40]}")
    name = function_name(node)
    raw = list(node.expressions)
    distinct = len(raw) == 1 and isinstance(raw[0], exp.Distinct)
    if distinct:
        raw = list(raw[0].expressions)
    spec = lookup(name)
    if spec is None or spec.kind != "aggregate":
        raise UnsupportedQuery(f"the aggregate function {name}()")
    filter_sql = ""
    if filter_ is not None:
        condition = filter_.this if isinstance(filter_, exp.Where) else filter_
        filter_sql = f" FILTER (WHERE {tr.boolean(condition, scope).sql})"
    order_sql = ""
    if raw and isinstance(raw[-1], exp.Order):  # array_agg(x ORDER BY y): the order inside the call
        order = raw[-1]
        raw = [*raw[:-1], order.this]
        order_sql = " ORDER BY " + ", ".join(tr._ordered(o, scope, 0) for o in order.expressions)
        if name not in ("array_agg",):
            raise UnsupportedQuery(f"ORDER BY inside {name}()")
        if window:
            raise QueryError("Window function with ORDER BY is not supported")
        if len(raw) == 1 and isinstance(raw[0], exp.Distinct):  # array_agg(DISTINCT x ORDER BY x)
            distinct = True
            raw = list(raw[0].expressions)
        if distinct:
            arguments = {a.sql("trino") for a in raw}
            if any(o.this.sql("trino") not in arguments for o in order.expressions):
                raise QueryError(
                    "For aggregate function with DISTINCT, ORDER BY expressions must appear in arguments"
                )
    call = AggregateCall(tr, scope, name, raw, distinct, filter_sql, window, window_order, order_sql)
    assert spec.translate is not None
    return spec.translate(call)


# ---- the aggregates, by name ---------------------------------------------------------------------
@aggregates.aggregate("count", args="* | T", returns="bigint")
def _count(call: AggregateCall) -> Typed:
    raw, distinct = call.raw, call.distinct
    if len(raw) == 1 and isinstance(raw[0], exp.Star):
        if distinct:
            raise QueryError("count(DISTINCT *) is not valid")
        return call.wrap("count", ["*"], tt.BIGINT)
    _arity("count", raw, 1)
    counted = call.tr.expr(raw[0], call.scope)
    if distinct:
        complex_compare.refuse_map_grouping(counted.type, "count(DISTINCT ...)")
    if distinct and counted.type.name == "timestamptz":  # one instant in two zones is one value
        return call.wrap("count", [f"({counted.sql}).i"], tt.BIGINT)
    _distinct_by_instant(distinct, [counted])
    return call.wrap("count", [counted.sql], tt.BIGINT)


def _contract(call: AggregateCall) -> Typed:
    args = call.arguments()
    return contract_aggregate(
        call.tr, call.name, call.raw, args, call.distinct, f"{call.filter_sql}{call.window}"
    )


_CONTRACT_SIGNATURES = {
    "approx_distinct": ("T[, e double]", "bigint"),
    "approx_percentile": (
        "x (a number)[, w bigint], percentage double | array(double)",
        "x's type | array of it",
    ),
    "arbitrary": ("T", "T"),
    "any_value": ("T", "T"),
}
for _name in sorted(CONTRACT_AGGREGATES):
    _args, _returns = _CONTRACT_SIGNATURES[_name]
    aggregates.aggregate(_name, args=_args, returns=_returns, contract=NOTES[_name])(_contract)


def _approximation(call: AggregateCall) -> Typed:
    call.arguments()
    raise UnsupportedQuery(
        f"{call.name}(): Athena's approximation cannot be reproduced exactly (use the exact aggregate, "
        "e.g. count(DISTINCT x), or run it on the AWS profile)"
    )


aggregates.aggregate(
    "approx_set", args="T", returns="HyperLogLog", refusal="Athena's sketch cannot be reproduced exactly"
)(_approximation)
aggregates.aggregate(
    "checksum", args="T", returns="varbinary", refusal="Athena's hash cannot be reproduced exactly"
)(_approximation)
aggregates.aggregate(
    "map_agg",
    args="key K, value V",
    returns="map(K, V)",
    refusal="which value a repeated key keeps is unspecified",
)(_approximation)


def _by_other_syntax(call: AggregateCall) -> Typed:
    call.arguments()
    raise UnsupportedQuery(f"the aggregate function {call.name}()")


# listagg is written WITHIN GROUP (sqlglot's GroupConcat, translated above); count_distinct is no
# Trino function, though an aggregate's name to the decorrelation (correlation.py).
aggregates.aggregate(
    "listagg", args="varchar[, separator varchar] WITHIN GROUP (ORDER BY ...)", returns="varchar"
)(_by_other_syntax)
aggregates.aggregate(
    "count_distinct", args="T", returns="bigint", refusal="not a Trino function: count(DISTINCT x)"
)(_by_other_syntax)


@aggregates.aggregate("count_if", args="boolean", returns="bigint")
def _count_if(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity("count_if", args, 1)
    if args[0].type.name not in ("boolean", "unknown"):
        raise QueryError("count_if() expects a boolean")
    # NULL conditions count as false: count_if(x = NULL) is 0.
    return call.wrap("count", [f"CASE WHEN {args[0].sql} THEN 1 END"], tt.BIGINT)


@aggregates.aggregate(
    "sum",
    args="integer types | decimal(p,s) | double | real",
    returns="bigint | decimal(38,s) | double | real",
)
def _sum(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity("sum", args, 1)
    t = args[0].type
    if t.is_integer:
        return call.wrap("sum", [args[0].sql], tt.BIGINT)
    if t.name == "decimal":
        return call.wrap("sum", [args[0].sql], tt.decimal(38, t.scale or 0))
    if t.name in ("double", "real"):
        return call.wrap("sum", [args[0].sql], t)
    raise UnsupportedQuery(f"sum() of {t.trino()}")


@aggregates.aggregate(
    "avg",
    args="integer types | decimal(p,s) | double | real",
    returns="double | decimal(p,s) | double | real",
)
def _avg(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity("avg", args, 1)
    t = args[0].type
    if t.is_integer or t.name in ("double", "real"):
        return call.wrap(
            "avg", [f"CAST({args[0].sql} AS DOUBLE)"], tt.DOUBLE if t.name != "real" else tt.REAL
        )
    if t.name == "decimal":
        total = call.wrap("sum", [args[0].sql], tt.decimal(38, t.scale or 0))
        count = call.wrap("count", [args[0].sql], tt.BIGINT)
        quotient = arithmetic("/", total, count)
        return cast(Typed(quotient.sql, quotient.type), t)
    raise UnsupportedQuery(f"avg() of {t.trino()}")


@aggregates.aggregate("min", "max", args="T (orderable)", returns="T")
def _extreme(call: AggregateCall) -> Typed:
    args = call.arguments()
    name = call.name
    _arity(name, args, 1)
    t = args[0].type
    if t.name == "timestamptz":  # by instant, keeping the value's zone
        return call.wrap(f"arg_{name}", [args[0].sql, f"({args[0].sql}).i"], t, cast_to=False)
    if t.name in ("double", "real"):
        # DuckDB orders NaN above every number; refuse the groups where that could matter.
        nan = f"bool_or(isnan({args[0].sql})){call.filter_sql}{call.window}"
        value = call.wrap(name, [args[0].sql], t, cast_to=False).sql
        return Typed(
            f"(CASE WHEN {nan} THEN error('not supported by the local engine: {name}() over NaN') "
            f"ELSE {value} END)",
            t,
        )
    if t.name in ("map", "json"):
        raise UnsupportedQuery(f"{name}() of {t.trino()}")
    return call.wrap(name, [args[0].sql], t, cast_to=False)


@aggregates.aggregate("max_by", "min_by", args="x T, y (orderable)", returns="T")
def _extreme_by(call: AggregateCall) -> Typed:
    args = call.arguments()
    name = call.name
    _arity(name, args, 2)
    if args[1].type.name in ("double", "real", "map", "json"):
        raise UnsupportedQuery(f"{name}() ordered by {args[1].type.trino()}")
    if args[1].type.name == "timestamptz":  # ordered by instant
        args = [args[0], Typed(f"({args[1].sql}).i", args[1].type)]
    # Ties pick an arbitrary row in Trino: only exact where the ordering key is unique.
    duck = "arg_max" if name == "max_by" else "arg_min"
    return call.wrap(duck, [args[0].sql, args[1].sql], args[0].type, cast_to=False)


@aggregates.aggregate("bool_and", "every", "bool_or", args="boolean", returns="boolean")
def _bool(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity(call.name, args, 1)
    duck = "bool_or" if call.name == "bool_or" else "bool_and"
    return call.wrap(duck, [args[0].sql], tt.BOOLEAN)


# Trino's statistical aggregate of one number and DuckDB's of the same definition.
_STATISTICS = {
    "stddev": "stddev_samp",
    "stddev_samp": "stddev_samp",
    "stddev_pop": "stddev_pop",
    "variance": "var_samp",
    "var_samp": "var_samp",
    "var_pop": "var_pop",
    "geometric_mean": "geomean",
}


@aggregates.aggregate(*_STATISTICS, args="double (any number)", returns="double")
def _statistic(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity(call.name, args, 1)
    return call.wrap(_STATISTICS[call.name], [_double(args[0])], tt.DOUBLE)


@aggregates.aggregate(
    "corr",
    "covar_samp",
    "covar_pop",
    args="y, x (double | real)",
    returns="double | real (of reals and integers)",
)
def _two_variable(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity(call.name, args, 2)
    # Trino has only (double, double) and (real, real) overloads; integers and reals coerce to
    # real, the more specific one, so corr(integer, integer) is a real (TestDistinctAggregations
    # .java:188). The real overload computes in double over the reals and rounds the result.
    if all(a.type.name in _TO_REAL_OVERLOAD for a in args):
        inputs = [f"CAST(CAST({a.sql} AS REAL) AS DOUBLE)" for a in args]
        return call.wrap(call.name, inputs, tt.REAL)
    return call.wrap(call.name, [_double(args[0]), _double(args[1])], tt.DOUBLE)


@aggregates.aggregate("array_agg", args="T [ORDER BY ...]", returns="array(T)", contract=NOTES["array_agg"])
def _array_agg(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity("array_agg", args, 1)
    # Without ORDER BY inside, Trino's order is unspecified: any order satisfies it (noted once).
    # Over a window the frame's own order is used, as Trino's frames are read in it.
    order_sql = call.order_sql
    if not order_sql:
        note(call.tr, "array_agg")
        order_sql = call.window_order
    text = f"array_agg({call.prefix}{args[0].sql}{order_sql}){call.filter_sql}{call.window}"
    return Typed(text, tt.array(args[0].type))


@aggregates.aggregate("histogram", args="T", returns="map(T, bigint)")
def _histogram(call: AggregateCall) -> Typed:
    args = call.arguments()
    _arity("histogram", args, 1)
    if holds_tstz(args[0].type):  # its map's keys would be (instant, zone) pairs, Trino's instants
        raise UnsupportedQuery(f"histogram() over values of type {args[0].type.trino()}")
    return call.wrap("histogram", [args[0].sql], tt.map_of(args[0].type, tt.BIGINT), cast_to=False)
