"""A compacted version's manifest: which raw objects it contains (so late objects can be told
apart), which files it wrote and what it removed."""

import dataclasses
import json
from datetime import datetime

from dw_platform.lake.layout import manifest_object
from dw_platform.lake.store import Lake


@dataclasses.dataclass(frozen=True)
class Manifest:
    table: str
    inserted_at: str
    version: int
    location: str
    raw_objects: tuple[str, ...]  # every raw object ever folded into this hour, cumulative
    files: tuple[str, ...]
    rows: int
    duplicates_removed: int
    deduplicated: bool
    created_at: datetime
    dedupe_key: str | None = None  # the column de-duplicated on (None: not de-duplicated)

    def to_json(self) -> str:
        data = dataclasses.asdict(self)
        data["created_at"] = self.created_at.isoformat()
        return json.dumps(data, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        data["raw_objects"] = tuple(data["raw_objects"])
        data["files"] = tuple(data["files"])
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        return cls(**data)


def read_manifest(lake: Lake, location: str) -> Manifest | None:
    key = manifest_object(location)
    return Manifest.from_json(lake.read_bytes(key).decode()) if lake.exists(key) else None


def write_manifest(lake: Lake, manifest: Manifest) -> None:
    lake.put_bytes(manifest_object(manifest.location), manifest.to_json().encode())
