"""Name resolution for the translator: which columns (with their Trino types) a SELECT can see."""

import dataclasses

from dw_platform.query.sql import QueryError
from dw_platform.query.trino_types import TrinoType

Columns = list[tuple[str, TrinoType]]


@dataclasses.dataclass
class Scope:
    """The sources of one SELECT (alias -> columns), its outer scope for correlated subqueries, and
    names that bind before sources: lambda parameters and, in ORDER BY, the output columns."""

    parent: "Scope | None" = None
    sources: dict[str, dict[str, TrinoType]] = dataclasses.field(default_factory=dict)
    locals: dict[str, TrinoType] = dataclasses.field(default_factory=dict)

    def add(self, alias: str, columns: Columns) -> None:
        if alias in self.sources:
            raise QueryError(f"the name {alias!r} is used for two relations of one FROM clause")
        self.sources[alias] = dict(columns)

    def child(self, **locals_: TrinoType) -> "Scope":
        """A scope for a lambda body: its parameters shadow columns."""
        return Scope(parent=self, locals=dict(locals_))

    def resolve(self, table: str, name: str) -> TrinoType:
        scope: Scope | None = self
        while scope is not None:
            if not table and name in scope.locals:
                return scope.locals[name]
            if table and table in scope.sources:
                columns = scope.sources[table]
                if name in columns:
                    return columns[name]
                raise QueryError(f"column {name!r} cannot be resolved in {table!r}")
            if not table:
                owners = [cols[name] for cols in scope.sources.values() if name in cols]
                if len(owners) == 1:
                    return owners[0]
                if len(owners) > 1:
                    raise QueryError(f"column {name!r} is ambiguous")
            scope = scope.parent
        raise QueryError(f"column {'.'.join(p for p in (table, name) if p)!r} cannot be resolved")
