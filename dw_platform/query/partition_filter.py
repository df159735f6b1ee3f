"""Which partitions each scan of a query can touch, from its partition-key predicates.

For every scan of a partitioned table, the top-level AND-ed conditions that compare that scan's
partition key column with literals (=, IN, BETWEEN, <, <=, >, >=) bound the partitions it reads,
wherever they bound the scan: its own SELECT's WHERE, and the ON clause of a join on whose side
unmatched rows are dropped (both sides of an inner join, the right side of a LEFT JOIN, the left
side of a RIGHT JOIN, neither side of a FULL JOIN). A row such a condition rejects never reaches
the result, so pruning it changes nothing; a LEFT JOIN's ON bound on its left table would (the left
row is kept, with NULLs), so it bounds nothing there. A scan without a bound needs every partition.
Columns are qualified first, so a predicate binds to exactly one scan. The query itself is still
executed with its full conditions, so pruning only skips files that cannot match.
"""

import dataclasses
from collections.abc import Iterable, Mapping

from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope


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
        if low is None or high is None:
            return None
        if condition.args.get("symmetric"):  # BETWEEN SYMMETRIC: either order of the ends
            low, high = min(low, high), max(low, high)
        return KeyBound(low=low, high=high)
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


def bound_of_conjuncts(conditions: Iterable[exp.Expression], alias: str, key: str) -> KeyBound | None:
    """The bound that the AND-ed `conditions` put on column `key` of the relation `alias` (columns are
    qualified, so a condition on another relation's column of the same name never counts)."""

    def is_key(column: exp.Expression) -> bool:
        return isinstance(column, exp.Column) and column.name == key and column.table == alias

    bound: KeyBound | None = None
    for condition in conditions:
        for conjunct in _conjuncts(condition):
            found = _bound_of(conjunct, is_key)
            if found is not None:
                bound = found if bound is None else bound.intersect(found)
    return bound


@dataclasses.dataclass(frozen=True)
class ScanReference:
    """One scan of a catalog table in a qualified query: the node, its alias and its own bound."""

    table: str
    node: exp.Table
    bound: KeyBound | None


def find_scans(
    tree: exp.Expression, database: str, partition_keys: Mapping[str, str | None]
) -> list[ScanReference]:
    """Every scan of a catalog table in a qualified `tree`, each with the bound that the conditions
    of its own SELECT put on the partition key (see the module's docstring for which do). CTE
    references are not scans: the CTE's own SELECT is."""
    found: list[ScanReference] = []
    for scope in traverse_scope(tree):
        select = scope.expression
        where, by_source = _conditions(select) if isinstance(select, exp.Select) else ([], {})
        for alias, source in scope.sources.items():
            if not isinstance(source, exp.Table) or source.name not in partition_keys:
                continue
            if source.db not in ("", database):
                continue
            key = partition_keys[source.name]
            own = [*where, *by_source.get(alias, [])]
            bound = bound_of_conjuncts(own, alias, key) if key else None
            found.append(ScanReference(source.name, source, bound))
    return found


def _conditions(select: exp.Select) -> tuple[list[exp.Expression], dict[str, list[exp.Expression]]]:
    """The conditions that may prune the sources of `select`: its WHERE (every source), and by alias
    each join's ON, for the sources on the sides whose unmatched rows it drops."""
    where = [select.args["where"].this] if select.args.get("where") else []
    by_source: dict[str, list[exp.Expression]] = {}
    origin = select.args.get("from_")
    left = _aliases(origin.this) if origin is not None else []
    for join in select.args.get("joins") or []:
        right = _aliases(join.this)
        on = join.args.get("on")
        if on is not None:
            side = (join.side or "").upper()
            pruned = {"": [*left, *right], "LEFT": right, "RIGHT": left}.get(side, [])
            for alias in pruned:
                by_source.setdefault(alias, []).append(on)
        left = [*left, *right]
    return where, by_source


def _aliases(source: exp.Expression) -> list[str]:
    """The aliases a join side brings into the SELECT: a table's, a derived table's, or every table
    of a parenthesized join (`LEFT JOIN (a JOIN b ON ...) ON ...`)."""
    if isinstance(source, exp.Subquery) and not source.alias and isinstance(source.this, exp.Table):
        return _aliases(source.this)
    nested = [a for join in source.args.get("joins") or [] for a in _aliases(join.this)]
    return [a for a in [source.alias_or_name, *nested] if a]
