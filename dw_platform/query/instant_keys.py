"""Grouping `timestamp(p) with time zone` values by their instant, as Trino does.

The local engine holds such a value as a struct {i: instant, z: zone}; DuckDB's GROUP BY, UNION,
INTERSECT, EXCEPT and PARTITION BY tell two structs apart by the zone too, where Trino finds one
instant written in two zones one value (and keeps one of the writings, whichever it meets first).
GROUP BY and UNION stay on the struct, which is exact when no instant is there in two zones, and
fail the statement when one is (checked on their output, which is small next to their input).
"""

from collections.abc import Sequence

from dw_platform.query.operators import Typed, holds_tstz
from dw_platform.query.sql import UnsupportedQuery
from dw_platform.query.trino_types import TrinoType

MIXED = "not supported by the local engine: {what} of one instant in several time zones"


def refuse_nested(t: TrinoType, what: str) -> None:
    """A row, array or map holding a timestamp with time zone cannot be keyed by its instants here."""
    if holds_tstz(t) and t.name != "timestamptz":
        raise UnsupportedQuery(f"{what} over values of type {t.trino()} (compared by instant)")


def instant_of(key: Typed) -> str:
    """The SQL Trino groups `key` by: a timestamp with time zone's instant, else the value."""
    return f"({key.sql}).i" if key.type.name == "timestamptz" else key.sql


def mixed_zones_guard(keys: Sequence[Typed], what: str, keep: str = "true") -> str:
    """A QUALIFY condition over grouped rows keyed by `keys` (a timestamp with time zone among them):
    fails the statement when two rows have the same instants (one instant in two zones), else
    keeps the rows where `keep` (a HAVING condition moved here, so it runs after the check)."""
    window = "PARTITION BY " + ", ".join(instant_of(k) for k in keys)
    message = MIXED.format(what=what)
    return f"CASE WHEN count(*) OVER ({window}) > 1 THEN error('{message}') ELSE {keep} END"


def has_instant_key(keys: Sequence[Typed]) -> bool:
    return any(k.type.name == "timestamptz" for k in keys)
