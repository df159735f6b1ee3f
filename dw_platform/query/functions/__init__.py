"""Trino's functions by name, each typed as Trino types it and emitted as DuckDB text that gives
Trino's value: one registry of specs (registry.py) filled by the modules of each family of Trino's
docs (a page's longer translations in a `*_functions.py` module of their own: array_functions.py
beside arrays.py, text_functions.py beside strings.py, number_functions.py beside mathematical.py).
A function that is not in it is refused by name.

Importing this package registers every family; the translator imports it when it first translates
an expression (expressions.py), so `dw` commands that run no query do not load it.
"""

import importlib

from dw_platform.query.functions.aggregates import aggregate, is_aggregate
from dw_platform.query.functions.arrays import array_constructor, row_field, subscript
from dw_platform.query.functions.calls import call
from dw_platform.query.functions.registry import REGISTRY, FunctionSpec, lookup
from dw_platform.query.functions.strings import concat_values
from dw_platform.query.functions.windows import window

# The families, in the order they register (a later one may give a function registered by an
# earlier one an overload of another type: binary_functions' length of varbinary).
FAMILIES = (
    "dw_platform.query.functions.conditional",
    "dw_platform.query.functions.mathematical",
    "dw_platform.query.functions.strings",
    "dw_platform.query.functions.regex",
    "dw_platform.query.functions.dates",
    "dw_platform.query.functions.arrays",
    "dw_platform.query.functions.aggregates",
    "dw_platform.query.functions.windows",
    "dw_platform.query.functions.calls",
    "dw_platform.query.functions.array_functions",
    "dw_platform.query.functions.json_functions",
    "dw_platform.query.functions.text_functions",
    "dw_platform.query.functions.number_functions",
    "dw_platform.query.functions.bitwise_functions",
    "dw_platform.query.functions.binary_functions",
    "dw_platform.query.functions.refused",
)
for _family in FAMILIES:
    importlib.import_module(_family)

__all__ = [
    "REGISTRY",
    "FunctionSpec",
    "aggregate",
    "array_constructor",
    "call",
    "concat_values",
    "is_aggregate",
    "lookup",
    "row_field",
    "subscript",
    "window",
]
