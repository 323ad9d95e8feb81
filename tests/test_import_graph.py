"""The package's import graph: no cycles, between modules or between layers, and the layers
of docs/architecture.md pointing one way.

Every import of a `gql_badges` module counts, wherever it is written: at the top, under
`TYPE_CHECKING`, or inside a function. An import moved into a function to dodge a cycle still
ties the two modules together.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import gql_badges

PACKAGE = Path(gql_badges.__file__).parent
ROOT = "gql_badges"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The package's modules an import statement loads by name."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:  # relative: from the importing module's package
        package = module.split(".")
        is_package = MODULES[module].name == "__init__.py"
        anchor = package[: len(package) - node.level + (1 if is_package else 0)]
        base = ".".join([*anchor, *([base] if base else [])])
    for alias in node.names:
        # `from package import module` loads the module; `from module import name` the module.
        submodule = f"{base}.{alias.name}"
        yield submodule if submodule in MODULES else base


def imports_in(module: str, source: str) -> dict[str, int]:
    """{module of the package: line of its first import} for the source of `module`."""
    targets: dict[str, int] = {}
    for node in ast.walk(ast.parse(source)):  # every statement, at any depth
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _imported(module, node):
                if target in MODULES and target != module:
                    targets.setdefault(target, node.lineno)
    return targets


def import_edges() -> dict[str, dict[str, int]]:
    """module -> {imported module: line of its first import}, within the package only."""
    return {module: imports_in(module, path.read_text()) for module, path in MODULES.items()}


def layer(module: str) -> str:
    """The layer a module belongs to: its subpackage, or the top-level module itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def layer_edges(edges: dict[str, dict[str, int]]) -> dict[str, dict[str, str]]:
    """layer -> {imported layer: the first `module:line` that imports it}."""
    layers: dict[str, dict[str, str]] = {}
    for module, targets in edges.items():
        into = layers.setdefault(layer(module), {})
        for target, line in targets.items():
            if layer(target) != layer(module):
                into.setdefault(layer(target), f"{MODULES[module].relative_to(PACKAGE)}:{line}")
    return layers


def _tangles(graph: dict[str, dict[str, str]]) -> list[set[str]]:
    """The strongly connected parts of `graph` with more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    tangles: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = {stack.pop()}
            while node not in part:
                part.add(stack.pop())
            if len(part) > 1:
                tangles.append(part)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return tangles


def find_cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """One cycle, as [a, b, ..., a], through each tangle of `graph`; none when it has none."""
    cycles = []
    for part in _tangles(graph):
        inside = {node: {t for t in graph[node] if t in part} for node in part}
        try:
            TopologicalSorter(inside).prepare()
        except CycleError as error:
            cycles.append(error.args[1][::-1])  # graphlib lists it against the arrows
    return cycles


def _described(cycles: list[list[str]], where: dict[str, dict[str, str]]) -> str:
    return "\n".join(
        "import cycle:\n  "
        + "\n  ".join(f"{a} -> {b} ({where[a][b]})" for a, b in itertools.pairwise(cycle))
        for cycle in cycles
    )


def test_every_kind_of_import_counts() -> None:
    """A guard on the parser: any placement, any form, relative ones too."""
    source = """
import gql_badges.settings
from gql_badges import __version__, errors
from gql_badges.storage.client import Database
from . import limits
from ..badges import rules
import orjson

if TYPE_CHECKING:
    from gql_badges.services import Services


def serve() -> None:
    from gql_badges.app import create_app
"""
    assert imports_in("gql_badges.auth.credentials", source) == {
        "gql_badges.settings": 2,
        "gql_badges": 3,  # the package's __init__, for __version__
        "gql_badges.errors": 3,
        "gql_badges.storage.client": 4,
        "gql_badges.auth.limits": 5,
        "gql_badges.badges.rules": 6,
        "gql_badges.services": 10,  # under TYPE_CHECKING
        "gql_badges.app": 14,  # inside a function
    }


def test_a_cycle_is_found_and_named() -> None:
    graph = {"a": {"b": "a.py:3"}, "b": {"c": "b.py:5"}, "c": {"a": "c.py:9"}, "d": {"a": "d:1"}}
    cycles = find_cycles(graph)
    assert len(cycles) == 1
    assert _described(cycles, graph).count("->") == 3
    assert find_cycles({"a": {"b": ""}, "b": {}}) == []


def test_no_module_imports_itself_back() -> None:
    edges = import_edges()
    where = {
        module: {
            target: f"{MODULES[module].relative_to(PACKAGE)}:{line}"
            for target, line in targets.items()
        }
        for module, targets in edges.items()
    }
    cycles = find_cycles(where)
    assert not cycles, _described(cycles, where)


def test_layers_point_one_way() -> None:
    """No two subpackages (or top-level modules) import each other, even through others."""
    layers = layer_edges(import_edges())
    cycles = find_cycles(layers)
    assert not cycles, _described(cycles, layers)


# The layers, from the bottom: each imports only layers listed before it (docs/architecture.md).
LAYERS: tuple[set[str], ...] = (
    {"gql_badges", "settings", "errors", "enums", "timefmt"},  # imports nothing of the package
    {"stored_json"},
    {"storage"},
    {"observability"},
    {"auth", "badges"},
    {"live"},  # the change stream and its subscribers (live badges)
    {"services", "loading", "demo"},
    {"http"},  # what every endpoint shares
    {"graphiql"},  # the GraphiQL page (compressed as http/ says)
    {"graphql", "rest"},  # the two APIs
    {"app"},
    {"serving"},  # uvicorn's server, draining the app's live sockets on SIGTERM
    {"cli"},
)


def _full(name: str) -> str:
    return ROOT if name == ROOT else f"{ROOT}.{name}"


def test_layers_import_only_the_layers_below() -> None:
    """A lower layer never imports a higher one: `http/` does not import `graphql.view`."""
    rank = {_full(name): i for i, tier in enumerate(LAYERS) for name in tier}
    layers = layer_edges(import_edges())
    assert not set(layers) - set(rank), "a layer missing from LAYERS"
    upward = [
        f"{a} -> {b} ({where})"
        for a, targets in sorted(layers.items())
        for b, where in sorted(targets.items())
        if rank[b] >= rank[a]
    ]
    assert not upward, "imports that do not point down:\n  " + "\n  ".join(upward)
