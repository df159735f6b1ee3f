"""The packages of dw_platform import in the order docs/architecture.md declares, and form no cycle.

Every import counts, wherever it is written: at module level, inside a function (a lazy import is
still a dependency) or under `if TYPE_CHECKING:` (a type from above is a dependency too)."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "dw_platform"


def declared_layers(text: str) -> dict[str, int]:
    """Unit -> its layer's height (0 lowest), from the ```layers block (highest line first)."""
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    return {
        unit.strip(): len(lines) - 1 - height for height, line in enumerate(lines) for unit in line.split("|")
    }


def units() -> set[str]:
    """The layered units: the packages below dw_platform and its top-level modules (`errors`). The
    root package itself only re-exports the declaration, lazily."""
    modules = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" and p.name != "__init__.py"}
    return modules | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "dw_platform" and len(parts) > 1 and parts[1] in units() else None


def imported_modules(path: Path, root: Path = REPO) -> Iterator[tuple[str, int]]:
    """Every module `path` (a file of the package under `root`) imports, anywhere in it, with the line."""
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            source = ".".join(p for p in (base, node.module or "") if p)
            # `from . import model` and `from dw_platform import errors` name modules of a package.
            named = node.module is None or source == "dw_platform"
            names = [f"{source}.{alias.name}" for alias in node.names] if named else [source]
            yield from ((name, node.lineno) for name in names)


def package_imports() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> where, for imports between different units."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = unit_of(".".join(path.relative_to(REPO).with_suffix("").parts))
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
        "dw_platform.runtime.backends",
        "dw_platform.operations.status",
    ]
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
