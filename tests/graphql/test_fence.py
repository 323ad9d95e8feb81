"""The fence holds: outside `gql_badges/graphql/_internals.py`, the package uses only what
graphql-core and Strawberry publish.

Every module of the package is parsed (not imported) and checked for

- an import of a graphql-core or Strawberry module, or of a name from one, that `PUBLIC` does
  not list (a name from a module listed as `EXPORTED` must be in that module's `__all__`);
- an attribute starting with `_` read from a library object: from a name imported from either
  library, through `super()` or `self` in a subclass of a library class (unless the subclass
  defines that attribute itself), or by `getattr`/`hasattr`/`setattr` with a literal `_name`.

The second check is best effort: a value that came from a library without its name being
imported (a resolver's `info`, say) is not followed.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gql_badges"
FENCE = PACKAGE / "graphql" / "_internals.py"
FENCE_MODULE = "gql_badges.graphql._internals"
LIBRARIES = ("graphql", "strawberry")

# Any name the module's own `__all__` exports.
EXPORTED = None

# The libraries' public modules, and what may be imported from each. A module is here when the
# library documents importing from it (graphql-core's API reference, Strawberry's guides); a
# module that only has an `__all__` is not enough: Strawberry gives nearly every internal
# module one, and graphql-core's `graphql.pyutils` says of itself that it is not part of the
# interface.
PUBLIC: dict[str, frozenset[str] | None] = {
    # graphql-core: the top-level package re-exports its whole documented API.
    "graphql": EXPORTED,
    # Strawberry: the package and the modules its documentation imports from.
    "strawberry": EXPORTED,
    "strawberry.types": EXPORTED,  # Info, ExecutionContext, ExecutionResult, ...
    "strawberry.extensions": EXPORTED,  # schema extensions
    "strawberry.scalars": EXPORTED,  # JSON, Base64, ...
    "strawberry.subscriptions": EXPORTED,  # the protocol names
    "strawberry.http": EXPORTED,  # GraphQLRequestData, GraphQLHTTPResponse (views)
    "strawberry.exceptions": EXPORTED,
    "strawberry.schema.config": frozenset({"StrawberryConfig"}),
    "strawberry.asgi": frozenset({"GraphQL"}),  # the module has no `__all__`: the view only
    "strawberry.resolvers": frozenset({"is_default_resolver"}),
}


@dataclass(frozen=True)
class Breach:
    where: str  # file:line
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _is_library(module: str) -> bool:
    return module.split(".")[0] in LIBRARIES


def _exported(module: str) -> frozenset[str]:
    exported = getattr(importlib.import_module(module), "__all__", None)
    assert exported is not None, f"{module} has no __all__: list its public names in PUBLIC"
    return frozenset(exported)


def _allowed(module: str, name: str | None) -> bool:
    """Whether `module` (or `name` from it) is public; `name` None for `import module`."""
    if module not in PUBLIC:
        return False
    if name is None:
        return True
    names = PUBLIC[module]
    return name in (_exported(module) if names is None else names)


def _private(attribute: str) -> bool:
    return attribute.startswith("_") and not (
        attribute.startswith("__") and attribute.endswith("__")
    )


def _root_name(node: ast.expr) -> str | None:
    """`a` of `a.b.c`, `a[T].b`, `a(x).b`."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _names_in(annotation: ast.expr | None) -> set[str]:
    """The names an annotation mentions (a string annotation is parsed)."""
    if annotation is None:
        return set()
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return set()
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)
    }


def _own_attributes(cls: ast.ClassDef) -> set[str]:
    """What a class defines itself: its methods, class attributes, and `self.x = ...`."""
    own: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            own.add(node.target.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            own.add(node.attr)
    return own


def breaches(source: str, where: str) -> Iterator[Breach]:
    """What a module's `source` uses of graphql-core and Strawberry that they do not publish;
    `where` names the module in what is reported."""
    tree = ast.parse(source, filename=where)
    library_names: set[str] = set()  # local names bound to a library module or object

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _is_library(alias.name):
                    continue
                library_names.add((alias.asname or alias.name).split(".")[0])
                if not _allowed(alias.name, None):
                    yield Breach(f"{where}:{node.lineno}", f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == FENCE_MODULE:  # what the fence re-exports is the libraries' too
                library_names.update(alias.asname or alias.name for alias in node.names)
            if not _is_library(node.module):
                continue
            for alias in node.names:
                library_names.add(alias.asname or alias.name)
                if not _allowed(node.module, alias.name):
                    yield Breach(
                        f"{where}:{node.lineno}", f"from {node.module} import {alias.name}"
                    )

    found: dict[int, str] = {}  # id of a private attribute node -> why it is a library's

    # In a subclass of a library class: `super()._x`, `self._x` it does not define itself, and
    # `self.x._y` for an `x` it does not define itself (the library's).
    for cls in ast.walk(tree):
        if not (
            isinstance(cls, ast.ClassDef)
            and any(_root_name(base) in library_names for base in cls.bases)
        ):
            continue
        own = _own_attributes(cls)
        for node in ast.walk(cls):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            value = node.value
            through_super = (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "super"
            )
            through_self = isinstance(value, ast.Name) and value.id == "self"
            through_inherited = (
                isinstance(value, ast.Attribute)
                and isinstance(value.value, ast.Name)
                and value.value.id == "self"
                and value.attr not in own
            )
            if through_super or through_inherited or (through_self and node.attr not in own):
                found[id(node)] = f"in {cls.name}, a subclass of a library class"

    # A parameter annotated with a library type: `info._raw_info` for `info: Info`.
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = function.args
        typed = {
            argument.arg
            for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
            if _names_in(argument.annotation) & library_names
        }
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and _root_name(node.value) in typed
            ):
                found.setdefault(id(node), "of a parameter typed with a library type")

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            if id(node) in found:
                yield Breach(f"{where}:{node.lineno}", f"{ast.unparse(node)} ({found[id(node)]})")
            elif _root_name(node.value) in library_names:
                yield Breach(f"{where}:{node.lineno}", f"{ast.unparse(node)}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr", "setattr", "delattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            yield Breach(f"{where}:{node.lineno}", ast.unparse(node))


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != FENCE)


def test_only_the_fence_uses_the_libraries_internals() -> None:
    found = [
        str(breach)
        for path in _modules()
        for breach in breaches(path.read_text(), path.relative_to(PACKAGE.parent).as_posix())
    ]
    assert not found, "internals of graphql-core or Strawberry outside the fence:\n" + "\n".join(
        found
    )


# --- the checker itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from graphql import GraphQLError", []),
        ("import strawberry", []),
        ("from strawberry.types import Info", []),
        ("from graphql.pyutils import gather_with_cancel", ["from graphql.pyutils import"]),
        ("from strawberry.types.nodes import SelectedField", ["from strawberry.types.nodes"]),
        ("from strawberry.asgi import ASGIWebSocketAdapter", ["ASGIWebSocketAdapter"]),
        ("from strawberry.types import PreExecutionError", ["PreExecutionError"]),
        ("import graphql.execution.collect_fields", ["import graphql.execution"]),
        ("import strawberry\nstrawberry.Schema._schema", ["strawberry.Schema._schema"]),
        ("from strawberry import Schema\nx = Schema.__name__", []),
        ("x = getattr(schema, '_schema')", ["getattr(schema, '_schema')"]),
        (
            "from strawberry.asgi import GraphQL\n"
            "class V(GraphQL):\n"
            "    _mine = 1\n"
            "    def f(self):\n"
            "        return self._mine, self._theirs, super()._also_theirs()",
            ["self._theirs", "super()._also_theirs"],
        ),
        ("from gql_badges.graphql._internals import Path", []),
        ("from gql_badges.graphql._internals import Path\nPath._x", ["Path._x"]),
        (
            "from strawberry.types import Info\ndef f(info: Info, me: Mine):\n"
            "    return info._raw_info, me._mine",
            ["info._raw_info"],
        ),
        ("def f(info: 'strawberry.Info'):\n    return info._raw_info", []),  # not imported
        (
            "import strawberry\ndef f(info: 'strawberry.Info[int, None]'):\n    return info._raw",
            ["info._raw"],
        ),
        (
            "from strawberry.extensions import SchemaExtension\n"
            "class E(SchemaExtension):\n"
            "    def __init__(self):\n"
            "        self.mine = object()\n"
            "    def on_execute(self):\n"
            "        return self.execution_context._provided, self.mine._fine",
            ["self.execution_context._provided"],
        ),
        (
            "from gql_badges.graphql._internals import Base\n"
            "class H(Base[int, None]):\n"
            "    def f(self):\n"
            "        return self._theirs",
            ["self._theirs"],
        ),
    ],
)
def test_the_checker_finds_what_it_should(source: str, expected: list[str]) -> None:
    found = [breach.what for breach in breaches(source, "example.py")]
    assert len(found) == len(expected), found
    for what, part in zip(found, expected, strict=True):
        assert part in what, (what, part)
