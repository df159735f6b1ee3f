"""Trino's types as the local engine tracks them, and how each is represented in DuckDB.

The translator types every expression the way Trino does (decimal precision and scale, integer
widths, timestamp precision, `varchar(n)` literals) because Trino's results depend on it: `5 / 2` is
integer division, `100.0 * 3 / 7` is decimal(…,1) rounded half up. A `timestamp with time zone` keeps
its zone in Trino, so in DuckDB it is a struct of the instant and the zone's name.
"""

import dataclasses
import re

from sqlglot import exp

from dw_platform.query.sql import QueryError, UnsupportedQuery

MAX_DECIMAL_PRECISION = 38
INTEGER_KINDS = ("tinyint", "smallint", "integer", "bigint")
_INTEGER_DECIMAL_PRECISION = {"tinyint": 3, "smallint": 5, "integer": 10, "bigint": 19}
_NUMERIC_ORDER = ("tinyint", "smallint", "integer", "bigint", "decimal", "real", "double")
# DuckDB's spelling of a timestamp with time zone: the instant and the zone it is shown in.
TSTZ_DUCKDB = "STRUCT(i TIMESTAMPTZ, z VARCHAR)"


@dataclasses.dataclass(frozen=True)
class TrinoType:
    """A Trino type: `name` is one of the base names below; parameters where the type has them."""

    name: str
    precision: int | None = None  # decimal precision, or timestamp fractional digits
    scale: int | None = None  # decimal scale
    length: int | None = None  # varchar(n); None is unbounded varchar
    elements: tuple["TrinoType", ...] = ()  # array: (element,); map: (key, value); row: fields
    field_names: tuple[str | None, ...] = ()  # row field names

    # ---- predicates --------------------------------------------------------------------------
    @property
    def is_integer(self) -> bool:
        return self.name in INTEGER_KINDS

    @property
    def is_numeric(self) -> bool:
        return self.name in _NUMERIC_ORDER

    @property
    def is_exact(self) -> bool:
        return self.is_integer or self.name == "decimal"

    @property
    def is_string(self) -> bool:
        """varchar; char(n) has its own semantics (padding) and is handled only where named."""
        return self.name == "varchar"

    @property
    def is_char(self) -> bool:
        return self.name == "char"

    @property
    def is_unknown(self) -> bool:
        """The type of a bare NULL: coerces to anything."""
        return self.name == "unknown"

    @property
    def is_temporal(self) -> bool:
        return self.name in ("date", "timestamp", "timestamptz")

    @property
    def element(self) -> "TrinoType":
        return self.elements[0]

    # ---- names ---------------------------------------------------------------------------------
    def trino(self) -> str:
        """The name `typeof()` prints."""
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.name == "varchar":
            return "varchar" if self.length is None else f"varchar({self.length})"
        if self.name == "char":
            return f"char({self.length})"
        if self.name == "timestamp":
            return f"timestamp({self.precision})"
        if self.name == "timestamptz":
            return f"timestamp({self.precision}) with time zone"
        if self.name == "interval_ds":
            return "interval day to second"
        if self.name == "interval_ym":
            return "interval year to month"
        if self.name == "array":
            return f"array({self.element.trino()})"
        if self.name == "map":
            return f"map({self.elements[0].trino()}, {self.elements[1].trino()})"
        if self.name == "row":
            fields = (
                f"{name} {t.trino()}" if name else t.trino()
                for name, t in zip(self.field_names, self.elements, strict=True)
            )
            return f"row({', '.join(fields)})"
        return self.name

    def duckdb(self) -> str:
        """The DuckDB type that holds this type's values."""
        simple = {
            "tinyint": "TINYINT",
            "smallint": "SMALLINT",
            "integer": "INTEGER",
            "bigint": "BIGINT",
            "real": "FLOAT",
            "double": "DOUBLE",
            "boolean": "BOOLEAN",
            "varchar": "VARCHAR",
            "char": "VARCHAR",
            "json": "VARCHAR",  # Trino's text of the value (see json_functions)
            "date": "DATE",
            "timestamp": "TIMESTAMP",
            "timestamptz": TSTZ_DUCKDB,
            "varbinary": "BLOB",
            "interval_ds": "INTERVAL",
            "interval_ym": "INTERVAL",
            "unknown": "INTEGER",
        }
        if self.name in simple:
            return simple[self.name]
        if self.name == "decimal":
            return f"DECIMAL({self.precision},{self.scale})"
        if self.name == "array":
            return f"{self.element.duckdb()}[]"
        if self.name == "map":
            return f"MAP({self.elements[0].duckdb()}, {self.elements[1].duckdb()})"
        if self.name == "row":
            fields = ", ".join(
                f'"{name or f"field{i}"}" {t.duckdb()}'
                for i, (name, t) in enumerate(zip(self.field_names, self.elements, strict=True))
            )
            return f"STRUCT({fields})"
        raise UnsupportedQuery(f"the type {self.trino()}")

    def duckdb_type(self) -> exp.DataType:
        return exp.DataType.build(self.duckdb(), dialect="duckdb")


# ---- constructors --------------------------------------------------------------------------------
def simple(name: str) -> TrinoType:
    return TrinoType(name)


UNKNOWN = TrinoType("unknown")
BOOLEAN = TrinoType("boolean")
TINYINT = TrinoType("tinyint")
SMALLINT = TrinoType("smallint")
INTEGER = TrinoType("integer")
BIGINT = TrinoType("bigint")
REAL = TrinoType("real")
DOUBLE = TrinoType("double")
VARCHAR = TrinoType("varchar")
DATE = TrinoType("date")
JSON = TrinoType("json")
VARBINARY = TrinoType("varbinary")
INTERVAL_DS = TrinoType("interval_ds")
INTERVAL_YM = TrinoType("interval_ym")


def decimal(precision: int, scale: int) -> TrinoType:
    if precision > MAX_DECIMAL_PRECISION or precision < 1 or not 0 <= scale <= precision:
        # Trino rejects these types (and literals that would need them) too.
        raise QueryError(
            f"DECIMAL precision must be in range [1, 38] and scale in [0, precision]: {precision}, {scale}"
        )
    return TrinoType("decimal", precision=precision, scale=scale)


def varchar(length: int | None = None) -> TrinoType:
    return TrinoType("varchar", length=length)


def char(length: int) -> TrinoType:
    """char(n): held padded with spaces to n characters, so comparisons, LIKE and printing see
    Trino's padded value."""
    return TrinoType("char", length=length)


def timestamp(precision: int = 3) -> TrinoType:
    return TrinoType("timestamp", precision=precision)


def timestamptz(precision: int = 3) -> TrinoType:
    return TrinoType("timestamptz", precision=precision)


def array(element: TrinoType) -> TrinoType:
    return TrinoType("array", elements=(element,))


def map_of(key: TrinoType, value: TrinoType) -> TrinoType:
    return TrinoType("map", elements=(key, value))


def row(fields: list[tuple[str | None, TrinoType]]) -> TrinoType:
    return TrinoType("row", elements=tuple(t for _, t in fields), field_names=tuple(n for n, _ in fields))


# Hive/Glue column types of the catalog -> Trino types (what Athena reports for them).
CATALOG_TYPES: dict[str, TrinoType] = {
    "string": VARCHAR,
    "int": INTEGER,
    "bigint": BIGINT,
    "smallint": SMALLINT,
    "tinyint": TINYINT,
    "double": DOUBLE,
    "float": REAL,
    "boolean": BOOLEAN,
    "timestamp": timestamp(3),
    "date": DATE,
}


def as_decimal(t: TrinoType) -> TrinoType:
    """An exact numeric type seen as the decimal Trino coerces it to."""
    if t.name == "decimal":
        return t
    if t.is_integer:
        return decimal(_INTEGER_DECIMAL_PRECISION[t.name], 0)
    raise ValueError(f"{t.trino()} is not exact")


def common_super_type(a: TrinoType, b: TrinoType) -> TrinoType | None:
    """The type both coerce to, as Trino finds it (None: incompatible)."""
    if a == b:
        return a
    if a.is_unknown:
        return b
    if b.is_unknown:
        return a
    if a.is_numeric and b.is_numeric:
        if a.is_integer and b.is_integer:
            return max(a, b, key=lambda t: _NUMERIC_ORDER.index(t.name))
        if "double" in (a.name, b.name):
            return DOUBLE
        if "real" in (a.name, b.name):
            return REAL
        da, db = as_decimal(a), as_decimal(b)
        assert da.scale is not None and db.scale is not None and da.precision and db.precision
        scale = max(da.scale, db.scale)
        integral = max(da.precision - da.scale, db.precision - db.scale)
        return decimal(min(MAX_DECIMAL_PRECISION, integral + scale), scale)
    if a.is_string and b.is_string:
        if a.length is None or b.length is None:
            return VARCHAR
        return varchar(max(a.length, b.length))
    if (a.is_char or a.is_string) and (b.is_char or b.is_string):
        # char(x) with char(y) or varchar(y): char(max(x, y)), the shorter padded.
        if a.length is None or b.length is None:
            raise UnsupportedQuery("char(n) together with an unbounded varchar")
        return char(max(a.length, b.length))
    if a.name == b.name == "timestamp":
        return timestamp(max(a.precision or 0, b.precision or 0))
    if a.name == b.name == "timestamptz":
        return timestamptz(max(a.precision or 0, b.precision or 0))
    if {a.name, b.name} == {"date", "timestamp"}:
        return a if a.name == "timestamp" else b
    if a.name == b.name == "array":
        element = common_super_type(a.element, b.element)
        return array(element) if element else None
    if a.name == b.name == "map":
        key, value = (
            common_super_type(a.elements[0], b.elements[0]),
            common_super_type(a.elements[1], b.elements[1]),
        )
        return map_of(key, value) if key and value else None
    if a.name == b.name == "row":  # field by field (ROW('SQL', 1) and ROW('Java', 2): row(varchar(4), ...))
        if len(a.elements) != len(b.elements):
            return None
        fields = [common_super_type(x, y) for x, y in zip(a.elements, b.elements, strict=True)]
        if any(f is None for f in fields):
            return None
        names = [n if n == m else None for n, m in zip(a.field_names, b.field_names, strict=True)]
        return row(list(zip(names, fields, strict=True)))  # type: ignore[arg-type]
    if a.name == b.name:
        return a
    return None


_TYPE_PATTERN = re.compile(
    r"^\s*(?P<name>[a-z ]+?)\s*(?:\((?P<args>[^()]*)\))?\s*(?P<tz>with time zone)?\s*$"
)


def from_sqlglot(data_type: exp.DataType) -> TrinoType:
    """The Trino type a CAST target written in a query names."""
    kind = data_type.this
    params = [p for p in data_type.expressions if isinstance(p, exp.DataTypeParam)]
    texts = [str(p.this.this) for p in params if isinstance(p.this, exp.Literal)]
    if not all(text.isdigit() for text in texts):
        raise QueryError(f"invalid type parameters in {data_type.sql('trino')}: integers expected")
    numbers = [int(text) for text in texts]
    t = exp.DataType.Type
    mapping = {
        t.TINYINT: TINYINT,
        t.SMALLINT: SMALLINT,
        t.INT: INTEGER,
        t.BIGINT: BIGINT,
        t.FLOAT: REAL,
        t.DOUBLE: DOUBLE,
        t.BOOLEAN: BOOLEAN,
        t.DATE: DATE,
        t.JSON: JSON,
        t.VARBINARY: VARBINARY,
    }
    if kind in mapping:
        return mapping[kind]
    if kind in (t.VARCHAR, t.TEXT, t.CHAR):
        if kind is t.CHAR:
            return char(numbers[0] if numbers else 1)
        return varchar(numbers[0] if numbers else None)
    if kind in (t.DECIMAL,):
        precision = numbers[0] if numbers else 38
        scale = numbers[1] if len(numbers) > 1 else 0
        return decimal(precision, scale)
    if kind in (t.TIMESTAMP, t.DATETIME):
        return timestamp(_timestamp_precision(numbers))
    if kind in (t.TIMESTAMPTZ,):
        return timestamptz(_timestamp_precision(numbers))
    if kind is t.ARRAY:
        [element] = data_type.expressions
        return array(from_sqlglot(element))
    if kind is t.MAP:
        key, value = data_type.expressions
        return map_of(from_sqlglot(key), from_sqlglot(value))
    if kind is t.STRUCT:
        fields: list[tuple[str | None, TrinoType]] = []
        for field in data_type.expressions:
            if isinstance(field, exp.ColumnDef):
                fields.append((field.name, from_sqlglot(field.args["kind"])))
            else:
                fields.append((None, from_sqlglot(field)))
        return row(fields)
    raise UnsupportedQuery(f"the type {data_type.sql('trino')}")


def _timestamp_precision(numbers: list[int]) -> int:
    precision = numbers[0] if numbers else 3
    if precision > 6:
        raise UnsupportedQuery(f"timestamp precision {precision} (the local engine keeps microseconds)")
    return precision


def parse_type(text: str) -> TrinoType:
    """A Trino type from its name (`decimal(4,1)`, `timestamp(3) with time zone`)."""
    return from_sqlglot(exp.DataType.build(text, dialect="trino"))
