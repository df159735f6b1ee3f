"""The packages of dw_platform import in the order docs/architecture.md declares, and form no cycle.

Every import counts, wherever it is written: at module level, inside a function (a lazy import is
still a dependency) or under `if TYPE_CHECKING:` (a type from above is a dependency too)."""

import ast
import functools
import importlib
import inspect
import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOT = "dw_platform"
PACKAGE = REPO / ROOT


def declared_layers(text: str) -> dict[str, int]:
    """Unit -> its layer's height (0 lowest), from the ```layers block (highest line first)."""
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    return {
        unit.strip(): len(lines) - 1 - height for height, line in enumerate(lines) for unit in line.split("|")
    }


def units() -> set[str]:
    """The layered units: the packages below dw_platform, its top-level modules (`errors`) and the
    root package itself (`dw_platform`, which re-exports the declaration to users' warehouse
    modules: a module importing a name from it depends on the declaration)."""
    modules = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" and p.name != "__init__.py"}
    return modules | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()} | {ROOT}


def unit_of(module: str) -> str | None:
    """The unit a module (or a name imported from a package) belongs to; None outside dw_platform."""
    parts = module.split(".")
    if parts[0] != ROOT:
        return None
    return parts[1] if len(parts) > 1 and parts[1] in units() - {ROOT} else ROOT


def module_name(path: Path, root: Path = REPO) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = REPO) -> Iterator[tuple[str, int]]:
    """Every module `path` (a file of the package under `root`) imports, anywhere in it, with the line."""
    module = module_name(path, root)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            source = ".".join(p for p in (base, node.module or "") if p)
            # `from . import model` and `from dw_platform import errors` name modules of a package.
            named = node.module is None or source == ROOT
            names = [f"{source}.{alias.name}" for alias in node.names] if named else [source]
            yield from ((name, node.lineno) for name in names)


def package_imports() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> where, for imports between different units."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(module_name(path))
        for module, line in imported_modules(path):
            target = unit_of(module)
            if source and target and source != target:
                found.setdefault((source, target), []).append(f"{path.relative_to(REPO)}:{line}")
    return found


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The groups of units that reach each other through imports (strongly connected components
    of more than one unit)."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)

    def reach(unit: str) -> set[str]:
        seen, todo = set(), [unit]
        while todo:
            for target in graph.get(todo.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    reached = {unit: reach(unit) for unit in graph}
    groups = {
        tuple(sorted(u for u in reached[unit] if unit in reached.get(u, ())))
        for unit in graph
        if unit in reached[unit]
    }
    return sorted(list(group) for group in groups)


def test_every_package_is_declared_in_one_layer() -> None:
    layers = declared_layers((REPO / "docs" / "architecture.md").read_text())
    assert sorted(units() - layers.keys()) == [], "packages missing from docs/architecture.md"
    assert sorted(layers.keys() - units()) == [], "docs/architecture.md names packages that do not exist"


def test_no_package_imports_its_own_layer_or_above() -> None:
    layers = declared_layers((REPO / "docs" / "architecture.md").read_text())
    against = [
        f"{source} -> {target} ({', '.join(where)})"
        for (source, target), where in sorted(package_imports().items())
        if layers[target] >= layers[source]
    ]
    assert against == []


def test_no_package_level_cycle() -> None:
    assert cycles(set(package_imports())) == []


def test_the_checks_see_every_kind_of_import(tmp_path: Path) -> None:
    """The parser finds the imports a layering test is most easily blind to (relative, under
    TYPE_CHECKING, inside a function), and the cycle search finds a cycle through three packages."""
    module = tmp_path / "dw_platform" / "catalog" / "example.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import model\n"
        "from .. import errors\n"
        "from dw_platform import ServerlessDataWarehouse\n"
        "if TYPE_CHECKING:\n"
        "    from dw_platform.runtime.backends import Runtime\n"
        "def f() -> None:\n"
        "    import dw_platform.operations.status\n"
    )
    found = sorted(imported_modules(module, tmp_path), key=lambda item: item[1])
    assert [name for name, _ in found] == [
        "typing",
        "dw_platform.catalog.model",
        "dw_platform.errors",
        "dw_platform.ServerlessDataWarehouse",
        "dw_platform.runtime.backends",
        "dw_platform.operations.status",
    ]
    assert [unit_of(name) for name, _ in found] == [None, "catalog", "errors", ROOT, "runtime", "operations"]
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]


def member_types(cls: type, names: set[str]) -> dict[str, object]:
    """The type of each named member of a class, as its annotations say: a field's or a property's
    type, a method's parameters and return type."""
    # Names the runtime imports only for annotations (`if TYPE_CHECKING:`), resolved here.
    from dw_platform.delivery.firehose import LocalDeliveryStream
    from dw_platform.delivery.sending import EventSink
    from dw_platform.query.athena import AthenaEngine

    annotation_names = {"LocalDeliveryStream": LocalDeliveryStream, "EventSink": EventSink}
    annotation_names["AthenaEngine"] = AthenaEngine
    fields = typing.get_type_hints(cls, localns=annotation_names)
    found: dict[str, object] = {}
    for name in names:
        member = inspect.getattr_static(cls, name, None)
        if isinstance(member, property | functools.cached_property):
            function = member.fget if isinstance(member, property) else member.func
            found[name] = typing.get_type_hints(function, localns=annotation_names)["return"]
        elif inspect.isfunction(member):
            found[name] = typing.get_type_hints(member, localns=annotation_names)
        else:
            found[name] = fields.get(name, "missing")
    return found


def protocol_members(protocol: type) -> set[str]:
    return {name for name in vars(protocol) if not name.startswith("_")}


@pytest.mark.parametrize("protocol", ["delivery.sending.DeliveryRuntime", "catalog.sync.CatalogTarget"])
def test_the_runtime_is_what_the_layers_below_ask_for(protocol: str) -> None:
    """delivery and catalog, below runtime, say what they need of a runtime as a Protocol; the
    runtime must keep offering exactly that (no type checker runs on the code, so this test does)."""
    from dw_platform.runtime.backends import Runtime

    module, name = protocol.rsplit(".", 1)
    asked = getattr(importlib.import_module(f"{ROOT}.{module}"), name)
    members = protocol_members(asked)
    assert members, f"{protocol} declares nothing"
    assert member_types(Runtime, members) == member_types(asked, members)


def test_the_protocol_check_sees_a_missing_or_retyped_member() -> None:
    from dw_platform.catalog.sync import CatalogTarget

    class Partial:
        database: int
        lake: str

    members = protocol_members(CatalogTarget)
    assert member_types(Partial, members) != member_types(CatalogTarget, members)
    assert member_types(Partial, {"warehouse"}) == {"warehouse": "missing"}
