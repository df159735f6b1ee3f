"""The errors table shows what became of each replayed record: `dw replay` adds its outcome to the
record's line in the error object (`dwReplayStatus`, `dwReplayedInto`, `dwReplayErrorCode`,
`dwReplayErrorMessage`, `dwReplayId`), leaving Firehose's fields and every line's place as they
were, in one atomic rewrite per object. Derived from the ledger, so annotating again after a crash
gives the same objects."""

import json
from collections.abc import Iterable, Mapping

from dw_platform.lake.store import Lake
from dw_platform.operations.replay.ledger import Outcome
from dw_platform.operations.replay.records import parse_lines, record_id

ANNOTATION_KEYS = (
    "dwReplayStatus",
    "dwReplayedInto",
    "dwReplayErrorCode",
    "dwReplayErrorMessage",
    "dwReplayId",
)


def _annotation(outcome: Outcome) -> dict[str, str]:
    fields = {"dwReplayStatus": outcome.status, "dwReplayId": outcome.replay_id}
    if outcome.status == "delivered":
        fields["dwReplayedInto"] = outcome.landed_hour or ""
    else:
        fields |= {"dwReplayErrorCode": outcome.error_code, "dwReplayErrorMessage": outcome.error_message}
    return fields


def annotate_objects(lake: Lake, object_keys: Iterable[str], outcomes: Mapping[str, Outcome]) -> int:
    """Rewrite the error objects whose records' outcomes changed; returns how many were rewritten."""
    rewritten = 0
    for key in sorted(set(object_keys)):
        payload = lake.read_bytes(key)
        lines = payload.split(b"\n")
        for index, record in parse_lines(key, payload):
            outcome = outcomes.get(record_id(key, index))
            if outcome is None:
                continue
            updated = {k: v for k, v in record.items() if k not in ANNOTATION_KEYS} | _annotation(outcome)
            lines[index] = json.dumps(updated, separators=(",", ":")).encode()
        new = b"\n".join(lines)
        if new != payload:
            lake.put_bytes(key, new)
            rewritten += 1
    return rewritten
