"""Athena (Trino) SQL -> DuckDB SQL with Trino's semantics, or a refusal naming what is not supported.

The query is parsed so that every function call keeps the name and arguments it was written with,
qualified with sqlglot's optimizer against the catalog (every column attributed to its relation),
then translated bottom-up: each expression gets its Trino type, and the DuckDB text emitted for it
computes Trino's value for that type (integer division truncates, decimals keep Trino's precision and
scale, timestamps with time zone keep their zone). Anything not on the translator's list, a node type
or a function, is refused: the local engine never guesses.
"""

import dataclasses
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.trino import Trino
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from dw_platform.query import trino_types as tt
from dw_platform.query.operators import Typed, cast
from dw_platform.query.partition_filter import KeyBound, find_scans
from dw_platform.query.scopes import Columns, Scope, columns_hint, tables_hint
from dw_platform.query.sql import QueryError, UnsupportedQuery, describe_parse_error, parse_statement
from dw_platform.query.trino_types import TrinoType
from dw_platform.query.zoned_text import instant_guard, zoned_literal_type


class WrittenTrino(Trino):
    """Trino's grammar, with every function call kept as written (name and argument order), so the
    translator's function table is keyed by Trino's own names."""

    class Parser(Trino.Parser):
        FUNCTIONS: dict = {}
        # sqlglot parses these two with parsers of their own (for `FLOOR(x TO unit)`, not Trino's
        # grammar), which would bypass the function table
        FUNCTION_PARSERS: dict = {
            k: v for k, v in Trino.Parser.FUNCTION_PARSERS.items() if k not in {"FLOOR", "CEIL"}
        }


HIDDEN_COLUMNS: Columns = [
    ("$path", tt.VARCHAR),
    ("$file_size", tt.BIGINT),
    ("$file_modified_time", tt.timestamptz(3)),
]


@dataclasses.dataclass(frozen=True)
class TableShape:
    """A catalog table as queries see it."""

    name: str
    columns: Columns
    partition_key: str | None


@dataclasses.dataclass(frozen=True)
class Scan:
    """One reference to a catalog table in a query: it reads through its own view, with the bound
    its own SELECT puts on the partition key (None: every partition)."""

    view: str
    table: str
    bound: KeyBound | None


@dataclasses.dataclass(frozen=True)
class Translation:
    sql: str
    columns: Columns
    scans: tuple[Scan, ...]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def parse_written(sql: str) -> exp.Expression:
    """One statement in Trino's grammar, function calls as written (see WrittenTrino)."""
    _refuse_limit_before_offset(sql)
    return parse_statement(_decimal_literals(sql), dialect=WrittenTrino)


def _decimal_literals(sql: str) -> str:
    """`DECIMAL '1.50'` is a literal of type decimal(3,2); sqlglot reads it as CAST('1.50' AS DECIMAL),
    which Trino types decimal(38,0). Spell the literal's own type out before parsing."""
    tokens = sqlglot.tokenize(sql, read=WrittenTrino)
    pieces, last = [], 0
    for token, following in itertools.pairwise(tokens):
        if token.token_type.name == "DECIMAL" and following.token_type.name == "STRING":
            text = following.text.strip()
            found = re.fullmatch(r"([+-]?)(\d*)(?:\.(\d*))?", text)
            if not found or not (found.group(2) or found.group(3)):
                raise QueryError(f"invalid decimal literal {text!r}")
            sign, whole, fraction = found.group(1), found.group(2), found.group(3) or ""
            precision, scale = max(1, len(whole + fraction)), len(fraction)
            value = f"{sign}{whole or '0'}.{fraction or '0'}"
            pieces += [sql[last : token.start], f"CAST({value} AS DECIMAL({precision}, {scale}))"]
            last = following.end + 1  # past the closing quote
        elif token.token_type.name == "TIMESTAMP" and following.token_type.name == "STRING":
            # TIMESTAMP '2001-1-22 +07:09' has a zone, which sqlglot sees only after a time of day.
            zoned = zoned_literal_type(following.text)
            if zoned:
                literal = "'" + following.text.replace("'", "''") + "'"
                pieces += [sql[last : token.start], f"CAST({literal} AS {zoned})"]
                last = following.end + 1
    return "".join(pieces) + sql[last:]


def _refuse_limit_before_offset(sql: str) -> None:
    """Trino's grammar has OFFSET before LIMIT; `LIMIT m OFFSET n` is a syntax error there."""
    try:
        tokens = sqlglot.tokenize(sql, read=WrittenTrino)
    except sqlglot.errors.TokenError as error:
        raise QueryError(describe_parse_error(error)) from None
    depth, limit_at = 0, {}
    for token in tokens:
        kind = token.token_type.name
        if kind == "L_PAREN":
            depth += 1
        elif kind == "R_PAREN":
            limit_at.pop(depth, None)
            depth -= 1
        elif kind == "LIMIT":
            limit_at[depth] = True
        elif kind == "OFFSET" and limit_at.get(depth):
            raise QueryError("cannot parse query: OFFSET must come before LIMIT (OFFSET n LIMIT m)")
        elif kind in ("UNION", "INTERSECT", "EXCEPT", "SEMICOLON"):
            limit_at.pop(depth, None)


class Translator:
    def __init__(self, tables: Mapping[str, TableShape], database: str) -> None:
        self.tables = tables
        self.database = database
        self.scans: list[Scan] = []
        self._bounds: dict[int, KeyBound | None] = {}

    # ---- entry ------------------------------------------------------------------------------------
    def translate(self, tree: exp.Expression) -> Translation:
        if not isinstance(tree, exp.Query | exp.Values):
            raise QueryError(f"only queries (SELECT, WITH, VALUES, ...) are accepted, got {tree.key.upper()}")
        _mark_unnamed_projections(tree)
        self._refuse_unknown_tables(tree)
        tree = self._qualify(tree)
        keys = {name: shape.partition_key for name, shape in self.tables.items()}
        self._bounds = {id(r.node): r.bound for r in find_scans(tree, self.database, keys)}
        sql, columns = self.query(tree, None, {})
        unnamed = _unnamed_positions(tree)
        named = [(f"_col{i}" if i in unnamed else name, t) for i, (name, t) in enumerate(columns)]
        # Output columns are picked by position: two may share a name (SELECT a.name, b.name).
        positions = ", ".join(f"__dw_c{i}" for i in range(len(columns)))
        rendered = ", ".join(
            f"{render_for_output(f'__dw_c{i}', t)} AS {quote(out)}" for i, (out, t) in enumerate(named)
        )
        return Translation(
            f"SELECT {rendered} FROM ({sql}) AS __dw_result({positions})", named, tuple(self.scans)
        )

    def _refuse_unknown_tables(self, tree: exp.Expression) -> None:
        """A table that does not exist is named first (not a column it was to resolve)."""
        # Names are case-insensitive, as in Athena (qualify lowers them next).
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for node in tree.find_all(exp.Table):
            name, db, catalog = node.name.lower(), node.db.lower(), node.catalog.lower()
            if isinstance(node.this, exp.Func | exp.Anonymous) or (not db and name in ctes):
                continue
            foreign = db not in ("", self.database) or catalog not in ("", "awsdatacatalog")
            if foreign or name not in self.tables:
                named = ".".join(p for p in (catalog, db or self.database, name) if p)
                raise QueryError(f"table {named} does not exist; {tables_hint(self.database, self.tables)}")

    def _qualify(self, tree: exp.Expression) -> exp.Expression:
        if not self.tables:  # sqlglot refuses a database without tables; queries of no table still run
            return self._qualify_against({}, {}, tree)
        mapping = {
            self.database: {
                name: {c: t.trino() for c, t in [*shape.columns, *HIDDEN_COLUMNS]}
                for name, shape in self.tables.items()
            }
        }
        visible = {
            self.database: {name: [c for c, _ in shape.columns] for name, shape in self.tables.items()}
        }
        return self._qualify_against(mapping, visible, tree)

    def _qualify_against(
        self, mapping: dict[str, Any], visible: dict[str, Any], tree: exp.Expression
    ) -> exp.Expression:
        schema = MappingSchema(mapping, visible=visible, dialect="trino")
        try:
            return qualify(
                tree,
                schema=schema,
                dialect="trino",
                db=self.database,
                expand_alias_refs=False,
                quote_identifiers=False,
                identify=False,
            )
        except OptimizeError as error:
            raise QueryError(self._optimizer_message(tree, str(error))) from None

    def _optimizer_message(self, tree: exp.Expression, message: str) -> str:
        """sqlglot's resolution error in the platform's words, with what the query could name."""
        read = {
            t.alias_or_name: [c for c, _ in self.tables[t.name].columns]
            for t in tree.find_all(exp.Table)
            if t.name in self.tables and t.db in ("", self.database)
        }
        found = re.search(r"Column '(.+?)' could not be resolved", message) or re.search(
            r"Unknown column: (\S+)", message
        )
        if found:
            return f"column {found.group(1)!r} cannot be resolved; {columns_hint(read)}"
        found = re.search(r"Unknown table: '?([^']+)'?", message)
        if found:
            return f"table {found.group(1)} does not exist; {tables_hint(self.database, self.tables)}"
        return f"cannot resolve the query: {message.splitlines()[0]}"

    # ---- queries ------------------------------------------------------------------------------------
    def query(
        self, node: exp.Expression, outer: Scope | None, ctes: Mapping[str, Columns]
    ) -> tuple[str, Columns]:
        """DuckDB text of a query node and its output columns with their Trino types."""
        if isinstance(node, exp.Subquery):
            inner, columns = self.query(node.this, outer, ctes)
            return self._with_order_limit(node, inner, columns, outer, ctes)
        with_sql, ctes = self._with(node, outer, ctes)
        if isinstance(node, exp.Select):
            sql, columns = self._select(node, outer, ctes)
        elif isinstance(node, exp.SetOperation):
            sql, columns = self._set_operation(node, outer, ctes)
            sql, columns = self._with_order_limit(node, sql, columns, outer, ctes)
        elif isinstance(node, exp.Values):
            sql, columns = self._values(node, outer)
        else:
            raise UnsupportedQuery(f"{node.key.upper()} queries")
        return with_sql + sql, columns

    def _with(
        self, node: exp.Expression, outer: Scope | None, ctes: Mapping[str, Columns]
    ) -> tuple[str, Mapping[str, Columns]]:
        with_ = node.args.get("with_") or node.args.get("with")
        if not with_:
            return "", ctes
        if with_.args.get("recursive"):
            raise UnsupportedQuery("WITH RECURSIVE")
        ctes = dict(ctes)
        parts = []
        for cte in with_.expressions:
            sql, columns = self.query(cte.this, outer, ctes)
            names = [c.name for c in cte.args["alias"].columns] if cte.args["alias"].columns else None
            if names:
                columns = _renamed(columns, names)
            ctes[cte.alias] = columns
            parts.append(f"{quote(cte.alias)}{_column_list(columns)} AS ({sql})")
        return "WITH " + ", ".join(parts) + " ", ctes

    def _select(
        self, select: exp.Select, outer: Scope | None, ctes: Mapping[str, Columns]
    ) -> tuple[str, Columns]:
        allowed = {
            "with",
            "with_",
            "expressions",
            "from",
            "from_",
            "joins",
            "where",
            "group",
            "having",
            "order",
            "limit",
            "offset",
            "distinct",
            "kind",
        }
        for key, value in select.args.items():
            if value and key not in allowed:
                raise UnsupportedQuery(f"the {key.upper()} clause")
        scope = Scope(parent=outer)
        parts = ["SELECT"]
        distinct = select.args.get("distinct")
        if distinct:
            if distinct.args.get("on"):
                raise UnsupportedQuery("DISTINCT ON")
            parts.append("DISTINCT")
        from_sql = ""
        from_ = select.args.get("from_") or select.args.get("from")
        if from_:
            from_sql = " FROM " + self._source(from_.this, scope, ctes)
            for join in select.args.get("joins") or []:
                from_sql += self._join(join, scope, ctes)
        projections, columns, typed_projections = [], [], []
        for projection in select.expressions:
            name = projection.alias_or_name
            body = projection.this if isinstance(projection, exp.Alias) else projection
            if isinstance(body, exp.Star):
                raise UnsupportedQuery("SELECT * over this source")
            typed = self.expr(body, scope)
            projections.append(f"{typed.sql} AS {quote(name)}")
            columns.append((name, typed.type))
            typed_projections.append(typed)
        parts.append(", ".join(projections))
        sql = " ".join(parts) + from_sql
        where = select.args.get("where")
        if where:
            sql += " WHERE " + self.boolean(where.this, scope).sql
        group = select.args.get("group")
        if group:
            sql += " GROUP BY " + self._group(group, scope)
        having = select.args.get("having")
        if having:
            sql += " HAVING " + self.boolean(having.this, scope).sql
        if distinct and not group:
            # (GROUP BY keys are not guarded: the window doubles the event-hour histogram's CPU.)
            sql += instant_guard(typed_projections)
        order_scope = Scope(parent=scope, locals={n: t for n, t in columns})
        sql, columns = self._order_limit(select, sql, columns, order_scope)
        return sql, columns

    def _with_order_limit(
        self,
        node: exp.Expression,
        sql: str,
        columns: Columns,
        outer: Scope | None,
        ctes: Mapping[str, Columns],
    ) -> tuple[str, Columns]:
        if not any(node.args.get(k) for k in ("order", "limit", "offset")):
            return sql, columns
        scope = Scope(parent=outer)
        scope.add("__dw_set", columns)
        order_scope = Scope(parent=scope, locals=dict(columns))
        return self._order_limit(node, f"SELECT * FROM ({sql}) AS __dw_set", columns, order_scope)

    def _order_limit(
        self, node: exp.Expression, sql: str, columns: Columns, scope: Scope
    ) -> tuple[str, Columns]:
        order = node.args.get("order")
        if order:
            sql += " ORDER BY " + ", ".join(self._ordered(o, scope, len(columns)) for o in order.expressions)
        offset = node.args.get("offset")
        limit = node.args.get("limit")
        if limit is not None:
            if isinstance(limit, exp.Fetch):
                count = limit.args.get("count")
                options = limit.args.get("limit_options")
                if options is not None and (options.args.get("with_ties") or options.args.get("percent")):
                    raise UnsupportedQuery("FETCH ... WITH TIES / PERCENT")
                sql += f" LIMIT {_count_literal(count, 'FETCH FIRST') if count is not None else 1}"
            else:
                expression = limit.expression
                if not (isinstance(expression, exp.Var) and expression.name.upper() == "ALL"):
                    sql += f" LIMIT {_count_literal(expression, 'LIMIT')}"
        if offset is not None:
            sql += f" OFFSET {_count_literal(offset.expression, 'OFFSET')}"
        return sql, columns

    def _ordered(self, ordered: exp.Expression, scope: Scope, width: int) -> str:
        if not isinstance(ordered, exp.Ordered):
            ordered = exp.Ordered(this=ordered, desc=False, nulls_first=False)
        key = ordered.this
        if isinstance(key, exp.Literal) and not key.is_string:
            position = int(key.name)
            if not 1 <= position <= width:
                raise QueryError(f"ORDER BY position {position} is not in the select list")
            text = str(position)
        else:
            typed = self.expr(key, scope)
            _refuse_unorderable(typed.type)
            text = typed.sql
        direction = " DESC" if ordered.args.get("desc") else " ASC"
        nulls = " NULLS FIRST" if ordered.args.get("nulls_first") else " NULLS LAST"
        return text + direction + nulls

    def _group(self, group: exp.Group, scope: Scope) -> str:
        items = []
        for expression in group.expressions:
            if isinstance(expression, exp.Literal) and not expression.is_string:
                items.append(expression.name)
            elif isinstance(expression, exp.Rollup | exp.Cube):
                keyword = "ROLLUP" if isinstance(expression, exp.Rollup) else "CUBE"
                items.append(
                    f"{keyword} ({', '.join(self.expr(e, scope).sql for e in expression.expressions)})"
                )
            elif isinstance(expression, exp.GroupingSets):
                items.append(self._grouping_sets(expression, scope))
            else:
                items.append(self.expr(expression, scope).sql)
        for key, keyword in (("rollup", "ROLLUP"), ("cube", "CUBE")):
            for node in group.args.get(key) or []:
                items.append(f"{keyword} ({', '.join(self.expr(e, scope).sql for e in node.expressions)})")
        for node in group.args.get("grouping_sets") or []:
            items.append(self._grouping_sets(node, scope))
        if group.args.get("all") is not None:  # Trino's set quantifier (DuckDB's GROUP BY ALL differs)
            raise UnsupportedQuery(f"GROUP BY {'ALL' if group.args['all'] else 'DISTINCT'}")
        if group.args.get("totals"):
            raise UnsupportedQuery("WITH TOTALS")
        return ", ".join(items)

    def _grouping_sets(self, node: exp.Expression, scope: Scope) -> str:
        sets = []
        for grouping_set in node.expressions:
            members = grouping_set.expressions if isinstance(grouping_set, exp.Tuple) else [grouping_set]
            sets.append("(" + ", ".join(self.expr(e, scope).sql for e in members) + ")")
        return f"GROUPING SETS ({', '.join(sets)})"

    def _set_operation(
        self, node: exp.SetOperation, outer: Scope | None, ctes: Mapping[str, Columns]
    ) -> tuple[str, Columns]:
        left_sql, left = self.query(node.left, outer, ctes)
        right_sql, right = self.query(node.right, outer, ctes)
        if len(left) != len(right):
            raise QueryError(f"the sides of {node.key.upper()} have {len(left)} and {len(right)} columns")
        types = []
        for (name, a), (_, b) in zip(left, right, strict=True):
            common = tt.common_super_type(a, b)
            if common is None:
                raise QueryError(
                    f"column {name!r} of {node.key.upper()} has types {a.trino()} and {b.trino()}"
                )
            types.append(common)
        columns = [(name, t) for (name, _), t in zip(left, types, strict=True)]
        keyword = {exp.Union: "UNION", exp.Intersect: "INTERSECT", exp.Except: "EXCEPT"}[type(node)]
        if node.args.get("distinct") is False:
            keyword += " ALL"
        if node.args.get("by_name"):
            raise UnsupportedQuery(f"{keyword} BY NAME")
        sides = [self._coerced_side(sql, side, types) for sql, side in ((left_sql, left), (right_sql, right))]
        return f"({sides[0]}) {keyword} ({sides[1]})", columns

    def _coerced_side(self, sql: str, side: Columns, types: Sequence[TrinoType]) -> str:
        if all(t == target for (_, t), target in zip(side, types, strict=True)):
            return sql
        casts = ", ".join(
            f"{cast(Typed(quote(n), t), target).sql} AS {quote(n)}"
            for (n, t), target in zip(side, types, strict=True)
        )
        return f"SELECT {casts} FROM ({sql}) AS __dw_side"

    def _values(self, node: exp.Values, outer: Scope | None) -> tuple[str, Columns]:
        scope = Scope(parent=outer)
        rows: list[list[Typed]] = []
        for row in node.expressions:
            members = row.expressions if isinstance(row, exp.Tuple) else [row]
            rows.append([self.expr(m, scope) for m in members])
        width = len(rows[0])
        if any(len(r) != width for r in rows):
            raise QueryError("VALUES rows have different numbers of columns")
        types = []
        for index in range(width):
            common: TrinoType | None = tt.UNKNOWN
            for r in rows:
                common = tt.common_super_type(common, r[index].type) if common else None
            if common is None:
                raise QueryError(f"VALUES column {index + 1} mixes incompatible types")
            types.append(common)
        alias = node.args.get("alias")
        names = (
            [c.name for c in alias.columns] if alias and alias.columns else [f"_col{i}" for i in range(width)]
        )
        if len(names) != width:
            raise QueryError(f"VALUES has {width} columns but its alias names {len(names)}")
        text = ", ".join(
            "("
            + ", ".join(cast(v, t).sql if v.type != t else v.sql for v, t in zip(r, types, strict=True))
            + ")"
            for r in rows
        )
        columns = list(zip(names, types, strict=True))
        return f"SELECT * FROM (VALUES {text}) AS __dw_values{_column_list(columns)}", columns

    # ---- sources ----------------------------------------------------------------------------------
    def _source(self, node: exp.Expression, scope: Scope, ctes: Mapping[str, Columns]) -> str:
        alias_node = node.args.get("alias")
        alias = node.alias_or_name
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Func | exp.Anonymous):
            raise QueryError(
                f"{node.this.sql('trino')[:40]} is not Athena SQL: table functions (read_csv, read_parquet, "
                "glob, ...) are refused"
            )
        if isinstance(node, exp.Table):
            if node.args.get("sample") or node.args.get("joins") or node.args.get("pivots"):
                raise UnsupportedQuery(f"this use of table {node.name!r} (TABLESAMPLE, PIVOT)")
            if id(node) not in self._bounds and not node.db and node.name in ctes:
                columns = ctes[node.name]
                scope.add(alias, columns)
                return f"{quote(node.name)} AS {quote(alias)}"
            if node.db not in ("", self.database) or node.catalog not in ("", "awsdatacatalog"):
                named = ".".join(p for p in (node.catalog, node.db, node.name) if p)
                raise QueryError(f"table {named} does not exist; {tables_hint(self.database, self.tables)}")
            shape = self.tables.get(node.name)
            if shape is None:
                raise QueryError(
                    f"table {self.database}.{node.name} does not exist; "
                    + tables_hint(self.database, self.tables)
                )
            view = f"__dw_scan_{len(self.scans)}"
            self.scans.append(Scan(view, shape.name, self._bounds.get(id(node))))
            scope.add(alias, [*shape.columns, *HIDDEN_COLUMNS])
            return f"{quote(view)} AS {quote(alias)}"
        if isinstance(node, exp.Subquery):
            sql, columns = self.query(node.this, None, ctes)
            if alias_node is not None and alias_node.columns:
                columns = _renamed(columns, [c.name for c in alias_node.columns])
            if node.args.get("lateral"):
                raise UnsupportedQuery("LATERAL")
            scope.add(alias, columns)
            return f"({sql}) AS {quote(alias)}{_column_list(columns)}"
        if isinstance(node, exp.Values):
            sql, columns = self._values(node, None)
            scope.add(alias, columns)
            return f"({sql}) AS {quote(alias)}"
        if isinstance(node, exp.Unnest):
            return self._unnest(node, scope)
        if isinstance(node, exp.Lateral):
            raise UnsupportedQuery("LATERAL")
        raise UnsupportedQuery(f"{node.key.upper()} in FROM")

    def _join(self, join: exp.Join, scope: Scope, ctes: Mapping[str, Columns]) -> str:
        side = (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        if kind in ("SEMI", "ANTI", "ASOF", "POSITIONAL") or join.args.get("method"):
            raise UnsupportedQuery(f"{kind or join.args.get('method')} JOIN")
        source = self._source(join.this, scope, ctes)
        on, using = join.args.get("on"), join.args.get("using")
        keyword = " ".join(p for p in (side, "CROSS" if kind == "CROSS" else "", "JOIN") if p)
        if not on and not using and kind != "CROSS" and not side and not isinstance(join.this, exp.Unnest):
            keyword = "CROSS JOIN"
        if isinstance(join.this, exp.Unnest) and not on and not using:
            return f" {side} JOIN {source} ON true" if side else f", {source}"
        text = f" {keyword} {source}"
        if on:
            text += " ON " + self.boolean(on, scope).sql
        elif using:
            text += " USING (" + ", ".join(quote(u.name) for u in using) + ")"
        return text

    def _unnest(self, node: exp.Unnest, scope: Scope) -> str:
        arrays = [self.expr(e, scope) for e in node.expressions]
        alias_node = node.args.get("alias")
        names = [c.name for c in alias_node.columns] if alias_node is not None and alias_node.columns else []
        alias = alias_node.name if alias_node is not None and alias_node.name else "__dw_unnest"
        element_columns: Columns = []
        selects = []
        for index, array in enumerate(arrays):
            if array.type.name == "array":
                element = array.type.element
                if element.name == "row":
                    raise UnsupportedQuery("UNNEST of an array of rows")
                element_columns.append((f"_u{index}", element))
                selects.append(array.sql)
            elif array.type.name == "map":
                element_columns += [
                    (f"_k{index}", array.type.elements[0]),
                    (f"_v{index}", array.type.elements[1]),
                ]
                selects += [f"map_keys({array.sql})", f"map_values({array.sql})"]
            else:
                raise QueryError(f"cannot UNNEST a value of type {array.type.trino()}")
        offset = node.args.get("offset")
        ordinality = bool(offset)
        if ordinality:
            element_columns.append(("_ord", tt.BIGINT))
            if isinstance(offset, exp.Expression) and offset.name and len(names) == len(element_columns) - 1:
                names = [*names, offset.name]
        if names and len(names) != len(element_columns):
            raise QueryError(
                f"UNNEST produces {len(element_columns)} columns but its alias names {len(names)}"
            )
        columns = _renamed(element_columns, names) if names else element_columns
        scope.add(alias, columns)
        # Arrays of different lengths are padded with NULLs, as Trino does; ordinals start at 1.
        longest = f"greatest({', '.join(f'len(COALESCE({s}, []))' for s in selects)})"
        values = [f"({s})[__dw_i]" for s in selects]
        if ordinality:
            values.append("__dw_i")
        out = ", ".join(f"{v} AS {quote(n)}" for v, (n, _) in zip(values, columns, strict=True))
        return f"LATERAL (SELECT {out} FROM range(1, {longest} + 1) AS __dw_r(__dw_i)) AS {quote(alias)}"

    # ---- expressions --------------------------------------------------------------------------------
    def boolean(self, node: exp.Expression, scope: Scope) -> Typed:
        typed = self.expr(node, scope)
        if typed.type.name not in ("boolean", "unknown"):
            raise QueryError(f"a condition must be boolean, got {typed.type.trino()}: {node.sql('trino')}")
        return typed

    def expr(self, node: exp.Expression, scope: Scope) -> Typed:
        from dw_platform.query.expressions import translate_expression

        return translate_expression(self, node, scope)

    def subquery(self, node: exp.Expression, scope: Scope) -> tuple[str, Columns]:
        return self.query(node, scope, {})


def _renamed(columns: Columns, names: Sequence[str]) -> Columns:
    if len(names) != len(columns):
        raise QueryError(f"the alias names {len(names)} columns, the relation has {len(columns)}")
    return [(n, t) for n, (_, t) in zip(names, columns, strict=True)]


def _column_list(columns: Columns) -> str:
    return "(" + ", ".join(quote(n) for n, _ in columns) + ")"


def _count_literal(node: exp.Expression, clause: str) -> int:
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.name):
        return int(node.name)
    raise UnsupportedQuery(f"{clause} with a non-literal count")


def _refuse_unorderable(t: TrinoType) -> None:
    if t.name in ("map", "json") or (t.name == "array" and t.element.name in ("map", "row", "array")):
        raise QueryError(f"a value of type {t.trino()} cannot be ordered")


def _mark_unnamed_projections(tree: exp.Expression) -> None:
    for select in tree.find_all(exp.Select):
        for projection in select.expressions:
            if not isinstance(projection, exp.Alias | exp.Column | exp.Star):
                projection.meta["dw_unnamed"] = True


def _unnamed_positions(tree: exp.Expression) -> set[int]:
    """Output columns written without a name, which Trino calls _col0, _col1, ..."""
    node = tree
    while isinstance(node, exp.SetOperation | exp.Subquery):
        node = node.left if isinstance(node, exp.SetOperation) else node.this
    if not isinstance(node, exp.Select):
        return set()
    return {
        i
        for i, p in enumerate(node.expressions)
        if (p.this if isinstance(p, exp.Alias) else p).meta.get("dw_unnamed") or p.meta.get("dw_unnamed")
    }


def render_for_output(sql: str, t: TrinoType) -> str:
    """Values DuckDB holds in a representation of the translator's own are turned into Trino's text
    at the very end (zone-keeping timestamps, intervals); the rest stays typed."""
    if t.name == "timestamptz":
        return f"dw_tstz_text({sql}, {t.precision})"
    if t.name in ("interval_ds", "interval_ym"):
        return f"dw_interval_text_{t.name[-2:]}({sql})"
    if t.name in ("array", "map", "row") and _contains(t, ("timestamptz", "interval_ds", "interval_ym")):
        raise UnsupportedQuery(f"a result column of type {t.trino()}")
    return sql


def _contains(t: TrinoType, names: tuple[str, ...]) -> bool:
    return t.name in names or any(_contains(e, names) for e in t.elements)
