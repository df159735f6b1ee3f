"""The repository is a dg project: `dg list defs` lists every definition the declaration implies,
and a second warehouse is one more folder of the defs folder (`dg scaffold defs`)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dw_platform.components.yaml_declaration import (
    BatchTableModel,
    ColumnModel,
    StreamingTableModel,
    declared_warehouse,
)
from dw_platform.declaration.warehouse import DeclarationError, ServerlessDataWarehouse, TableKind
from dw_platform.defs.analytics_dw.warehouse import analytics_dw

REPO = Path(__file__).resolve().parents[1]
DG = Path(sys.executable).parent / "dg"


def _dg(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd), "DW_HOME": str(cwd / ".dw"), **extra}
    return subprocess.run(
        [str(DG), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _project_copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "dw_platform", root / "dw_platform", ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


INVENTORY_YAML = """
type: dw_platform.components.WarehouseComponent
attributes:
  name: inventory_dw
  streaming_tables:
    - name: orders
      columns: [{name: id}, {name: session_id}, {name: event_time}]
  batch_tables:
    - name: order_counts
      columns: [{name: event_type}, {name: count, type: int}, {name: time}]
      job: dw_platform.defs.analytics_dw.jobs:count_events_per_hour
      inputs: [orders]
"""


def test_the_yaml_form_refuses_what_the_python_form_refuses(tmp_path: Path) -> None:
    bad = [ColumnModel(name="id", type="varchar2")]
    with pytest.raises(DeclarationError) as from_yaml:
        declared_warehouse("w", tmp_path, [StreamingTableModel(name="e", columns=bad)], [], [])
    with pytest.raises(DeclarationError) as from_python:
        ServerlessDataWarehouse("w").with_streaming_input_table("e", [("id", "varchar2")])
    assert str(from_yaml.value) == str(from_python.value)
    assert "unknown type 'varchar2'" in str(from_yaml.value)
    job = BatchTableModel(name="b", columns=[ColumnModel(name="n")], job="nosuch.module:fn")
    with pytest.raises(DeclarationError, match=r"job 'nosuch\.module:fn' cannot be loaded"):
        declared_warehouse("w", tmp_path, [], [], [job])


def _expected_assets(name: str, streaming: list[str], others: list[str]) -> set[str]:
    keys = {f"infrastructure/{name}"}
    keys |= {f"{name}/{table}" for table in streaming}
    keys |= {f"{name}/{table}_compacted" for table in streaming}
    keys |= {f"{name}/{table}" for table in others}
    return keys


@pytest.mark.e2e
def test_a_second_warehouse_is_one_more_folder(tmp_path: Path) -> None:
    root = _project_copy(tmp_path)
    scaffolded = _dg(root, "scaffold", "defs", "dw_platform.components.WarehouseComponent", "sales_dw")
    assert scaffolded.returncode == 0, scaffolded.stderr
    folder = root / "dw_platform" / "defs" / "sales_dw"
    assert (folder / "defs.yaml").exists() and (folder / "warehouse.py").exists()

    # A third, declared in YAML instead of Python.
    yaml_folder = root / "dw_platform" / "defs" / "inventory_dw"
    yaml_folder.mkdir()
    (yaml_folder / "defs.yaml").write_text(INVENTORY_YAML)

    listed = _dg(root, "list", "defs", "--json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assets = {a["asset_key"] for a in items["assets"]}
    # The retailer's tables as declared (streaming ones with their compaction), and the scaffolded
    # warehouse's one streaming table.
    streaming = [t.name for t in analytics_dw.tables_of(TableKind.STREAMING)]
    others = [t.name for t in analytics_dw.tables if t.kind in (TableKind.BATCH, TableKind.STATIC)]
    expected = _expected_assets("analytics_dw", streaming, others)
    expected |= _expected_assets("sales_dw", ["events"], [])
    expected |= _expected_assets("inventory_dw", ["orders"], ["order_counts"])
    assert assets == expected
    checks = {(c["asset_key"], c["name"]) for c in items["asset_checks"]}
    assert {asset for asset, _ in checks} >= {f"analytics_dw/{t}" for t in streaming} | {"sales_dw/events"}
    schedules = {s["name"] for s in items["schedules"]}
    sensors = {s["name"] for s in items["sensors"]}
    assert any(name.startswith("sales_dw") for name in schedules | sensors)
    assert any(name.startswith("analytics_dw") for name in schedules | sensors)

    # A bucket named for the code location would be every warehouse's: refused, naming them all.
    shared = _dg(root, "list", "defs", "--json", DW_PROFILE="aws", DW_DATA_BUCKET="acme-dw-data")
    assert shared.returncode != 0
    assert (
        "DW_DATA_BUCKET name one stack's resources, but this code location runs 3 warehouses "
        "(analytics_dw, inventory_dw, sales_dw)" in shared.stderr
    ), shared.stderr[-2000:]
