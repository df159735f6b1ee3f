"""Where compacted versions live: `compacted/<table>/YYYY/MM/DD/HH/v00001-<token>/part-00000.parquet`.

Versions sit outside the table's raw prefix so that a raw hour folder (Firehose's) and a compacted
version never overlap; the catalog says which one an hour is read from.
"""

import re
import uuid

COMPACTED_ROOT = "compacted"
MANIFEST_NAME = "_manifest.json"
_VERSION = re.compile(r"/v(\d{5})-[0-9a-f]{12}/$")


def hour_root(table: str, hour: str) -> str:
    return f"{COMPACTED_ROOT}/{table}/{hour}/"


def new_version_prefix(table: str, hour: str, version: int) -> str:
    """A fresh prefix: the token keeps two concurrent compactions of one hour apart."""
    return f"{hour_root(table, hour)}v{version:05d}-{uuid.uuid4().hex[:12]}/"


def version_of(location: str) -> int | None:
    """The version number of a compacted location, None for a raw hour folder."""
    if not location.startswith(f"{COMPACTED_ROOT}/"):
        return None
    match = _VERSION.search(location)
    return int(match.group(1)) if match else None
