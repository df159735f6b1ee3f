"""JSON text as Trino writes it (with Jackson): compact, numbers as Java prints them, and, for a value
json_parse or a JSON literal makes, object keys sorted. Registered in DuckDB as a Python function,
called only for text DuckDB's own minified JSON may not already spell that way (see json_functions)."""

import json
import math
from decimal import Decimal
from typing import Any

# Jackson escapes `"`, `\` and the control characters, with these short forms; nothing else.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def java_double(value: float) -> str:
    """Java's Double.toString (the shortest digits that read back as the value): plain from 10^-3 to
    10^7, else d.dddE<exponent>."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    digits, exponent = _digits(abs(value))
    if 1e-3 <= abs(value) < 1e7:
        if exponent >= 0:
            whole, fraction = digits[: exponent + 1].ljust(exponent + 1, "0"), digits[exponent + 1 :]
        else:
            whole, fraction = "0", "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{fraction or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _digits(value: float) -> tuple[str, int]:
    """The shortest significant digits of a positive double and the power of ten of the first."""
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    del sign
    text = "".join(map(str, digits))
    return text, len(text) - 1 + int(exponent)


def _string(value: str) -> str:
    out = []
    for char in value:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _write(value: Any, sort_keys: bool) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Jackson writes NaN and the infinities as strings.
        return java_double(value) if math.isfinite(value) else _string(java_double(value))
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ",".join(_write(v, sort_keys) for v in value) + "]"
    items = sorted(value.items()) if sort_keys else value.items()
    return "{" + ",".join(f"{_string(k)}:{_write(v, sort_keys)}" for k, v in items) + "}"


def canonical(text: str | None, sort_keys: bool) -> str | None:
    """Valid JSON text as Trino writes it; the caller has checked that it is valid."""
    if text is None:
        return None
    # Java's String sort is by UTF-16 code unit; Python's by code point: the same below U+D800.
    return _write(json.loads(text), sort_keys)


def canonical_sorted(text: str | None) -> str | None:
    return canonical(text, True)


def canonical_in_order(text: str | None) -> str | None:
    return canonical(text, False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"not JSON: {name}")


def strictly_valid(text: str | None) -> bool | None:
    """Whether the text is one JSON value as Jackson reads it (no NaN, no trailing commas), which
    DuckDB's json_valid accepts."""
    if text is None:
        return None
    try:
        json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return False
    return True
