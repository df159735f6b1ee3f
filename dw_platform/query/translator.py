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
from dw_platform.query.complex_compare import refuse_map_grouping
from dw_platform.query.correlation import check_subquery, is_correlated
from dw_platform.query.grouping_sets import distinct_grouping_sets
from dw_platform.query.instant_keys import has_instant_key, mixed_zones_guard, refuse_nested
from dw_platform.query.listagg import refuse_extra_arguments
from dw_platform.query.operators import Typed, cast, holds_tstz
from dw_platform.query.partition_filter import KeyBound, find_scans
from dw_platform.query.recursive_cte import is_recursive, recursive_cte
from dw_platform.query.scopes import Columns, Scope, columns_hint, tables_hint
from dw_platform.query.sql import (
    QueryError,
    UnsupportedQuery,
    describe_parse_error,
    parse_statement,
    statement_kind,
)
from dw_platform.query.trino_types import TrinoType
from dw_platform.query.unresolvable import refuse_unresolvable, refuse_unresolved_unnest
from dw_platform.query.written_syntax import (
    binary_literals_without_spaces,
    refuse_unread_syntax,
    values_in_set_operations,
)
from dw_platform.query.zoned_text import instant_guard, zoned_literal_type


class WrittenTrino(Trino):
    """Trino's grammar, with every function call kept as written (name and argument order), so the
    translator's function table is keyed by Trino's own names; subscripts kept as written too
    (sqlglot would make some of them 0-based, depending on what it guesses of the subscripted type)."""

    INDEX_OFFSET = 0

    class Tokenizer(Trino.Tokenizer):
        # Trino has no CROSS/OUTER APPLY: `apply` is the lambda function apply(x, f).
        KEYWORDS = {k: v for k, v in Trino.Tokenizer.KEYWORDS.items() if k != "APPLY"}

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
    # One line each where the answer is one of several a function's contract admits (see
    # contract_aggregates.py): `dw query` prints them on stderr.
    notes: tuple[str, ...] = ()


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def parse_written(sql: str) -> exp.Expression:
    """One statement in Trino's grammar, function calls as written (see WrittenTrino)."""
    sql = binary_literals_without_spaces(sql)
    tokens = _refuse_limit_before_offset(sql)
    refuse_unread_syntax(tokens)
    if "VALUES" in sql.upper():
        sql = values_in_set_operations(sql, tokens)
    if "LISTAGG" in sql.upper():
        refuse_extra_arguments(tokens)
    return parse_statement(_decimal_literals(sql), dialect=WrittenTrino)


def _decimal_literals(sql: str) -> str:
    """`DECIMAL '1.50'` is a literal of type decimal(3,2); sqlglot reads it as CAST('1.50' AS DECIMAL),
    which Trino types decimal(38,0). Spell the literal's own type out before parsing."""
    tokens = sqlglot.tokenize(sql, read=WrittenTrino)
    pieces, last = [], 0
    for token, following in itertools.pairwise(tokens):
        if token.token_type.name == "CHAR" and following.token_type.name == "STRING":
            # CHAR 'abc' is a char(3); CAST(x AS CHAR) a char(1).
            text = following.text.replace("'", "''")
            pieces += [sql[last : token.start], f"CAST('{text}' AS CHAR({len(following.text)}))"]
            last = following.end + 1
        if token.token_type.name == "DECIMAL" and following.token_type.name == "STRING":
            text = following.text.strip()
            found = re.fullmatch(r"([+-]?)(\d*)(?:\.(\d*))?", text)
            if not found or not (found.group(2) or found.group(3)):
                raise QueryError(f"invalid decimal literal {text!r}")
            sign, whole, fraction = found.group(1), found.group(2), found.group(3) or ""
            # Trino ignores leading zeros: DECIMAL '-0.3' is decimal(1,1), DECIMAL '007' decimal(1,0).
            precision, scale = max(1, len(whole.lstrip("0") + fraction)), len(fraction)
            # Exactly the literal's digits (`123.` for an integer), so the number itself has this type.
            value = f"{sign}{whole.lstrip('0') or '0'}.{fraction}"
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


def _refuse_limit_before_offset(sql: str) -> list[Any]:
    """Trino's grammar has OFFSET before LIMIT; `LIMIT m OFFSET n` is a syntax error there.
    Returns the tokens, for the other checks of the text."""
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
    return tokens


class Translator:
    def __init__(self, tables: Mapping[str, TableShape], database: str) -> None:
        self.tables = tables
        self.database = database
        self.scans: list[Scan] = []
        self.notes: list[str] = []
        self._ctes: list[Mapping[str, Columns]] = []
        # Per SELECT, the output positions of columns written without a name (Trino's _colN).
        self._unnamed_at: dict[int, set[int]] = {}
        self._bounds: dict[int, KeyBound | None] = {}

    # ---- entry ------------------------------------------------------------------------------------
    def translate(self, tree: exp.Expression) -> Translation:
        if not isinstance(tree, exp.Query | exp.Values):
            raise QueryError(
                f"only queries (SELECT, WITH, VALUES, ...) are accepted, got {statement_kind(tree)}"
            )
        _mark_unnamed_projections(tree)
        _name_unaliased_ordinality(tree)
        self._refuse_unknown_tables(tree)
        tree = self._qualify(tree)
        keys = {name: shape.partition_key for name, shape in self.tables.items()}
        self._bounds = {id(r.node): r.bound for r in find_scans(tree, self.database, keys)}
        sql, columns = self.query(tree, None, {})
        unnamed = _unnamed_positions(tree, self._unnamed_at)
        named = [(f"_col{i}" if i in unnamed else name, t) for i, (name, t) in enumerate(columns)]
        # Output columns are picked by position: two may share a name (SELECT a.name, b.name).
        positions = ", ".join(f"__dw_c{i}" for i in range(len(columns)))
        rendered = ", ".join(
            f"{render_for_output(f'__dw_c{i}', t)} AS {quote(out)}" for i, (out, t) in enumerate(named)
        )
        return Translation(
            f"SELECT {rendered} FROM ({sql}) AS __dw_result({positions})",
            named,
            tuple(self.scans),
            tuple(self.notes),
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
        refuse_unresolvable(tree)
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
            refuse_unresolved_unnest(tree, str(error))
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
        # Subqueries in expressions see the CTEs of the query they are in.
        self._ctes.append(ctes)
        try:
            if isinstance(node, exp.Select):
                sql, columns = self._select(node, outer, ctes)
            elif isinstance(node, exp.SetOperation):
                sql, columns = self._set_operation(node, outer, ctes)
                sql, columns = self._with_order_limit(node, sql, columns, outer, ctes)
            elif isinstance(node, exp.Values):
                sql, columns = self._values(node, outer)
            else:
                raise UnsupportedQuery(f"{node.key.upper()} queries")
        finally:
            self._ctes.pop()
        return with_sql + sql, columns

    def _with(
        self, node: exp.Expression, outer: Scope | None, ctes: Mapping[str, Columns]
    ) -> tuple[str, Mapping[str, Columns]]:
        with_ = node.args.get("with_") or node.args.get("with")
        if not with_:
            return "", ctes
        recursive = bool(with_.args.get("recursive"))
        ctes = dict(ctes)
        parts = []
        for cte in with_.expressions:
            if recursive and is_recursive(cte):
                definitions, ctes[cte.alias] = recursive_cte(self, cte, outer, ctes)
                parts += definitions
                continue
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
        unnamed = self._unnamed_at.setdefault(id(select), set())
        for projection in select.expressions:
            name = projection.alias_or_name
            body = projection.this if isinstance(projection, exp.Alias) else projection
            if isinstance(body, exp.Star) or (isinstance(body, exp.Column) and body.is_star):
                # What sqlglot could not expand (a LATERAL or UNNEST source): the FROM items'
                # columns in order, as Trino lists them.
                for alias, column, t in _star_columns(body, scope):
                    projections.append(f"{quote(alias)}.{quote(column)} AS {quote(column)}")
                    columns.append((column, t))
                continue
            if isinstance(body, exp.Aliases | exp.Dot) and isinstance(
                (body.this if isinstance(body, exp.Aliases) else body).expression, exp.Star
            ):
                # row.* / ROW(a, b).* / (a, b).* [AS (x, y)]: one output column per field.
                names = [i.name for i in body.expressions] if isinstance(body, exp.Aliases) else []
                fields = self._row_fields(body.this if isinstance(body, exp.Aliases) else body, scope)
                if names and len(names) != len(fields):
                    raise QueryError(f"the row has {len(fields)} fields but {len(names)} column aliases")
                for index, (field, typed) in enumerate(fields):
                    label = names[index] if names else field
                    if label is None:
                        unnamed.add(len(columns))
                        label = f"_col{len(columns)}"
                    projections.append(f"{typed.sql} AS {quote(label)}")
                    columns.append((label, typed.type))
                continue
            if body.meta.get("dw_unnamed") or projection.meta.get("dw_unnamed"):
                unnamed.add(len(columns))
            typed = self.expr(body, scope)
            if distinct:
                refuse_map_grouping(typed.type, "SELECT DISTINCT")
            projections.append(f"{typed.sql} AS {quote(name)}")
            columns.append((name, typed.type))
            typed_projections.append(typed)
        parts.append(", ".join(projections))
        sql = " ".join(parts) + from_sql
        where = select.args.get("where")
        if where:
            sql += " WHERE " + self.boolean(where.this, scope).sql
        group = select.args.get("group")
        keys: list[Typed] = []
        if group:
            positional = [
                Typed(p.removesuffix(f" AS {quote(n)}"), t)
                for p, (n, t) in zip(projections, columns, strict=True)
            ]
            sql += " GROUP BY " + self._group(group, scope, keys, positional)
        having = select.args.get("having")
        having_sql = self.boolean(having.this, scope).sql if having else None
        qualify = []
        if has_instant_key(keys):
            # DuckDB groups the (instant, zone) structs: exact unless one instant is there in two zones.
            if having_sql and select.find(exp.Window):  # (they would run before the moved HAVING)
                raise UnsupportedQuery("HAVING with a GROUP BY key of type timestamp with time zone")
            qualify.append(mixed_zones_guard(keys, "GROUP BY", having_sql or "true"))
        elif having_sql:
            sql += " HAVING " + having_sql
        if distinct:
            _check_distinct_order(select)
            # Fails on one instant in several zones among the rows DISTINCT gets (grouped ones too).
            qualify.append(instant_guard(typed_projections).removeprefix(" QUALIFY "))
        if any(qualify):
            sql += " QUALIFY " + " AND ".join(q for q in qualify if q)
        order_scope = Scope(parent=scope, locals={n: t for n, t in columns})
        sql, columns = self._order_limit(select, sql, columns, order_scope)
        return sql, columns

    def _row_fields(self, star: exp.Dot, scope: Scope) -> list[tuple[str | None, Typed]]:
        target = star.this
        while isinstance(target, exp.Paren):
            target = target.this
        if isinstance(target, exp.Tuple):
            return [(None, self.expr(e, scope)) for e in target.expressions]
        value = self.expr(target, scope)
        if value.type.name != "row":
            raise QueryError(f"a value of type {value.type.trino()} has no fields to expand with .*")
        return [
            (name, Typed(f"struct_extract_at(({value.sql}), {i + 1})", t))
            for i, (name, t) in enumerate(zip(value.type.field_names, value.type.elements, strict=True))
        ]

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
        if isinstance(key, exp.Literal) and not key.is_string and key.name.isdigit():
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

    def _group(self, group: exp.Group, scope: Scope, keys: list[Typed], positional: Sequence[Typed]) -> str:
        """The GROUP BY text; `keys` gets the plain keys (`positional`: the select list's columns)."""
        sets = [e for e in group.expressions if isinstance(e, exp.Rollup | exp.Cube | exp.GroupingSets)]
        for key in ("rollup", "cube", "grouping_sets"):
            sets += group.args.get(key) or []
        if group.args.get("all") is False:
            sets = list(group.expressions)
        for member in (m for node in sets for m in _set_members(node)):
            if not isinstance(member, exp.Literal) and holds_tstz(self.expr(member, scope).type):
                raise UnsupportedQuery("grouping sets over values of type timestamp with time zone")
        if group.args.get("all") is False and not group.args.get("totals"):
            return distinct_grouping_sets(self, group, scope)  # GROUP BY DISTINCT
        items = []
        for expression in group.expressions:
            if isinstance(expression, exp.Literal) and not expression.is_string:
                items.append(expression.name)
                if 1 <= int(expression.name) <= len(positional):
                    keys.append(positional[int(expression.name) - 1])
                    refuse_nested(keys[-1].type, "GROUP BY")
            elif isinstance(expression, exp.Rollup | exp.Cube):
                keyword = "ROLLUP" if isinstance(expression, exp.Rollup) else "CUBE"
                items.append(
                    f"{keyword} ({', '.join(self.expr(e, scope).sql for e in expression.expressions)})"
                )
            elif isinstance(expression, exp.GroupingSets):
                items.append(self._grouping_sets(expression, scope))
            else:
                typed = self.expr(expression, scope)
                refuse_map_grouping(typed.type, "GROUP BY")
                refuse_nested(typed.type, "GROUP BY")
                items.append(typed.sql)
                keys.append(typed)
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
        if node.args.get("distinct") is not False:
            for _, t in columns:
                refuse_map_grouping(t, node.key.upper())
        if keyword != "UNION" or node.args.get("distinct") is not False:
            for _, t in columns:
                refuse_nested(t, keyword)
                if keyword != "UNION" and t.name == "timestamptz":
                    # The rows of one side meet the other's by (instant, zone) in DuckDB.
                    raise UnsupportedQuery(f"{keyword} over values of type timestamp with time zone")
        if node.args.get("distinct") is False:
            keyword += " ALL"
        if node.args.get("by_name"):
            raise UnsupportedQuery(f"{keyword} BY NAME")
        sides = [self._coerced_side(sql, side, types) for sql, side in ((left_sql, left), (right_sql, right))]
        sql = f"({sides[0]}) {keyword} ({sides[1]})"
        if keyword == "UNION" and any(t.name == "timestamptz" for t in types):
            # Distinct by (instant, zone) in DuckDB: exact unless one instant is there in two zones.
            names = [f"__dw_c{i}" for i in range(len(columns))]
            keys = [Typed(quote(n), t) for n, t in zip(names, types, strict=True)]
            renamed = ", ".join(f"{quote(n)} AS {quote(c)}" for n, (c, _) in zip(names, columns, strict=True))
            sql = (
                f"SELECT {renamed}"
                f" FROM ({sql}) AS __dw_union({', '.join(names)}) QUALIFY {mixed_zones_guard(keys, 'UNION')}"
            )
        return sql, columns

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
            typed = [self.expr(m, scope) for m in members]
            if len(typed) == 1 and typed[0].type.name == "row":
                # A row-typed item (ROW(a, b), a CAST to a row) is the VALUES row of its fields, in Trino.
                typed = _fields(typed[0])
            rows.append(typed)
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
    def _source(self, node: exp.Expression, scope: Scope, ctes: Mapping[str, Columns], side: str = "") -> str:
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
            # A derived table sees the outer query (a correlated subquery's own FROM may use it),
            # not the FROM items beside it.
            sql, columns = self.query(node.this, scope.parent, ctes)
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
            return self._lateral(node, scope, ctes, side)
        raise UnsupportedQuery(f"{node.key.upper()} in FROM")

    def _lateral(self, node: exp.Lateral, scope: Scope, ctes: Mapping[str, Columns], side: str = "") -> str:
        """LATERAL (subquery): it sees the FROM items before it (the scope so far)."""
        body = node.this
        if node.args.get("view") or not isinstance(body, exp.Subquery | exp.Query):
            raise UnsupportedQuery("this LATERAL form")
        query = body.this if isinstance(body, exp.Subquery) else body
        correlated = is_correlated(query)
        if side in ("RIGHT", "FULL"):
            raise UnsupportedQuery(f"{side} JOIN LATERAL")
        unordered = [
            a
            for a in query.find_all(exp.Anonymous)
            if a.name.lower() == "array_agg" and not any(isinstance(e, exp.Order) for e in a.expressions)
        ]
        if correlated and unordered:
            # DuckDB's lateral join does not keep the rows' order, which Trino's tests rely on here.
            raise UnsupportedQuery("array_agg() without ORDER BY in a correlated LATERAL subquery")
        check_subquery(query, lateral=True)
        sql, columns = self.query(body, scope, ctes)
        check_subquery(query, lateral=True)  # again, knowing which comparisons coerce
        alias_node = node.args.get("alias")
        if alias_node is not None and alias_node.columns:
            columns = _renamed(columns, [c.name for c in alias_node.columns])
        alias = node.alias_or_name or f"__dw_lateral{len(scope.sources)}"
        scope.add(alias, columns)
        # Uncorrelated, it is an ordinary derived table (DuckDB's LATERAL RIGHT JOIN drops rows).
        keyword = "LATERAL " if correlated else ""
        return f"{keyword}({sql}) AS {quote(alias)}{_column_list(columns)}"

    def _join(self, join: exp.Join, scope: Scope, ctes: Mapping[str, Columns]) -> str:
        side = (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        if kind in ("SEMI", "ANTI", "ASOF", "POSITIONAL") or join.args.get("method"):
            raise UnsupportedQuery(f"{kind or join.args.get('method')} JOIN")
        source = self._source(join.this, scope, ctes, side)
        on, using = join.args.get("on"), join.args.get("using")
        keyword = " ".join(p for p in (side, "CROSS" if kind == "CROSS" else "", "JOIN") if p)
        if not on and not using and kind != "CROSS" and not side and not isinstance(join.this, exp.Unnest):
            keyword = "CROSS JOIN"
        if isinstance(join.this, exp.Unnest):
            if using or (on is not None and not (isinstance(on, exp.Boolean) and on.this)):
                # Trino joins an UNNEST to the rows it unnests only ON TRUE.
                raise QueryError("UNNEST in a join is supported only with ON TRUE")
            return f" {side} JOIN {source} ON true" if side else f", {source}"
        text = f" {keyword} {source}"
        if on and side and _subquery_over_both_sides(on, join.this.alias_or_name):
            # Trino cannot plan a subquery in an outer join's condition that uses both sides.
            raise QueryError("Given correlated subquery is not supported")
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
        if names and len(names) != len(element_columns) and node.meta.get("dw_named_ordinality"):
            raise UnsupportedQuery("UNNEST of maps or rows WITH ORDINALITY without column names")
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

    def subquery(
        self, node: exp.Expression, scope: Scope, *, exists: bool = False, in_: bool = False
    ) -> tuple[str, Columns]:
        check_subquery(node, exists=exists, in_=in_)  # what Trino cannot decorrelate fails, as there
        translated = self.query(node, scope, self._ctes[-1] if self._ctes else {})
        check_subquery(node, exists=exists, in_=in_)  # again, knowing which comparisons coerce
        return translated


def _name_unaliased_ordinality(tree: exp.Expression) -> None:
    """`UNNEST(x) WITH ORDINALITY` without an alias: sqlglot's star expansion would list an `offset`
    column in place of the elements, so each gets a name of its own (one per array; maps and arrays
    of rows, which make more, are refused in _unnest)."""
    for index, node in enumerate(tree.find_all(exp.Unnest)):
        alias = node.args.get("alias")
        if node.args.get("offset") and (alias is None or not alias.columns):
            names = [f"_dw_u{index}_{i}" for i in range(len(node.expressions))]
            node.set("offset", exp.to_identifier(f"_dw_u{index}_ordinality"))
            node.set(
                "alias",
                exp.TableAlias(
                    this=exp.to_identifier(
                        alias.name if alias is not None and alias.name else f"_dw_unnest{index}"
                    ),
                    columns=[exp.to_identifier(n) for n in names],
                ),
            )
            node.meta["dw_named_ordinality"] = True


def _subquery_over_both_sides(on: exp.Expression, right: str) -> bool:
    """A conjunct of a join condition that holds a subquery and uses both sides of the join."""
    subqueries = (exp.Subquery, exp.Exists, exp.All, exp.Any, exp.Values)
    for conjunct in on.flatten() if isinstance(on, exp.And) else [on]:
        if not any(conjunct.find_all(*subqueries)):
            continue
        tables = {
            c.table for c in conjunct.find_all(exp.Column) if c.table and not c.find_ancestor(*subqueries)
        }
        if right in tables and len(tables) > 1:
            return True
    return False


def _check_distinct_order(select: exp.Select) -> None:
    """Trino: with SELECT DISTINCT, each ORDER BY key is an output column (by name or position) or
    an expression of the select list. An output name inside a larger key binds to the output column
    (`SELECT DISTINCT 1 AS a, a + b ... ORDER BY a + b` orders by 1 + b, which is not selected)."""
    order = select.args.get("order")
    if not order:
        return
    names = {p.alias_or_name for p in select.expressions}
    for projection in select.expressions:
        if isinstance(projection, exp.Aliases):  # row.* AS (x, y): one output column per alias
            names.update(i.name for i in projection.expressions)
        elif isinstance(projection, exp.Dot | exp.Column) and projection.find(exp.Star):
            return  # t.* or row.*: the output names are known once the sources are typed
    bodies = {(p.this if isinstance(p, exp.Alias) else p).sql("trino") for p in select.expressions}
    for ordered in order.expressions:
        key = ordered.this if isinstance(ordered, exp.Ordered) else ordered
        if isinstance(key, exp.Literal) and not key.is_string:
            continue
        if isinstance(key, exp.Column) and not key.table and key.name in names:
            continue
        if key.sql("trino") not in bodies:
            raise QueryError("For SELECT DISTINCT, ORDER BY expressions must appear in select list")


def _fields(value: Typed) -> list[Typed]:
    t = value.type
    names = [n or f"field{i}" for i, n in enumerate(t.field_names)]
    return [Typed(f"({value.sql}).{quote(name)}", ft) for name, ft in zip(names, t.elements, strict=True)]


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


def _unnamed_positions(tree: exp.Expression, recorded: Mapping[int, set[int]]) -> set[int]:
    """Output columns written without a name, which Trino calls _col0, _col1, ..."""
    node = tree
    while isinstance(node, exp.SetOperation | exp.Subquery):
        node = node.left if isinstance(node, exp.SetOperation) else node.this
    if not isinstance(node, exp.Select):
        return set()
    return recorded.get(id(node), set())


def _star_columns(star: exp.Expression, scope: Scope) -> list[tuple[str, str, TrinoType]]:
    table = star.table if isinstance(star, exp.Column) else ""
    if table and table not in scope.sources:
        raise UnsupportedQuery(f"SELECT {table}.* of a relation of an outer query")
    sources = [(table, scope.sources[table])] if table else list(scope.sources.items())
    return [(alias, c, t) for alias, cols in sources for c, t in cols.items() if not c.startswith("$")]


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


def _set_members(node: exp.Expression) -> list[exp.Expression]:
    """The keys of a ROLLUP, CUBE or GROUPING SETS element (or of a plain key: itself)."""
    if isinstance(node, exp.Rollup | exp.Cube | exp.GroupingSets | exp.Tuple):
        return [m for e in node.expressions for m in _set_members(e)]
    if isinstance(node, exp.Paren):
        return _set_members(node.this)
    return [node]
