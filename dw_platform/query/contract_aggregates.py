"""Aggregates whose documented contract admits more than one answer, answered with one of them.

Trino documents `approx_distinct` by its standard error, `approx_percentile` by its rank error,
`arbitrary`/`any_value` as "an arbitrary non-null value" and `array_agg` without ORDER BY as an array
of the input values (in no stated order). The exact count, an exact percentile, one of the group's
values and the values in the order DuckDB reads them satisfy those contracts, so the local engine
answers with them and says so once (`Translation.notes`, printed by `dw query` on stderr).
"""

from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.instant_keys import instant_of, refuse_nested
from dw_platform.query.operators import Typed
from dw_platform.query.sql import QueryError, UnsupportedQuery
from dw_platform.query.trino_types import TrinoType

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

CONTRACT_AGGREGATES = {"approx_distinct", "approx_percentile", "arbitrary", "any_value"}

# approx_distinct(x, e): the range Trino's HyperLogLog accepts for the maximum standard error.
MIN_STANDARD_ERROR = 0.0040625
MAX_STANDARD_ERROR = 0.26
# approx_percentile(x, w, p) replicates each value w times to take the exact weighted percentile;
# beyond this many replicas in one group the local engine refuses instead of exhausting memory.
MAX_WEIGHT_TOTAL = 10_000_000

NOTES = {
    "approx_distinct": "approx_distinct answered exactly (within Athena's documented error)",
    "approx_percentile": "approx_percentile answered with an exact percentile (within Athena's rank error)",
    "arbitrary": "arbitrary answered with one of the group's non-null values (any one satisfies it)",
    "any_value": "any_value answered with one of the group's non-null values (any one satisfies it)",
    "array_agg": "array_agg without ORDER BY: the elements come in an unspecified order, as in Athena",
}


def note(tr: "Translator", name: str) -> None:
    if NOTES[name] not in tr.notes:
        tr.notes.append(NOTES[name])


def contract_aggregate(
    tr: "Translator",
    name: str,
    raw: list[exp.Expression],
    args: list[Typed],
    distinct: bool,
    suffix: str,
) -> Typed:
    """DuckDB text for one of CONTRACT_AGGREGATES (arguments already translated)."""
    note(tr, name)
    if name in ("arbitrary", "any_value"):
        if len(args) != 1:
            raise UnsupportedQuery(f"{name}() with {len(args)} arguments")
        # DuckDB's any_value skips NULLs, as Trino's arbitrary does.
        return Typed(f"any_value({args[0].sql}){suffix}", args[0].type)
    if name == "approx_distinct":
        return _approx_distinct(raw, args, suffix)
    return _approx_percentile(raw, args, distinct, suffix)


def _approx_distinct(raw: list[exp.Expression], args: list[Typed], suffix: str) -> Typed:
    if len(args) not in (1, 2):
        raise UnsupportedQuery(f"approx_distinct() with {len(args)} arguments")
    if len(args) == 2:
        _standard_error(raw[1], args[1])
    refuse_nested(args[0].type, "approx_distinct()")
    # Zero when every input is NULL, as count(DISTINCT x) is; a timestamp with time zone by instant.
    return Typed(f"count(DISTINCT {instant_of(args[0])}){suffix}", tt.BIGINT)


def _standard_error(node: exp.Expression, arg: Typed) -> None:
    if not (arg.type.is_numeric and arg.type.name in ("double", "real", "decimal")):
        raise QueryError(f"approx_distinct(x, e) expects a double e, got {arg.type.trino()}")
    value = _number(node)
    if value is None:
        raise UnsupportedQuery("approx_distinct(x, e) with an e that is not a literal")
    if not MIN_STANDARD_ERROR <= value <= MAX_STANDARD_ERROR:
        raise QueryError(
            f"Max standard error must be in [{MIN_STANDARD_ERROR}, {MAX_STANDARD_ERROR:.5f}]: {value}"
        )


def _number(node: exp.Expression) -> float | None:
    """The value of a numeric literal (`0.5`, `-1`, `DOUBLE '0.5'` aside), else None."""
    negative = isinstance(node, exp.Neg)
    literal = node.this if negative else node
    if not (isinstance(literal, exp.Literal) and not literal.is_string):
        return None
    return -float(literal.name) if negative else float(literal.name)


def _approx_percentile(raw: list[exp.Expression], args: list[Typed], distinct: bool, suffix: str) -> Typed:
    if len(args) not in (2, 3):
        raise UnsupportedQuery(f"approx_percentile() with {len(args)} arguments")
    if distinct:
        raise UnsupportedQuery("approx_percentile(DISTINCT ...)")
    value, percentage = args[0], args[-1]
    if not (value.type.is_numeric or value.type.is_unknown):
        raise QueryError(f"approx_percentile() expects a number, got {value.type.trino()}")
    if value.type.name == "decimal":
        raise UnsupportedQuery("approx_percentile() of decimal")
    many = percentage.type.name == "array"
    inner: TrinoType = percentage.type.element if many else percentage.type
    if not (inner.is_numeric or inner.is_unknown):
        raise QueryError(f"approx_percentile() expects a double percentage, got {percentage.type.trino()}")
    # Trino requires the percentages constant; DuckDB's quantile_disc does too.
    written = raw[-1].expressions if many and isinstance(raw[-1], exp.Array) else [raw[-1]]
    numbers = [_number(n) for n in written]
    if any(n is None for n in numbers) or (many and not isinstance(raw[-1], exp.Array)):
        raise UnsupportedQuery("approx_percentile() with a percentage that is not a literal")
    for number in numbers:
        if not 0 <= float(number or 0) <= 1:
            raise QueryError("Percentile must be between 0 and 1")
    checked = f"[{', '.join(str(n) for n in numbers)}]" if many else str(numbers[0])
    result = tt.array(value.type) if many else value.type
    if len(args) == 2:
        # quantile_disc picks a value of the input at the percentile's rank: an exact percentile.
        return Typed(f"quantile_disc({value.sql}, {checked}){suffix}", result)
    weight = args[1]
    if not weight.type.is_integer:
        raise UnsupportedQuery(f"approx_percentile() weighted by {weight.type.trino()}")
    # An integer weight is a replication count (Trino's documentation): the weighted percentile is the
    # plain percentile of the values replicated.
    w = f"CAST({weight.sql} AS BIGINT)"
    guarded = (
        f"CASE WHEN {w} < 1 THEN error('percentile weight must be > 0') "
        f"WHEN {w} > {MAX_WEIGHT_TOTAL} THEN error('not supported by the local engine: "
        f"approx_percentile() with weights above {MAX_WEIGHT_TOTAL}') ELSE {w} END"
    )
    replicas = f"flatten(list(repeat([{value.sql}], {guarded})){suffix})"
    total = f"sum({w}){suffix}"
    text = (
        f"(CASE WHEN {total} > {MAX_WEIGHT_TOTAL} THEN error('not supported by the local engine: "
        f"approx_percentile() with a total weight above {MAX_WEIGHT_TOTAL}') "
        f"ELSE list_aggregate({replicas}, 'quantile_disc', {checked}) END)"
    )
    return Typed(f"CAST({text} AS {result.duckdb()})", result)
