"""`dw` as a client of the project's code location (issue 25): its warehouses are those of the defs
folder `dg dev` loads, `--warehouse NAME` (or DW_WAREHOUSE) chooses among several, and nothing of the
package outside the defs folder imports it."""

import ast
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dw_process import dw, dw_env, one_line_error, warehouse_catalog, warehouse_lake

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "dw_platform"
DEFS = PACKAGE / "defs"
HOUR = "2026-03-01T10"


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved, `from a import b` as a and a.b."""
    package = path.relative_to(REPO).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_nothing_outside_the_defs_folder_imports_it() -> None:
    """The defs folder is reached through the code location alone: no import of it, and no module
    name of it handed to importlib, anywhere else in the package."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(DEFS):
            continue
        imports = [
            m for m in imported_modules(path) if m == "dw_platform.defs" or m.startswith("dw_platform.defs.")
        ]
        named = re.findall(r"dw_platform\.defs\b[\w.]*", path.read_text())
        if imports or named:
            offenders.append((str(path.relative_to(REPO)), sorted({*imports, *named})))
    assert offenders == []


def test_the_project_declares_analytics_dw_and_dw_needs_no_choice() -> None:
    from dw_platform.cli.project import choose, declared_warehouses
    from dw_platform.defs.analytics_dw.warehouse import analytics_dw

    declared = declared_warehouses()
    assert [(d.name, d.warehouse) for d in declared] == [("analytics_dw", analytics_dw)]
    assert declared[0].warehouse is analytics_dw  # the very object the code location loads
    assert choose(declared, None) is declared[0]


@pytest.mark.parametrize(
    ("argv", "chosen"),
    [
        (["status"], None),
        (["--warehouse", "sales_dw", "status"], "sales_dw"),
        (["status", "--warehouse", "sales_dw"], "sales_dw"),
        (["--warehouse", "analytics_dw", "status", "--warehouse", "sales_dw"], "sales_dw"),
        (["catalog", "rebuild", "--warehouse", "sales_dw"], "sales_dw"),
        (["provision", "plan", "--warehouse", "sales_dw"], "sales_dw"),
        (["query", "SELECT 1", "--warehouse", "sales_dw"], "sales_dw"),
    ],
)
def test_warehouse_is_taken_before_or_after_the_command(argv: list[str], chosen: str | None) -> None:
    """`dw status --warehouse X` as well as `dw --warehouse X status`; the later one wins."""
    from dw_platform.cli.main import build_parser

    assert build_parser().parse_args(argv).warehouse == chosen


def _project(tmp_path: Path) -> Path:
    """A copy of this project (its pyproject.toml and package), to add warehouses to."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "pyproject.toml", project)
    shutil.copytree(PACKAGE, project / "dw_platform", ignore=shutil.ignore_patterns("__pycache__"))
    return project


@pytest.fixture(scope="module")
def two_warehouses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with a second warehouse, made as the README says: `dg scaffold defs`."""
    project = _project(tmp_path_factory.mktemp("scaffolded"))
    dg = Path(sys.executable).parent / "dg"
    scaffold = [str(dg), "scaffold", "defs", "dw_platform.components.WarehouseComponent", "sales_dw"]
    result = subprocess.run(
        scaffold, cwd=project, env=dw_env(project, PYTHONPATH=str(project)), capture_output=True, timeout=300
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert (project / "dw_platform" / "defs" / "sales_dw" / "warehouse.py").is_file()
    return project


def _env(project: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    return dw_env(tmp_path, PYTHONPATH=str(project), **extra)


def _tables(result: subprocess.CompletedProcess) -> set[str]:
    return {row["table"] for row in json.loads(result.stdout)}


@pytest.mark.e2e
def test_status_of_the_chosen_warehouse_and_a_refusal_naming_both(
    two_warehouses: Path, tmp_path: Path
) -> None:
    env = _env(two_warehouses, tmp_path)
    err = one_line_error(dw(env, "status", check=False, cwd=two_warehouses), "status")
    assert "analytics_dw" in err and "sales_dw" in err and "--warehouse" in err, err
    chosen = dw(env, "--warehouse", "sales_dw", "status", "--json", cwd=two_warehouses)
    assert _tables(chosen) == {"events", "events_errors"}  # the scaffold's one streaming table
    by_env = dw({**env, "DW_WAREHOUSE": "sales_dw"}, "status", "--json", cwd=two_warehouses)
    assert _tables(by_env) == {"events", "events_errors"}
    other = dw(env, "--warehouse", "analytics_dw", "status", "--json", cwd=two_warehouses)
    assert "impressions" in _tables(other) and "events" not in _tables(other)
    unknown = one_line_error(
        dw(env, "--warehouse", "nosuch", "status", check=False, cwd=two_warehouses), "status"
    )
    assert "'nosuch'" in unknown and "analytics_dw, sales_dw" in unknown, unknown


WAREHOUSE_COMMANDS = [
    ["send", "events"],
    ["drain"],
    ["query", "SELECT 1"],
    ["backfill", "--from", HOUR, "--to", HOUR],
    ["catalog", "rebuild"],
    ["replay", "events", "--from", HOUR, "--to", HOUR],
    ["provision", "plan"],
    ["provision", "apply", "--yes"],
    ["provision", "destroy", "--yes"],
    ["provision", "outputs"],
    ["provision", "policy", "--account", "1"],
    ["status"],
    ["demo"],
]


@pytest.mark.e2e
def test_every_warehouse_command_refuses_without_a_choice(two_warehouses: Path, tmp_path: Path) -> None:
    # Nothing is asked of AWS: should a command go past the choice, it finds nobody listening.
    env = _env(
        two_warehouses,
        tmp_path,
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_REGION="us-west-2",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    for command in WAREHOUSE_COMMANDS:
        err = one_line_error(dw(env, *command, check=False, cwd=two_warehouses), command[0])
        assert "several warehouses (analytics_dw, sales_dw)" in err, (command, err)
    written = [p for p in (tmp_path / "dw", two_warehouses / ".dw-demo") if p.exists() and _files(p)]
    assert written == [], "a refusal writes nothing"


def _files(home: Path) -> dict[str, str]:
    """Every file of a local home, by path below it, with its content's digest."""
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


COUNT = "SELECT count(*) AS n FROM {} WHERE inserted_at = '2026/03/01/10'"


def _count(env: dict[str, str], project: Path, warehouse: str, table: str) -> int:
    result = dw(env, "--warehouse", warehouse, "query", COUNT.format(table), "--json", cwd=project)
    return json.loads(result.stdout)[0]["n"]


@pytest.mark.e2e
def test_each_warehouses_commands_act_on_its_own_lake_and_catalog_only(
    two_warehouses: Path, tmp_path: Path
) -> None:
    env = _env(two_warehouses, tmp_path)
    home = tmp_path / "dw"
    span = ("--from", HOUR, "--to", HOUR)
    analytics, sales = ("--warehouse", "analytics_dw"), ("--warehouse", "sales_dw")
    dw(
        env,
        *analytics,
        "send",
        "impressions",
        "--count",
        "25",
        "--arrival",
        f"{HOUR}:05:00Z",
        cwd=two_warehouses,
    )
    done = dw(env, *analytics, "backfill", *span, cwd=two_warehouses).stdout.decode()
    assert "analytics_dw/impressions" in done and "sales_dw" not in done, done
    assert _count(env, two_warehouses, "analytics_dw", "impressions") == 25
    analytics_status = dw(env, *analytics, "status", "--json", cwd=two_warehouses).stdout
    before = _files(home)

    # sales_dw's whole round: send, backfill, query, catalog rebuild, replay, status.
    sent = dw(
        env, *sales, "send", "events", "--count", "37", "--arrival", f"{HOUR}:05:00Z", cwd=two_warehouses
    )
    assert b"sent 37, delivered 37" in sent.stdout
    done = dw(env, *sales, "backfill", *span, cwd=two_warehouses).stdout.decode()
    assert "sales_dw/events" in done and "analytics_dw" not in done, done
    assert _count(env, two_warehouses, "sales_dw", "events") == 37
    dw(env, *sales, "catalog", "rebuild", cwd=two_warehouses)
    dw(env, *sales, "replay", "events", *span, cwd=two_warehouses)
    sales_status = json.loads(dw(env, *sales, "status", "--json", cwd=two_warehouses).stdout)
    assert {row["table"]: row["rows"] for row in sales_status} == {"events": 37, "events_errors": 0}

    # Each name resolves in its own warehouse only.
    err = one_line_error(
        dw(env, *sales, "query", COUNT.format("impressions"), check=False, cwd=two_warehouses), "query"
    )
    assert "sales_dw.impressions does not exist" in err, err
    err = one_line_error(dw(env, *sales, "send", "impressions", check=False, cwd=two_warehouses), "send")
    assert "the streaming tables are events" in err, err
    err = one_line_error(
        dw(env, *analytics, "query", COUNT.format("events"), check=False, cwd=two_warehouses), "query"
    )
    assert "analytics_dw.events does not exist" in err, err

    # analytics_dw, beside it in the same home: byte for byte as it was, with the same counts.
    after = _files(home)
    assert {k: v for k, v in after.items() if k in before} == before, "nothing of before changed"
    new = sorted(set(after) - set(before))
    assert new and all(
        k.startswith(f"{warehouse_lake(env, 'sales_dw').relative_to(home)}/")
        or k == str(warehouse_catalog(env, "sales_dw").relative_to(home))
        for k in new
    ), new
    assert _count(env, two_warehouses, "analytics_dw", "impressions") == 25
    assert dw(env, *analytics, "status", "--json", cwd=two_warehouses).stdout == analytics_status


SAME_AS_THE_CODE_LOCATION = """
import json, sys
from dw_platform.cli.project import declared_warehouses
found = [d.name for d in declared_warehouses()]
without_dagster = "dagster" not in sys.modules
from dw_platform.definitions import build_project, project_tree
from dw_platform.orchestration.asset_keys import warehouse_names
print(json.dumps([found, without_dagster, warehouse_names(build_project(project_tree()))]))
"""


@pytest.mark.e2e
def test_dw_finds_the_warehouses_the_code_location_loads_without_importing_dagster(
    two_warehouses: Path, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SAME_AS_THE_CODE_LOCATION],
        cwd=two_warehouses,
        env=_env(two_warehouses, tmp_path),
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    found, without_dagster, loaded = json.loads(result.stdout.decode().splitlines()[-1])
    assert found == loaded == ["analytics_dw", "sales_dw"] and without_dagster


YAML_WAREHOUSE = """type: dw_platform.components.WarehouseComponent
attributes:
  name: web_dw
  streaming_tables:
    - name: pageviews
      columns: [{name: id}, {name: session_id}, {name: event_time}]
"""


@pytest.mark.e2e
def test_a_warehouse_declared_in_yaml_is_loaded_through_the_component(tmp_path: Path) -> None:
    project = _project(tmp_path)
    folder = project / "dw_platform" / "defs" / "web"  # the folder need not be named after it
    folder.mkdir()
    (folder / "defs.yaml").write_text(YAML_WAREHOUSE)
    env = _env(project, tmp_path)
    err = one_line_error(dw(env, "status", check=False, cwd=project), "status")
    assert "several warehouses (analytics_dw, web_dw)" in err, err
    assert _tables(dw(env, "--warehouse", "web_dw", "status", "--json", cwd=project)) == {
        "pageviews",
        "pageviews_errors",
    }
