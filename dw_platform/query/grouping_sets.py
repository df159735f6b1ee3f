"""GROUP BY DISTINCT: Trino's set quantifier over grouping sets.

`GROUP BY a, ROLLUP (b, c), CUBE (d)` groups by the cross product of each element's grouping sets;
with DISTINCT, a set that comes out more than once (`ROLLUP (a, t.a)` gives {a} twice) is grouped by
once. DuckDB has no such quantifier (its GROUP BY ALL means something else), so the sets are
listed explicitly, each once, in the order they first come out.
"""

import itertools
from typing import TYPE_CHECKING

from sqlglot import exp

from dw_platform.query.scopes import Scope

if TYPE_CHECKING:
    from dw_platform.query.translator import Translator


def distinct_grouping_sets(tr: "Translator", group: exp.Group, scope: Scope) -> str:
    elements: list[list[tuple[str, ...]]] = []
    for expression in group.expressions:
        elements.append(_element_sets(tr, expression, scope))
    for key in ("rollup", "cube", "grouping_sets"):
        for node in group.args.get(key) or []:
            elements.append(_element_sets(tr, node, scope))
    seen: dict[frozenset[str], tuple[str, ...]] = {}
    for combination in itertools.product(*elements):
        members = tuple(dict.fromkeys(m for part in combination for m in part))
        seen.setdefault(frozenset(members), members)
    sets = ", ".join("(" + ", ".join(members) + ")" for members in seen.values())
    return f"GROUPING SETS ({sets})"


def _element_sets(tr: "Translator", node: exp.Expression, scope: Scope) -> list[tuple[str, ...]]:
    def text(e: exp.Expression) -> str:
        return e.name if isinstance(e, exp.Literal) and not e.is_string else tr.expr(e, scope).sql

    if isinstance(node, exp.Rollup):
        keys = [text(e) for e in node.expressions]
        return [tuple(keys[:n]) for n in range(len(keys), -1, -1)]
    if isinstance(node, exp.Cube):
        keys = [text(e) for e in node.expressions]
        return [
            tuple(k for k, keep in zip(keys, mask, strict=True) if keep)
            for mask in itertools.product([True, False], repeat=len(keys))
        ]
    if isinstance(node, exp.GroupingSets):
        return [tuple(text(e) for e in _members(s)) for s in node.expressions]
    return [(text(node),)]


def _members(grouping_set: exp.Expression) -> list[exp.Expression]:
    """The expressions of one set of GROUPING SETS: `()`, `(a)` (a Paren to sqlglot), `(a, b)`, `a`."""
    if isinstance(grouping_set, exp.Tuple):
        return list(grouping_set.expressions)
    if isinstance(grouping_set, exp.Paren):
        return [grouping_set.this]
    return [grouping_set]
