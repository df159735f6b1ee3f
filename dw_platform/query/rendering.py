"""Query results by Trino type: the values Athena prints, for `dw query` and the conformance suite."""

import base64
import datetime as dt
import decimal
import json
import math
import struct
from typing import TYPE_CHECKING, Any

from dw_platform.query.trino_types import TrinoType

if TYPE_CHECKING:
    import pyarrow as pa

    from dw_platform.query.plain_rows import PlainRows


def trino_value(value: Any, t: TrinoType) -> Any:
    """A value as Athena (Trino) prints it, as plain Python: ints, floats, exact decimal strings,
    Trino's timestamp text, lists for arrays and rows, dicts for maps."""
    if value is None:
        return None
    if t.name == "decimal":
        return f"{decimal.Decimal(value):.{t.scale}f}"
    if t.is_integer:
        return int(value)
    if t.name == "real":
        return _real(float(value))
    if t.name == "double":
        return float(value)
    if t.name == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if t.name == "timestamp":
        if not isinstance(value, dt.datetime):
            return str(value)
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + ("." + f"{value.microsecond:06d}"[: t.precision] if t.precision else "")
    if t.name == "array":
        return [trino_value(v, t.element) for v in value]
    if t.name == "map":
        items = value.items() if isinstance(value, dict) else value
        pairs = [(trino_value(k, t.elements[0]), trino_value(v, t.elements[1])) for k, v in items]
        if t.elements[0].name in ("array", "map", "row"):  # keys Python cannot hash: [key, value] pairs
            return [list(p) for p in pairs]
        return dict(pairs)
    if t.name == "row":
        values = value.values() if isinstance(value, dict) else value
        return [trino_value(v, ft) for v, ft in zip(values, t.elements, strict=True)]
    if t.name == "varbinary":
        return bytes(value).hex(" ")
    return value


def _real(value: float) -> float:
    """A REAL as Trino prints it: the shortest decimal that reads back as the same 32-bit float
    (REAL '0.1' is 0.1, not its widened double 0.10000000149011612)."""
    if math.isnan(value) or math.isinf(value):
        return value
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        shortest = float(f"{single:.{digits}g}")
        if struct.unpack("f", struct.pack("f", shortest))[0] == single:
            return shortest
    return single


def rows(table: "pa.Table | PlainRows", types: tuple[TrinoType, ...]) -> list[list[Any]]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [
        [trino_value(c[r], t) for c, t in zip(columns, types, strict=True)] for r in range(table.num_rows)
    ]


def text(value: Any) -> str:
    """One cell as the table and CSV formats print it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _double_text(value)
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def _double_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


class _Exact(float):
    """A decimal printed as its exact digits in JSON."""

    def __init__(self, digits: str) -> None:
        self.digits = digits

    def __new__(cls, digits: str) -> "_Exact":
        return super().__new__(cls, float(digits))

    def __repr__(self) -> str:
        return self.digits


def json_rows(table: "pa.Table | PlainRows", types: tuple[TrinoType, ...] | None) -> str:
    """Rows as a JSON array of objects: numbers as JSON numbers (decimals with their exact digits),
    timestamps as Trino prints them, binary as base64, NaN and infinities as strings."""
    if types is None:
        values = table.to_pylist()
        return json.dumps(values, default=str)
    names = table.column_names
    out = []
    for row in rows(table, types):
        record = {}
        for name, value, t in zip(names, row, types, strict=True):
            record[name] = _json_value(value, t)
        out.append(record)
    return _dumps(out)


def _json_value(value: Any, t: TrinoType) -> Any:
    if value is None:
        return None
    if t.name == "decimal":
        return _Exact(value)
    if t.name in ("double", "real") and (math.isnan(value) or math.isinf(value)):
        return _double_text(value)
    if t.name == "varbinary":
        return base64.b64encode(bytes.fromhex(value.replace(" ", ""))).decode()
    return value


def _dumps(value: Any) -> str:
    encoder = json.JSONEncoder()
    original = encoder.iterencode

    def floatstr(o: float, *args: Any) -> str:
        return o.digits if isinstance(o, _Exact) else float.__repr__(o)

    del original
    return "".join(
        json.encoder._make_iterencode(  # type: ignore[attr-defined]
            {},
            encoder.default,
            json.encoder.encode_basestring_ascii,
            None,
            floatstr,
            ": ",
            ", ",
            False,
            False,
            True,
        )(value, 0)
    )
