"""Name resolution for the translator: which columns (with their Trino types) a SELECT can see."""

import dataclasses
from collections.abc import Iterable

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
                hint = columns_hint({table: list(columns)})
                raise QueryError(f"column {name!r} cannot be resolved in {table!r}; {hint}")
            if not table:
                owners = [cols[name] for cols in scope.sources.values() if name in cols]
                if len(owners) == 1:
                    return owners[0]
                if len(owners) > 1:
                    raise QueryError(f"column {name!r} is ambiguous")
            scope = scope.parent
        written = ".".join(p for p in (table, name) if p)
        raise QueryError(f"column {written!r} cannot be resolved; {columns_hint(self.visible())}")

    def visible(self) -> dict[str, list[str]]:
        """The columns each source in reach has, innermost first (lambda parameters aside)."""
        found: dict[str, list[str]] = {}
        scope: Scope | None = self
        while scope is not None:
            for alias, columns in scope.sources.items():
                found.setdefault(alias, list(columns))
            scope = scope.parent
        return found


# At most this many column names in an error message.
HINT_COLUMNS = 30


def columns_hint(sources: dict[str, list[str]]) -> str:
    """The columns there are, for an error naming one that is not: `impressions has columns id,
    session_id, ...` (hidden columns such as "$path" left out)."""
    shown = {alias: [c for c in columns if not c.startswith("$")] for alias, columns in sources.items()}
    if not shown:
        return "no relation in scope has columns"
    parts = [f"{alias} has columns {', '.join(columns) or '(none)'}" for alias, columns in shown.items()]
    text = "; ".join(parts)
    names = [c for columns in shown.values() for c in columns]
    if len(names) > HINT_COLUMNS:
        text = "columns: " + ", ".join(names[:HINT_COLUMNS]) + ", ..."
    return text


def tables_hint(database: str, tables: Iterable[str]) -> str:
    """What a query naming a missing table needs: the tables there are."""
    names = sorted(tables)
    return f"the tables of {database} are {', '.join(names)}" if names else f"{database} has no tables"
