"""The core's modules import each other without a cycle, and none imports Textual or Rich:
read from the source, every import statement counted (also those inside functions)."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gdtutor"
CORE = sorted(p for p in PACKAGE.glob("*.py"))       # gdtutor/tui/ is the view, not the core


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module the file imports, by its absolute dotted name."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            for alias in node.names:               # `from . import x`: x may be a module
                found.add(f"{base}.{alias.name}")
    return found


def core_graph() -> dict[str, set[str]]:
    names = {module_name(path) for path in CORE}
    return {module_name(path): {name for name in imports(path) if name in names
                                and name != module_name(path)}
            for path in CORE}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    state: dict[str, int] = {}      # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_relative_imports_are_resolved():
    assert "gdtutor.backend" in imports(PACKAGE / "stepper.py")
    assert "gdtutor.schema" in imports(PACKAGE / "catalog.py")
    assert "gdtutor.stepper" in imports(PACKAGE / "tui" / "lesson_screen.py")


def test_the_core_has_no_import_cycle():
    graph = core_graph()
    assert {"gdtutor.backend", "gdtutor.backends", "gdtutor.numpy_backend", "gdtutor.catalog",
            "gdtutor.schema", "gdtutor.yaml_reader", "gdtutor.carry"} <= set(graph)
    assert "gdtutor.numpy_backend" in graph["gdtutor.backends"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_abstract_backend_imports_no_backend():
    assert not core_graph()["gdtutor.backend"] & {"gdtutor.numpy_backend",
                                                   "gdtutor.torch_backend", "gdtutor.backends"}


def test_the_core_imports_no_textual_and_no_rich():
    for path in CORE:
        for name in imports(path):
            assert name.split(".")[0] not in ("textual", "rich", "textual_plotext", "plotext"), \
                (path.name, name)
