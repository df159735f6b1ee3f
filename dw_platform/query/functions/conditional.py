"""Trino's conditional expressions that are written as calls (functions/conditional.md) and typeof
(functions/conversion.md); CASE and IF are syntax (expressions.py)."""

from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.functions.checks import _arity, function_name
from dw_platform.query.functions.registry import REGISTRY, Family
from dw_platform.query.operators import Typed, coerce, coerce_all
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import UnsupportedQuery

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

conditional = Family("conditional")
conversion = Family("conversion")


# ---- conditional ---------------------------------------------------------------------------------
@conditional.scalar("coalesce", args="T, ...", returns="the arguments' common type")
def _coalesce(args: list[Typed]) -> Typed:
    values, common = coerce_all(args, "coalesce")
    return Typed(f"COALESCE({', '.join(v.sql for v in values)})", common)


@conditional.scalar("nullif", args="T, U (comparable)", returns="T")
def _nullif(args: list[Typed]) -> Typed:
    _arity("nullif", args, 2)
    (a, b), _ = coerce_all(args, "nullif")
    return Typed(
        f"(CASE WHEN ({a.sql}) = ({b.sql}) THEN NULL ELSE {coerce(args[0], args[0].type).sql} END)",
        args[0].type,
    )


@conversion.scalar("typeof", args="any", returns="varchar(n): the argument type's name")
def _typeof(args: list[Typed]) -> Typed:
    _arity("typeof", args, 1)
    name = args[0].type.trino()
    # The argument is still evaluated, so typeof(avg(x)) remains an aggregate.
    return Typed(
        f"(CASE WHEN ({args[0].sql}) IS NULL THEN '{name}' ELSE '{name}' END)", tt.varchar(len(name))
    )


@conditional.raw("try", args="any", returns="the argument's type")
def _try(tr: "Translator", raw: list[exp.Expression], scope: Scope) -> Typed:
    """try(x): NULL where Trino's evaluation of x fails. The local engine's own run-time refusals use
    DuckDB's error(), which DuckDB will not evaluate under TRY, so a refusal never turns into NULL."""
    _arity("try", raw, 1)
    for inner in raw[0].find_all(exp.Anonymous):
        spec = REGISTRY.get(function_name(inner))
        if spec is not None and spec.fails_at_run_time:
            raise UnsupportedQuery(f"try() around {function_name(inner)}()")
    value = tr.expr(raw[0], scope)
    return Typed(f"TRY({value.sql})", value.type)
