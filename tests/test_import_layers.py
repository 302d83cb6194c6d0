"""Imports flow one way between the rooms of ``orchestrator/``: no cycle between its subpackages.

Every module is parsed (nothing is imported), and every import counts: module level, inside a
function (a lazy import is still an arrow) and under ``TYPE_CHECKING``. A room is a subpackage
(``config``, ``search``, ``soft``...) or a top-level module (``store``, ``runner``...).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "orchestrator"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def room_arrows(package: Path = PACKAGE) -> dict[tuple[str, str], list[str]]:
    """``(room, room) -> ["module -> module", ...]`` for every import from one room into another."""
    paths = {_module_name(path, package.parent): path for path in package.rglob("*.py")}
    arrows: dict[tuple[str, str], list[str]] = {}
    for module, path in sorted(paths.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for target in _imported(tree, module, path.name == "__init__.py"):
            if target not in paths:
                continue
            here, there = _room(module), _room(target)
            if here and there and here != there:
                arrows.setdefault((here, there), []).append(f"{module} -> {target}")
    return arrows


def cycles(arrows: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """The strongly connected sets of more than one room (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for here, there in arrows:
        graph.setdefault(here, set()).add(there)
        graph.setdefault(there, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _explain(arrows: dict[tuple[str, str], list[str]], rooms: list[str]) -> str:
    lines = []
    for (here, there), why in sorted(arrows.items()):
        if here in rooms and there in rooms:
            lines.append(f"  {here} -> {there}: {', '.join(sorted(set(why))[:3])}")
    return "\n".join(lines)


def test_no_cycle_between_the_rooms_of_orchestrator():
    arrows = room_arrows()
    found = cycles(arrows)
    assert not found, "import cycles between orchestrator's rooms:\n" + "\n".join(
        f"{rooms}:\n{_explain(arrows, rooms)}" for rooms in found
    )


def test_the_walk_sees_lazy_and_relative_imports(tmp_path):
    package = tmp_path / "orchestrator"
    for room in ("alpha", "beta"):
        (package / room).mkdir(parents=True)
        (package / room / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "alpha" / "a.py").write_text("from orchestrator.beta import b\n")
    (package / "beta" / "b.py").write_text("def f():\n    from ..alpha import a\n")
    arrows = room_arrows(package)
    assert set(arrows) == {("alpha", "beta"), ("beta", "alpha")}
    assert cycles(arrows) == [["alpha", "beta"]]


def test_the_layers_named_in_the_style_guide_hold():
    arrows = room_arrows()
    # schema below checks below loading; the graph's shared state below both stages
    for low, high in [("config", "validation"), ("config", "loading"), ("validation", "loading")]:
        assert (low, high) not in arrows, arrows.get((low, high))
    for room in ("search", "soft"):
        assert ("graph_state", room) not in arrows, arrows.get(("graph_state", room))
    assert ("search", "soft") not in arrows and ("soft", "search") not in arrows


def test_standalone_soft_training_imports_no_graph_code():
    # ``promptfusion soft train`` measures its prompt like the final comparison, without LangGraph.
    code = (
        "import sys, orchestrator.soft.standalone\n"
        "print(sorted(m for m in sys.modules if m.startswith(('langgraph', 'orchestrator.search', "
        "'orchestrator.soft.nodes', 'orchestrator.soft.final', 'orchestrator.graph'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
