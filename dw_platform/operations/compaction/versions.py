"""What a compacted version holds, from the lake alone.

Two independent records describe a version: its `_manifest.json`, and the footer of every data file
it wrote (key `dw.version`: the version, the raw objects it contains, and the file's place among the
files its writers produced, so a complete set of files can be told from a crashed run's partial
one). A lost or garbled manifest is recovered from the footers; a version neither describes
(files written by Athena's UNLOAD or before footers carried the record) is *undescribed*: never
treated as absent and never deleted.
"""

import dataclasses
import json
import re
from collections.abc import Sequence
from datetime import datetime

import pyarrow.parquet as pq

from dw_platform.errors import DwError
from dw_platform.lake.layout import hour_root, manifest_object, version_of
from dw_platform.lake.store import Lake, LakeObject, is_hidden
from dw_platform.operations.compaction.manifest import Manifest

FOOTER_KEY = "dw.version"
TORN = -1  # rows of a data file without a readable footer
_VERSION_FOLDER = re.compile(r"^v\d{5}-[0-9a-f]{12}$")


class VersionUndescribedError(DwError, ValueError):
    """A compacted version whose content the lake cannot establish: the hour is not compacted
    further and the version is kept, until its manifest is restored."""


@dataclasses.dataclass(frozen=True)
class FileStamp:
    """The footer record of one data file of a version."""

    table: str
    inserted_at: str
    version: int
    location: str
    raw_objects: tuple[str, ...]
    dedupe_key: str | None
    created_at: str
    shares: int  # writers of the version
    share: int
    part: int  # the file's number within its share, from 0
    last: bool  # the share's last file

    def to_footer(self) -> dict[str, str]:
        return {FOOTER_KEY: json.dumps(dataclasses.asdict(self), sort_keys=True)}

    @classmethod
    def from_footer(cls, metadata: dict[bytes, bytes] | None) -> "FileStamp | None":
        raw = (metadata or {}).get(FOOTER_KEY.encode())
        if raw is None:
            return None
        data = json.loads(raw)
        data["raw_objects"] = tuple(data["raw_objects"])
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class VersionState:
    location: str
    objects: tuple[LakeObject, ...]  # everything under the prefix, hidden ones included
    manifest: Manifest | None  # complete, from the manifest or recovered from the footers
    # What its files say it holds, even when incomplete (empty: no readable file); None: unknown.
    claimed_raw: tuple[str, ...] | None
    problem: str | None  # why it is not complete, or undescribed
    recovered: bool = False  # described by its footers alone (the manifest is lost or garbled)

    @property
    def complete(self) -> bool:
        return self.manifest is not None

    @property
    def newest_write(self) -> datetime | None:
        times = [o.modified for o in self.objects if o.modified is not None]
        return max(times) if times else None


def _data_files(objects: Sequence[LakeObject]) -> list[LakeObject]:
    return [o for o in objects if not is_hidden(o.key)]


def _from_manifest(lake: Lake, location: str, files: Sequence[LakeObject]) -> tuple[Manifest | None, str]:
    key = manifest_object(location)
    if not lake.exists(key):
        return None, "its manifest is missing"
    try:
        manifest = Manifest.from_json(lake.read_bytes(key).decode())
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as error:
        return None, f"its manifest is unreadable ({type(error).__name__})"
    if manifest.location != location:
        return None, f"its manifest describes another location ({manifest.location})"
    if sorted(manifest.files) != sorted(o.key for o in files):
        return None, "its manifest lists other files than the prefix holds"
    return manifest, ""


def _stamps(lake: Lake, files: Sequence[LakeObject]) -> list[tuple[LakeObject, FileStamp | None, int]]:
    stamped = []
    for obj in files:
        try:
            with lake.filesystem.open_input_file(lake.path(obj.key)) as handle:
                metadata = pq.ParquetFile(handle).metadata
            stamped.append((obj, FileStamp.from_footer(metadata.metadata), metadata.num_rows))
        except (OSError, ValueError, TypeError, KeyError):  # torn (a crash mid-write): no reader can read it
            stamped.append((obj, None, TORN))
    return stamped


def _from_footers(
    location: str, stamped: list[tuple[LakeObject, FileStamp | None, int]]
) -> tuple[Manifest | None, tuple[str, ...] | None, str]:
    stamps = [s for _, s, _ in stamped if s is not None]
    readable_unstamped = [o for o, s, n in stamped if s is None and n != TORN]
    if not stamps:
        if readable_unstamped:
            return None, None, "no data file carries a version record"
        return None, (), "it holds no readable data file (a run interrupted while writing)"
    # A file the platform's writers did not stamp could hold anything: nothing is claimed then.
    claimed = None if readable_unstamped else tuple(sorted({k for s in stamps for k in s.raw_objects}))
    first = stamps[0]
    common = ("table", "inserted_at", "version", "location", "raw_objects", "created_at", "shares")
    if len(stamps) != len(stamped) or any(getattr(s, f) != getattr(first, f) for s in stamps for f in common):
        return None, claimed, "its files disagree or some carry no version record"
    if first.location != location:
        return None, claimed, f"its files describe another location ({first.location})"
    for share in range(first.shares):
        parts = sorted((s.part, s.last) for s in stamps if s.share == share)
        if [p for p, _ in parts] != list(range(len(parts))) or not parts or not parts[-1][1]:
            return None, claimed, f"files of writer {share} are missing (an interrupted run)"
    manifest = Manifest(
        table=first.table,
        inserted_at=first.inserted_at,
        version=first.version,
        location=location,
        raw_objects=first.raw_objects,
        files=tuple(sorted(o.key for o, _, _ in stamped)),
        rows=sum(n for _, _, n in stamped),
        duplicates_removed=0,  # not recorded in the footers
        deduplicated=first.dedupe_key is not None,
        created_at=datetime.fromisoformat(first.created_at),
        dedupe_key=first.dedupe_key,
    )
    return manifest, claimed, ""


def inspect_version(lake: Lake, location: str, objects: Sequence[LakeObject] | None = None) -> VersionState:
    """The version at `location` as the lake records it."""
    if objects is None:
        objects = lake.list_objects(location, include_hidden=True)
    files = _data_files(objects)
    manifest, manifest_problem = _from_manifest(lake, location, files)
    recovered, claimed, footer_problem = _from_footers(location, _stamps(lake, files))
    if manifest is not None and (recovered is None or _agree(manifest, recovered)):
        # Files without footer records (UNLOAD's, older versions') have only the manifest to go by.
        return VersionState(location, tuple(objects), manifest, manifest.raw_objects, None)
    # The footers win over a manifest that says otherwise: deletions trust what a version holds.
    problem = None if recovered else f"{manifest_problem} and {footer_problem}"
    return VersionState(location, tuple(objects), recovered, claimed, problem, recovered is not None)


def _agree(manifest: Manifest, recovered: Manifest) -> bool:
    return (manifest.version, manifest.raw_objects, sorted(manifest.files), manifest.rows) == (
        recovered.version,
        recovered.raw_objects,
        sorted(recovered.files),
        recovered.rows,
    )


def describe_version(lake: Lake, location: str, *, repair: bool = False) -> Manifest:
    """The complete description of the version at `location`, or VersionUndescribedError. With
    `repair`, a manifest recovered from the footers is written back."""
    state = inspect_version(lake, location)
    if state.manifest is None:
        raise VersionUndescribedError(
            f"cannot describe compacted version {location}: {state.problem}; the hour is left as it is "
            "(nothing deleted): restore the manifest to compact it again (README: recovery)"
        )
    if repair and state.recovered:
        lake.put_bytes(manifest_object(location), state.manifest.to_json().encode())
    return state.manifest


def hour_versions(lake: Lake, table: str, hour: str) -> list[VersionState]:
    """Every version folder of an hour (complete, partial or undescribed), oldest first."""
    grouped: dict[str, list[LakeObject]] = {}
    root = hour_root(table, hour)
    for obj in lake.list_objects(root, include_hidden=True):
        folder = obj.key[len(root) :].split("/", 1)[0]
        if _VERSION_FOLDER.match(folder) and "/" in obj.key[len(root) :]:
            grouped.setdefault(f"{root}{folder}/", []).append(obj)
    states = [inspect_version(lake, location, objects) for location, objects in grouped.items()]
    return sorted(states, key=lambda s: (version_of(s.location) or 0, s.location))


def newest_complete(states: Sequence[VersionState]) -> Manifest | None:
    """The version a lost catalog pointed at: the highest complete one (versions are cumulative; of
    two of the same number, the one holding more raw objects, then the later)."""
    complete = [s.manifest for s in states if s.manifest is not None]
    if not complete:
        return None
    return max(complete, key=lambda m: (m.version, len(m.raw_objects), m.created_at))
