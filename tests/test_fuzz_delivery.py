"""Fuzzing the delivery path: 12,000 malformed records of many kinds mixed with 5,000 valid events.
Not one valid event is lost or duplicated, every malformed record is isolated with its reason and
its exact bytes, and the hour reconciles: sent = delivered + errors."""

import base64
import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from dw_platform.delivery.conversion import MALFORMED, TOO_LARGE, TYPE_MISMATCH
from dw_platform.delivery.sending import deliver
from dw_platform.lake.stats import hour_stats
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime

HOUR = datetime(2026, 3, 1, 10, tzinfo=UTC)
VALID_EVENTS = 5_000
MALFORMED_PER_KIND = 1_000


def event(rng: random.Random, index: int) -> dict[str, object]:
    return {
        "id": f"valid-{index}",
        "session_id": f"s{rng.randrange(100)}",
        "event_time": "2026-03-01T10:01:02Z",
    }


def truncated(rng: random.Random, i: int) -> bytes:
    text = json.dumps(event(rng, i)).encode()
    return text[: rng.randrange(1, len(text) - 1)]  # an object that never closes


def unbalanced(rng: random.Random, i: int) -> bytes:
    return json.dumps(event(rng, i)).encode() + b"}" * rng.randrange(1, 4)


def array(rng: random.Random, i: int) -> bytes:
    return json.dumps([event(rng, i)] * rng.randrange(0, 3)).encode()


def scalar(rng: random.Random, i: int) -> bytes:
    return rng.choice([b"42", b'"text"', b"true", b"null", b"-0.5", f'"{i}"'.encode()])


def wrong_type(rng: random.Random, i: int) -> bytes:
    value = rng.choice([{"nested": i}, [i], {"a": [1, {"b": 2}]}])
    return json.dumps({**event(rng, i), rng.choice(["id", "session_id", "event_time"]): value}).encode()


def not_a_number(rng: random.Random, i: int) -> bytes:
    return f'{{"id": "x{i}", "session_id": {rng.choice(["NaN", "Infinity", "-Infinity"])}}}'.encode()


def bad_encoding(rng: random.Random, i: int) -> bytes:
    text = json.dumps({**event(rng, i), "session_id": f"caf\u00e9-{i}"}, ensure_ascii=False)
    return text.encode(rng.choice(["latin-1", "utf-16", "utf-32", "cp1252"]))


def deep_nesting(rng: random.Random, i: int) -> bytes:
    depth = rng.randrange(1_000, 200_000)
    return b'{"id": ' + b"[" * depth + b"1" + b"]" * depth + b"}"


def blank(rng: random.Random, i: int) -> bytes:
    return rng.choice([b"", b" ", b"\t", b"\r", b"  \t  "])


def binary(rng: random.Random, i: int) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) + b"\xff"  # never UTF-8


def trailing_garbage(rng: random.Random, i: int) -> bytes:
    return json.dumps(event(rng, i)).encode() + rng.choice([b" x", b",", b" {", b"]"])


def oversized(rng: random.Random, i: int) -> bytes:
    return json.dumps({**event(rng, i), "session_id": "x" * (1024 * 1024)}).encode()


KINDS: dict[str, tuple[Callable[[random.Random, int], bytes], int, set[str]]] = {
    "truncated": (truncated, MALFORMED_PER_KIND, {MALFORMED}),
    "unbalanced": (unbalanced, MALFORMED_PER_KIND, {MALFORMED}),
    "array": (array, MALFORMED_PER_KIND, {MALFORMED}),
    "scalar": (scalar, MALFORMED_PER_KIND, {MALFORMED}),
    "wrong_type": (wrong_type, MALFORMED_PER_KIND, {TYPE_MISMATCH}),
    "not_a_number": (not_a_number, MALFORMED_PER_KIND, {MALFORMED}),
    "bad_encoding": (bad_encoding, MALFORMED_PER_KIND, {MALFORMED}),
    "deep_nesting": (deep_nesting, 200, {MALFORMED}),
    "blank": (blank, MALFORMED_PER_KIND, {MALFORMED}),
    "binary": (binary, MALFORMED_PER_KIND, {MALFORMED}),
    "trailing_garbage": (trailing_garbage, MALFORMED_PER_KIND, {MALFORMED}),
    "oversized": (oversized, 5, {TOO_LARGE}),
}


@pytest.mark.slow
def test_fuzzed_records_are_isolated_and_reconcile(runtime: Runtime) -> None:
    rng = random.Random(20261122)
    malformed: list[tuple[str, bytes]] = [
        (kind, make(rng, i)) for kind, (make, count, _) in KINDS.items() for i in range(count)
    ]
    malformed += [
        ("utf16_bom", b"\xff\xfe" + json.dumps(event(rng, i)).encode("utf-16-le")) for i in range(800)
    ]
    assert len(malformed) >= 10_000
    valid = [json.dumps(event(rng, i)).encode() for i in range(VALID_EVENTS)]
    records = [r for _, r in malformed] + valid
    rng.shuffle(records)

    summary = deliver(runtime, "clicks", records, arrival=HOUR + timedelta(minutes=5), batches=20)
    assert (summary.sent, summary.delivered, summary.errors) == (len(records), VALID_EVENTS, len(malformed))

    register_hours(runtime, "clicks", ["2026/03/01/10"])
    ids = (
        runtime.engine.query("SELECT id FROM clicks WHERE inserted_at = '2026/03/01/10'")
        .table.column("id")
        .to_pylist()
    )
    assert Counter(ids) == Counter(f"valid-{i}" for i in range(VALID_EVENTS)), (
        "no valid event lost or doubled"
    )

    isolated = [
        json.loads(line)
        for key in summary.error_objects
        for line in runtime.lake.read_bytes(key).splitlines()
        if line.strip()
    ]
    assert Counter(base64.b64decode(e["rawData"]) for e in isolated) == Counter(r for _, r in malformed)
    expected_codes = {r: codes for kind, (_, _, codes) in KINDS.items() for k, r in malformed if k == kind}
    for record in isolated:
        raw = base64.b64decode(record["rawData"])
        assert record["errorMessage"], "every isolated record says why"
        assert record["errorCode"] in expected_codes.get(raw, {MALFORMED}), (raw[:80], record["errorCode"])

    stats = hour_stats(runtime.lake, "clicks", "2026/03/01/10")
    assert (stats.sent, stats.rows, stats.error_records) == (len(records), VALID_EVENTS, len(malformed))
    assert stats.reconciled
