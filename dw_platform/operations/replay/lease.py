"""One replay of a table at a time. Two replays planned at once would both deliver the records
neither sees delivered yet, and a replay finishing another's stopped intent while that one is still
delivering would put its records twice: the ledger's exactly-once holds only if its writers take
turns.

Locally the lease is an exclusive `flock` on `_replay/<table>/_lease` (`_lease.holder` beside it
names the holder), which the kernel releases when its process ends however it ends, kill -9
included, so it never goes stale. On S3 it is the object `_replay/<table>/_lease.json`, created only
if absent (`If-None-Match: *`) and deleted at the end if it is still this replay's (`If-Match`). A
replay killed on AWS leaves it behind, and the next one refuses, naming the holder, until it is
deleted by hand: whether the holder still delivers cannot be told from another machine."""

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dw_platform.errors import DwError
from dw_platform.lake.layout import replay_lease_lock, replay_lease_object
from dw_platform.runtime.backends import Runtime


class ReplayInProgress(DwError):
    """Another replay of the table holds its lease."""


def _holder() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": datetime.now(UTC).isoformat()}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "its holder is starting or ending"
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"


@contextlib.contextmanager
def replay_lease(runtime: Runtime, table: str) -> Iterator[None]:
    """Hold the table's replay lease for the body, or raise ReplayInProgress at once."""
    if runtime.lake.is_local:
        with _local_lease(Path(runtime.lake.path(replay_lease_lock(table))), table):
            yield
    else:
        with _s3_lease(runtime, replay_lease_object(table), table):
            yield


@contextlib.contextmanager
def _local_lease(path: Path, table: str) -> Iterator[None]:
    """The lock file stays (empty, never rewritten); who holds it is written beside it for the
    refusal and removed at the end, so a replay that changes nothing leaves the lake as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = path.with_name(f"{path.name}.holder")
    descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReplayInProgress(
                f"another replay of {table} is running ({_describe(_read_local(holder))}); "
                "run this one again when it has ended"
            ) from None
        holder.write_text(json.dumps(_holder()))
        try:
            yield
        finally:
            holder.unlink(missing_ok=True)
    finally:
        os.close(descriptor)  # releases the lock


def _read_local(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # gone or half-written: its holder is just ending or starting
        return {}


@contextlib.contextmanager
def _s3_lease(runtime: Runtime, key: str, table: str) -> Iterator[None]:
    from botocore.exceptions import ClientError  # AWS only: `dw status` imports this module

    from dw_platform.aws.clients import aws_client
    from dw_platform.aws.errors import error_code

    assert runtime.aws_region is not None  # a lake on S3 is the AWS profile's
    s3 = aws_client("s3", runtime.aws_region)
    # The whole key (the lake's root included: the lease is this warehouse's), as the lake names it.
    bucket, _, key = runtime.lake.uri(key).removeprefix("s3://").partition("/")
    try:
        put = s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(_holder()).encode(), IfNoneMatch="*")
    except ClientError as error:
        if error_code(error) not in ("PreconditionFailed", "ConditionalRequestConflict"):  # not "it exists"
            raise
        try:
            holder = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except (ClientError, ValueError):
            holder = {}
        raise ReplayInProgress(
            f"another replay of {table} holds s3://{bucket}/{key} ({_describe(holder)}); run this one again "
            "when it has ended, or, if that process is gone (killed), delete the object first"
        ) from None
    try:
        yield
    finally:
        # Only this lease: if it was deleted by hand meanwhile and another replay took the key, that
        # replay's lease stays.
        try:
            s3.delete_object(Bucket=bucket, Key=key, IfMatch=put["ETag"])
        except ClientError as error:
            if error_code(error) not in ("PreconditionFailed", "NoSuchKey"):
                raise
