"""The package's shape holds: no import cycle, every import points down, modules stay small.

The imports are read from the source (``ast``), as Python would run them:
imports inside functions count (a local import is how a cycle usually hides),
imports under ``if TYPE_CHECKING:`` do not.  Migrations are generated code and
left out.  ``docs/concepts/architecture.md`` draws the floors checked here.
"""

from __future__ import annotations

import ast
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "scheduler"

#: Each top-level part of the package, and the floor it stands on.  A module
#: may import its own floor and the floors below, never one above.
FLOORS: dict[str, int] = {
    "errors": 0,
    "clock": 0,
    "compat": 0,
    "schedules": 1,
    "model": 2,
    "stores": 3,
    "monitoring": 4,
    "tasks": 4,
    "executors": 5,
    "engine": 6,
    "config": 6,
    "workers": 7,
    "importers": 7,
    "cli": 8,
    "testing": 8,
    "django": 9,
    "__main__": 10,
}
#: Imports that point up on purpose, and why.
UPWARD: dict[tuple[str, str], str] = {
    ("scheduler.executors.django_tasks", "scheduler.django.tasks"): (
        "the django.tasks executor enqueues the Django app's wrapper task, whose "
        "module path is its identity on the backend; it needs a configured Django project"
    ),
}
MAX_TOP_LEVEL_MODULES = 8
MAX_LINES = 400
MEDIAN_LINES_BELOW = 120


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports when it runs."""
    name = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for statement in block.body
        for node in ast.walk(statement)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            # A package importing its own modules is how it re-exports them.
            if target and target != name and not target.startswith(name + "."):
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = list(sources())
    known = {module_name(path) for path in paths}
    return {module_name(path): imported_modules(path, known) for path in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS[parts[1]] if len(parts) > 1 else max(FLOORS.values())


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_every_part_of_the_package_has_a_floor() -> None:
    parts = {module.split(".")[1] for module in import_graph() if "." in module}
    assert parts <= set(FLOORS), f"give these a floor in FLOORS: {sorted(parts - set(FLOORS))}"


def test_imports_point_down() -> None:
    upward = sorted(
        (module, target)
        for module, targets in import_graph().items()
        for target in targets
        if target != "scheduler" and floor(target) > floor(module)
    )
    assert [edge for edge in upward if edge not in UPWARD] == []
    assert sorted(UPWARD) == [edge for edge in upward if edge in UPWARD], "stale UPWARD entry"


@pytest.mark.parametrize("path", list(sources()), ids=lambda path: module_name(path))
def test_no_module_is_over_the_line_budget(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines: split it by what it holds"


def test_modules_are_small_and_the_top_level_is_short() -> None:
    sizes = [len(path.read_text(encoding="utf-8").splitlines()) for path in sources()]
    top = sorted(
        path.name
        for path in PACKAGE.glob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    )
    assert statistics.median(sizes) < MEDIAN_LINES_BELOW
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
