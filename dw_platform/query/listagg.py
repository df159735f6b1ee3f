"""listagg(x [, separator] [ON OVERFLOW ...]) WITHIN GROUP (ORDER BY ...) [FILTER (WHERE ...)].

Trino's listagg concatenates the non-null varchar values of a group in the WITHIN GROUP order,
NULL for a group without any; the result may hold at most 1048576 bytes. Past that, ON OVERFLOW
ERROR (the default) fails with Trino's message; ON OVERFLOW TRUNCATE is refused at run time rather
than truncated (where Trino cuts the text is not reproduced). It is not a window function.
sqlglot reads the call as GroupConcat, its WITHIN GROUP order as an Order around the value.
"""

from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query import trino_types as tt
from dw_platform.query.operators import Typed
from dw_platform.query.scopes import Scope
from dw_platform.query.sql import QueryError

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator

MAX_OUTPUT_BYTES = 1048576


def listagg(tr: "Translator", node: exp.GroupConcat, scope: Scope, filter_sql: str = "") -> Typed:
    order = node.this
    if not isinstance(order, exp.Order):
        raise QueryError("listagg requires WITHIN GROUP (ORDER BY ...)")
    value_node = order.this
    distinct = isinstance(value_node, exp.Distinct)
    if distinct:
        value_node = value_node.expressions[0]
    value = tr.expr(value_node, scope)
    if not (value.type.is_string or value.type.is_unknown):
        raise QueryError(f"Expected expression of varchar, but 'value' has {value.type.trino()} type")
    separator_node = node.args.get("separator")
    separator = "''"
    if separator_node is not None:
        typed = tr.expr(separator_node, scope)
        if not (isinstance(separator_node, exp.Literal) and separator_node.is_string):
            raise QueryError("listagg's separator must be a varchar literal")
        separator = typed.sql
    keys = ", ".join(tr._ordered(o, scope, 0) for o in order.expressions)
    prefix = "DISTINCT " if distinct else ""
    text = f"string_agg({prefix}{value.sql}, {separator} ORDER BY {keys}){filter_sql}"
    overflow = node.args.get("on_overflow")
    if isinstance(overflow, exp.OverflowTruncateBehavior):
        failure = (
            f"error('not supported by the local engine: listagg ON OVERFLOW TRUNCATE past "
            f"{MAX_OUTPUT_BYTES} bytes')"
        )
    else:
        failure = (
            "error('Concatenated string has the length in bytes larger than the maximum output "
            f"length {MAX_OUTPUT_BYTES}')"
        )
    checked = f"(CASE WHEN strlen({text}) > {MAX_OUTPUT_BYTES} THEN {failure} ELSE {text} END)"
    return Typed(checked, tt.VARCHAR)


def refuse_extra_arguments(tokens: list) -> None:  # type: ignore[type-arg]
    """Trino's grammar takes listagg(x [, separator] [ON OVERFLOW ...]); sqlglot drops a third
    argument silently, so a call with one is a syntax error here, as in Trino."""
    for index, token in enumerate(tokens):
        if token.text.upper() != "LISTAGG" or index + 1 >= len(tokens):
            continue
        if tokens[index + 1].token_type.name != "L_PAREN":
            continue
        depth, commas = 0, 0
        for inner in tokens[index + 1 :]:
            kind = inner.token_type.name
            if kind == "L_PAREN":
                depth += 1
            elif kind == "R_PAREN":
                depth -= 1
                if depth == 0:
                    break
            elif kind == "COMMA" and depth == 1:
                commas += 1
        if commas > 1:
            raise QueryError(
                "cannot parse query: listagg takes a value and a separator (mismatched input ',')"
            )
