"""The lake: objects under S3-style keys, on a local directory or an S3 bucket (pyarrow filesystems).
A local lake lists and writes its objects with the os module and imports pyarrow only when Arrow is
read or written (importing it costs every `dw query` about 0.15 s of CPU).

Writes are atomic: a reader sees a whole object or none of it. Names starting with `.` or `_`
are hidden, as they are to Athena. The temporaries of local writes (`.<name>.<uuid>.tmp`) are never
listed, not even with the hidden objects: a writer killed before its rename leaves one behind (empty
or partial), and `sweep_temporaries` deletes those once they are old enough to be dead.
"""

import contextlib
import dataclasses
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.fs as pafs


@dataclasses.dataclass(frozen=True)
class LakeObject:
    key: str
    size: int
    modified: datetime | None = None


# What S3 (through pyarrow's AWS SDK) reports for throttling and dropped connections. The SDK
# retries most calls itself; completing a multipart upload it does not, so whole-object writes are
# retried here too (a write repeats the same bytes: safe to do twice).
TRANSIENT_S3_ERRORS = (
    "SLOW_DOWN",
    "SlowDown",
    "reduce your request rate",
    "curlCode",
    "NETWORK_CONNECTION",
    "Connection",
    "connection",
    "timed out",
    "SERVICE_UNAVAILABLE",
    "INTERNAL_FAILURE",
)
WRITE_ATTEMPTS = 6
# An endpoint that never answers: the SDK waits 3 s per attempt (curl's low-speed limit) and has
# already spent its attempts on every call but CompleteMultipartUpload, so retrying such a call
# here too would only multiply the wait.
NO_ANSWER_S3_ERRORS = ("curlCode: 28", "Timeout was reached", "Operation too slow")
SDK_UNRETRIED_CALLS = ("CompleteMultipartUpload",)


def _worth_retrying(error: OSError) -> bool:
    message = str(error)
    if any(m in message for m in NO_ANSWER_S3_ERRORS):
        return any(call in message for call in SDK_UNRETRIED_CALLS)
    return any(m in message for m in TRANSIENT_S3_ERRORS)


def _retrying_transient(operation: Callable[[], object], what: str) -> None:
    for attempt in range(WRITE_ATTEMPTS):
        try:
            operation()
            return
        except OSError as error:
            if attempt == WRITE_ATTEMPTS - 1 or not _worth_retrying(error):
                raise OSError(f"{what} failed after {attempt + 1} attempts: {error}") from error
            time.sleep(random.uniform(0, min(5.0, 0.1 * 2**attempt)))  # full jitter


def is_hidden(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return name.startswith((".", "_"))


_TEMPORARY_SUFFIX = ".tmp"
# A local write takes well under a second per object; a temporary older than this is a dead writer's.
TEMPORARY_GRACE = timedelta(minutes=10)


def is_temporary(key: str) -> bool:
    """The hidden temporary of an atomic local write (complete or not, it is never an object)."""
    name = key.rsplit("/", 1)[-1]
    return name.startswith(".") and name.endswith(_TEMPORARY_SUFFIX)


class Lake:
    def __init__(self, filesystem: "pafs.FileSystem | None", base: str, uri_base: str) -> None:
        """`filesystem`: None for a local directory (a pyarrow LocalFileSystem, made when needed)."""
        self._filesystem = filesystem
        self.base = base.rstrip("/")
        self.uri_base = uri_base.rstrip("/")
        self.is_local = filesystem is None or type(filesystem).__name__ == "LocalFileSystem"

    @classmethod
    def local(cls, directory: Path) -> "Lake":
        directory = directory.resolve()
        directory.mkdir(parents=True, exist_ok=True)
        return cls(None, str(directory), str(directory))

    @property
    def filesystem(self) -> "pafs.FileSystem":
        if self._filesystem is None:
            import pyarrow.fs as pafs

            self._filesystem = pafs.LocalFileSystem()
        return self._filesystem

    def path(self, key: str) -> str:
        return f"{self.base}/{key}"

    def uri(self, key: str) -> str:
        """Where a query engine reads the object (a local path or an s3:// URI)."""
        return f"{self.uri_base}/{key}"

    def display_uri(self, key: str) -> str:
        """The object's URI as Athena's `"$path"` shows it: s3://... on AWS, file://... locally."""
        uri = self.uri(key)
        return f"file://{uri}" if self.is_local and uri.startswith("/") else uri

    def put_bytes(self, key: str, data: bytes | memoryview) -> None:
        if self.is_local:
            # Write beside the target under a hidden name, then rename: atomic on one filesystem.
            target = Path(self.path(key))
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}{_TEMPORARY_SUFFIX}")
            temporary.write_bytes(data)
            temporary.replace(target)
            return

        def upload() -> None:
            with self.filesystem.open_output_stream(self.path(key)) as stream:  # atomic on S3
                stream.write(data)

        _retrying_transient(upload, f"writing {self.uri(key)}")

    def write_parquet(self, key: str, table: "pa.Table", *, compression: str = "snappy") -> int:
        """Write `table` as one Parquet object; returns its size in bytes."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression=compression)
        data = memoryview(sink.getvalue())  # no copy of the encoded bytes
        self.put_bytes(key, data)
        return data.nbytes

    def open_output(self, key: str) -> "pa.NativeFile":
        """A stream writing one object; for large outputs written piece by piece (not atomic:
        write only where no reader looks yet)."""
        if self.is_local:
            Path(self.path(key)).parent.mkdir(parents=True, exist_ok=True)
        return self.filesystem.open_output_stream(self.path(key))

    def read_bytes(self, key: str) -> bytes:
        with self.filesystem.open_input_stream(self.path(key)) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        if self.is_local:
            return os.path.isfile(self.path(key))
        import pyarrow.fs as pafs

        return self.filesystem.get_file_info(self.path(key)).type == pafs.FileType.File

    def delete(self, key: str) -> None:
        self.filesystem.delete_file(self.path(key))

    def list_objects(
        self, prefix: str, *, include_hidden: bool = False, include_temporaries: bool = False
    ) -> list[LakeObject]:
        """Objects under `prefix` (recursively, as Athena reads a location), sorted by key; hidden
        ones (`.`/`_` names, such as manifests) only if asked for; write temporaries only for
        deleting them."""
        return sorted(
            (
                o
                for o in self._iter_objects(prefix, include_hidden or include_temporaries)
                if include_temporaries or not is_temporary(o.key)
            ),
            key=lambda o: o.key,
        )

    def sweep_temporaries(self, prefix: str, *, now: datetime | None = None) -> int:
        """Delete the temporaries crashed writers left under `prefix` (those older than
        TEMPORARY_GRACE: a younger one may belong to a write in progress); returns how many."""
        moment = now or datetime.now(UTC)
        dead = [
            o
            for o in self.list_objects(prefix, include_temporaries=True)
            if is_temporary(o.key) and o.modified is not None and moment - o.modified >= TEMPORARY_GRACE
        ]
        for obj in dead:
            with contextlib.suppress(FileNotFoundError):  # another sweeper got there first
                self.delete(obj.key)
        return len(dead)

    def _iter_objects(self, prefix: str, include_hidden: bool) -> Iterator[LakeObject]:
        if self.is_local:
            yield from self._iter_local_objects(prefix, include_hidden)
            return
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(self.path(prefix.rstrip("/")), allow_not_found=True, recursive=True)
        start = len(self.base) + 1
        for info in self.filesystem.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            key = info.path[start:]
            if include_hidden or not is_hidden(key):
                modified = info.mtime.astimezone(UTC) if info.mtime else None
                yield LakeObject(key, info.size or 0, modified)

    def _iter_local_objects(self, prefix: str, include_hidden: bool) -> Iterator[LakeObject]:
        """As pyarrow's LocalFileSystem lists them: regular files under the folder, recursively
        (symbolic links followed), a missing folder as none, mtimes as pyarrow converts them (through
        float seconds: the same microsecond as before this listing replaced pyarrow's)."""
        start = len(self.base) + 1
        folders = [self.path(prefix.rstrip("/"))]
        while folders:
            try:
                entries = list(os.scandir(folders.pop()))
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.is_dir():
                    folders.append(entry.path)
                    continue
                if not entry.is_file():
                    continue
                key = entry.path[start:]
                if include_hidden or not is_hidden(key):
                    stat = entry.stat()
                    modified = datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC)
                    yield LakeObject(key, stat.st_size, modified)
