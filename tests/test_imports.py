"""The package's shape, from its source: imports run one way, the library never imports the application.

The import graph is built from the AST of every module (function-level imports included, `TYPE_CHECKING` ones
too): an import of `tfgan_translate.a.b` or `from tfgan_translate.a import b` (b a module) is an edge. The test
fails on any cycle (a strongly connected group of two or more modules), on any module outside
`tfgan_translate.app` (and the `python -m` entry point) that imports it, and on any module over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tfgan_translate"
APP = "tfgan_translate.app"
ENTRY_POINTS = {"tfgan_translate.__main__"}  # `python -m tfgan_translate`: the command line, like app.cli
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    graph = {}
    for name, path in mods.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                edges.add(node.module)
                edges |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {edge for edge in edges if edge in mods and edge != name and not name.startswith(edge + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of two or more modules (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_graph_sees_imports_of_every_kind():
    graph = import_graph()
    assert "tfgan_translate.app.errors" in graph["tfgan_translate.app.cli"]  # from tfgan_translate.app import errors
    assert "tfgan_translate.inference" in graph["tfgan_translate.app.translate"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_library_never_imports_the_application():
    graph = import_graph()
    back = {name: sorted(e for e in edges if e == APP or e.startswith(APP + "."))
            for name, edges in graph.items() if not (name == APP or name.startswith(APP + ".") or name in ENTRY_POINTS)}
    assert {name: edges for name, edges in back.items() if edges} == {}


def test_no_module_over_400_lines():
    long = {str(path.relative_to(PACKAGE)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
