"""The package's import graph, read with ``ast`` from the source (nothing is imported)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ambrogio"


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name (a name imported from a module counts as the module)
    line: int
    local: bool  # inside a function, not at module level


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(name: str, names: list[str]) -> list[str]:
    """``from a.b import c``: the module ``a.b.c`` when it is one, else ``a.b``."""
    known = modules()
    found = [f"{name}.{alias}" for alias in names if f"{name}.{alias}" in known]
    return found if len(found) == len(names) else [*found, name]


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: str, path: Path) -> None:
        self.module, self.path = module, path
        self.depth = 0
        self.found: list[Import] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append(Import(self.module, alias.name, node.lineno, self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        name = _absolute(self.module, self.path, node)
        for target in _targets(name, [alias.name for alias in node.names]):
            self.found.append(Import(self.module, target, node.lineno, self.depth > 0))


@cache
def imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for module, path in modules().items():
        visitor = _Visitor(module, path)
        visitor.visit(ast.parse(path.read_text(), str(path)))
        found.extend(visitor.found)
    return tuple(found)


def internal_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at module level."""
    known = modules()
    graph: dict[str, set[str]] = {module: set() for module in known}
    for item in imports():
        if not item.local and item.imported in known and item.imported != item.importer:
            graph[item.importer].add(item.imported)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def in_folder(module: str, *folders: str) -> bool:
    return any(module == f"ambrogio.{f}" or module.startswith(f"ambrogio.{f}.") for f in folders)
