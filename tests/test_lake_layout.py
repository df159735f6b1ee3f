"""lake/layout.py owns every prefix and key shape of the lake: no other module spells one, so a
folder or an object name changes in one place and the IAM policies, Firehose's prefixes, readers
and writers cannot disagree."""

import ast
import re
import uuid
from datetime import datetime
from pathlib import Path

from dw_platform.delivery.firehose import LocalDeliveryStream
from dw_platform.lake.layout import data_object, delivery_ledger_entry, error_object, firehose_object_name
from dw_platform.lake.store import Lake
from tests.test_delivery_properties import TYPED

PACKAGE = Path(__file__).resolve().parents[1] / "dw_platform"
LAYOUT = PACKAGE / "lake" / "layout.py"
# Pieces only a key has: the layout's own folders, its object names and suffixes.
KEY_PIECE = re.compile(
    r"_delivery/|_replay/|_firehose/|_lease|compacted/|errors/|_manifest|results\.json"
    r"|\.parquet(?![.\w])|part-(\d|$)"
)
# The layout's folder and object names: imported elsewhere, they would be joined into keys there.
LAYOUT_NAMES = {
    "COMPACTED_ROOT",
    "DELIVERY_LEDGER_ROOT",
    "ERRORS_ROOT",
    "ERROR_OUTPUT_TYPE",
    "FIREHOSE_ROOT",
    "MANIFEST_NAME",
    "REPLAY_LEDGER_ROOT",
    "RESULT_OBJECT",
}


def key_pieces(path: Path, package: Path = PACKAGE) -> list[str]:
    """The string literals (f-strings' pieces included, docstrings not) and layout names of a module
    of `package` that spell part of a lake key."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if KEY_PIECE.search(node.value):
                found.append(f"{path.relative_to(package.parent)}:{node.lineno} {node.value!r}")
        elif isinstance(node, ast.ImportFrom) and node.module == "dw_platform.lake.layout":
            names = sorted(alias.name for alias in node.names if alias.name in LAYOUT_NAMES)
            found += [f"{path.relative_to(package.parent)}:{node.lineno} imports {name}" for name in names]
    return found


def test_no_module_but_the_layout_spells_a_lake_key() -> None:
    modules = [path for path in sorted(PACKAGE.rglob("*.py")) if path != LAYOUT]
    spelled = [piece for path in modules for piece in key_pieces(path)]
    assert spelled == []


def test_the_scan_sees_a_key_in_an_f_string(tmp_path: Path) -> None:
    module = tmp_path / "dw_platform" / "example.py"
    module.parent.mkdir()
    module.write_text(
        '"""Writes results.json (a docstring may say so)."""\n'
        "from dw_platform.lake.layout import COMPACTED_ROOT, hour_folder\n"
        "def key(prefix: str, n: int) -> str:\n"
        '    return f"{prefix}part-{n:05d}.parquet"\n'
        'MESSAGE = "failed part-way"\n'
    )
    found = [piece.split(" ", 1)[1] for piece in key_pieces(module, tmp_path / "dw_platform")]
    assert sorted(found) == ["'.parquet'", "'part-'", "imports COMPACTED_ROOT"]


def test_the_delivery_stream_writes_firehose_s_key_shapes(tmp_path: Path) -> None:
    """Firehose names an object `<stream>-<version>-<YYYY-MM-DD-HH-MM-SS>-<random>` (Amazon Data
    Firehose developer guide, "Amazon S3 object name format") in its `YYYY/MM/DD/HH/` folder; the
    local stream's objects, error objects and ledger entries are the layout's keys."""
    arrival = datetime(2026, 3, 1, 10, 4, 5)
    name = firehose_object_name("analytics_dw-typed", arrival, uuid.UUID(int=7))
    assert name == "analytics_dw-typed-1-2026-03-01-10-04-05-00000000-0000-0000-0000-000000000007"

    lake = Lake.local(tmp_path / "lake")
    with LocalDeliveryStream(TYPED, TYPED.table("typed"), lake) as stream:
        stream.put_records([b'{"id": "a"}', b"not json"], arrival)
    (written,) = stream.summary.objects
    (isolated,) = stream.summary.error_objects
    object_name = written.rsplit("/", 1)[1].removesuffix(".parquet")
    assert re.fullmatch(rf"{TYPED.name}-typed-1-2026-03-01-10-04-05-[0-9a-f-]{{36}}", object_name)
    assert written == data_object("typed", "2026/03/01/10", object_name)
    assert isolated == error_object("typed", "2026/03/01/10", object_name)
    assert lake.exists(delivery_ledger_entry("typed", "2026/03/01/10", object_name))
