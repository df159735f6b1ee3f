"""Which partitions a query can touch, from its partition-key predicates.

For every reference to a partitioned table, the top-level AND-ed conditions of the enclosing
SELECT's WHERE that compare the partition key with literals (=, IN, BETWEEN, <, <=, >, >=) bound the
partitions it reads. A reference without such a bound needs every partition. The query itself is
still executed with its full WHERE, so pruning only skips files that cannot match.
"""

import dataclasses
from collections.abc import Iterable, Mapping

from sqlglot import exp


@dataclasses.dataclass(frozen=True)
class KeyBound:
    """Allowed values of a partition key: an explicit set and/or a range (None = unbounded)."""

    values: frozenset[str] | None = None
    low: str | None = None
    low_inclusive: bool = True
    high: str | None = None
    high_inclusive: bool = True

    @property
    def is_bounded(self) -> bool:
        return self.values is not None or (self.low is not None and self.high is not None)

    def allows(self, value: str) -> bool:
        if self.values is not None and value not in self.values:
            return False
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            return False
        return not (
            self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive))
        )

    def intersect(self, other: "KeyBound") -> "KeyBound":
        values = (
            self.values
            if other.values is None
            else (other.values if self.values is None else self.values & other.values)
        )
        low, low_inclusive = _tighter(self.low, self.low_inclusive, other.low, other.low_inclusive, max)
        high, high_inclusive = _tighter(self.high, self.high_inclusive, other.high, other.high_inclusive, min)
        return KeyBound(values, low, low_inclusive, high, high_inclusive)


def _tighter(a, a_inclusive, b, b_inclusive, pick):  # type: ignore[no-untyped-def]
    if a is None:
        return b, b_inclusive
    if b is None or a == b:
        return a, a_inclusive and (b_inclusive if a == b else True)
    chosen = pick(a, b)
    return chosen, a_inclusive if chosen == a else b_inclusive


@dataclasses.dataclass(frozen=True)
class TableReference:
    """One occurrence of a catalog table in a query, with the bound on its partition key (if any)."""

    table: str
    node: exp.Table
    bound: KeyBound | None


def _string_literal(node: exp.Expression) -> str | None:
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _conjuncts(condition: exp.Expression | None) -> Iterable[exp.Expression]:
    if condition is None:
        return []
    return list(condition.flatten()) if isinstance(condition, exp.And) else [condition]


_FLIPPED = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}


def _bound_of(condition: exp.Expression, is_key: "callable") -> KeyBound | None:  # type: ignore[valid-type]
    if isinstance(condition, exp.Paren):
        return _bound_of(condition.this, is_key)
    if isinstance(condition, exp.In) and is_key(condition.this) and not condition.args.get("query"):
        values = [_string_literal(v) for v in condition.expressions]
        return KeyBound(values=frozenset(values)) if values and None not in values else None
    if isinstance(condition, exp.Between) and is_key(condition.this):
        low, high = _string_literal(condition.args["low"]), _string_literal(condition.args["high"])
        return KeyBound(low=low, high=high) if low is not None and high is not None else None
    kind = type(condition)
    if kind not in _FLIPPED:
        return None
    left, right = condition.this, condition.expression
    if is_key(right) and not is_key(left):
        left, right, kind = right, left, _FLIPPED[kind]
    value = _string_literal(right)
    if not is_key(left) or value is None:
        return None
    return {
        exp.EQ: KeyBound(values=frozenset([value])),
        exp.GT: KeyBound(low=value, low_inclusive=False),
        exp.GTE: KeyBound(low=value),
        exp.LT: KeyBound(high=value, high_inclusive=False),
        exp.LTE: KeyBound(high=value),
    }[kind]


def table_references(
    tree: exp.Expression, database: str, partition_keys: Mapping[str, str | None]
) -> list[TableReference]:
    """Every reference in `tree` to a table of `partition_keys` (table -> key, None if unpartitioned),
    bare or qualified by `database`, with the bound its SELECT puts on the partition key."""
    cte_names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    references: list[TableReference] = []
    for node in tree.find_all(exp.Table):
        name, db = node.name, node.db
        if name not in partition_keys or db not in ("", database) or (not db and name in cte_names):
            continue
        key = partition_keys[name]
        references.append(TableReference(name, node, _bound_for(node, key, partition_keys) if key else None))
    return references


def _bound_for(node: exp.Table, key: str, partition_keys: Mapping[str, str | None]) -> KeyBound | None:
    select = node.find_ancestor(exp.Select)
    if select is None:
        return None
    alias = node.alias_or_name
    siblings = [t for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select]
    has_derived_source = any(
        isinstance(s, exp.Subquery) and s.find_ancestor(exp.Select) is select
        for s in select.find_all(exp.Subquery)
    )
    sharing_key = [t for t in siblings if partition_keys.get(t.name) == key]
    unqualified_is_ours = len(sharing_key) == 1 and not has_derived_source

    def is_key(column: exp.Expression) -> bool:
        if not isinstance(column, exp.Column) or column.name != key:
            return False
        return column.table == alias if column.table else unqualified_is_ours

    bound: KeyBound | None = None
    for condition in _conjuncts(select.args.get("where") and select.args["where"].this):
        found = _bound_of(condition, is_key)
        if found is not None:
            bound = found if bound is None else bound.intersect(found)
    return bound
