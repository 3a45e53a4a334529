"""The package's shape: layers that import downward only, no loops, small modules and functions.

Each room of `roi` (a subpackage, or a top-level module) sits on one floor. A module may import
from its own floor or below, never above, and no two rooms import each other (directly or round
a loop). Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "roi"
# Floors from the top; a room imports only rooms on its floor or below.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("cli", "__main__"),
    ("start",),
    ("pipeline",),
    ("reporting",),
    ("scenarios",),
    ("value",),
    ("attribution", "portfolio", "sample"),
    ("fold",),
    ("connectors",),
    ("loading",),
    ("pricing",),
    ("context", "reuse"),
    ("warehouse",),
    ("tables", "config"),
    (
        "vocabulary",
        "errors",
        "text",
        "frames",
        "progress",
        "charting",
        "documents",
        "plugins",
        "__init__",
    ),
)
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, module: str) -> set[str]:
    """The roi modules `path` imports (absolute names), lazy imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "roi")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "roi":
                continue
            found.add(base)
            if base == "roi":  # `from roi import warehouse` imports a room; `__version__` not
                found.update(f"roi.{a.name}" for a in node.names if (PACKAGE / a.name).exists())
                found.update(
                    f"roi.{a.name}" for a in node.names if (PACKAGE / f"{a.name}.py").exists()
                )
    return found


def _room_edges() -> dict[str, set[tuple[str, str]]]:
    """Room → {(room it imports, an example 'module -> module')}."""
    modules = _modules()
    edges: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for module, path in modules.items():
        for target in _imports(path, module):
            if target == "roi":
                target = "roi.__init__"
            source_room, target_room = _room(module), _room(target)
            if source_room != target_room:
                edges[source_room].add((target_room, f"{module} -> {target}"))
    return edges


def test_every_room_is_on_a_floor() -> None:
    rooms = {_room(m) for m in _modules() if m != "roi"} | {"__init__"}
    assert rooms - FLOOR.keys() == set(), "place these rooms on a floor in FLOORS"


def test_imports_run_downward_only() -> None:
    upward = sorted(
        example
        for source, targets in _room_edges().items()
        for target, example in targets
        if FLOOR[target] < FLOOR[source]
    )
    assert upward == []


def test_no_import_loops_between_rooms() -> None:
    graph = {room: {t for t, _ in targets} for room, targets in _room_edges().items()}
    loops = []

    def visit(room: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(room, ())):
            if nxt in path:
                loops.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif len(path) < len(graph) + 1:
                visit(nxt, [*path, nxt])

    for room in sorted(graph):
        visit(room, [room])
    assert loops == []


def _long_functions() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({length})")
    return found


def test_no_module_over_400_lines() -> None:
    long = [
        f"{p.relative_to(REPO)} ({n})"
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert long == []


def test_no_function_over_80_lines() -> None:
    assert _long_functions() == []


@pytest.mark.parametrize("module", ["roi.cli.data"])
def test_the_structure_test_sees_lazy_imports(module: str) -> None:
    path = _modules()[module]
    assert "roi.pipeline" in _imports(path, module)
