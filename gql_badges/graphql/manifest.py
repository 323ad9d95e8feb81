"""Persisted-query manifests (Apollo's format): reading one for safelist mode, and making one.

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "…", "type": "query", "body": "…"}]}

`load_manifest` reads a manifest at start-up and checks every operation against the schema, so a
bad manifest stops the gateway before it serves; `manifest_from_documents` makes one from
`.graphql` files (`gql-badges persisted-manifest DIR`). The runtime side, which answers requests
from the listed operations, is `persisted.py`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    validate,
    visit,
)

MANIFEST_FORMAT = "apollo-persisted-query-manifest"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class PersistedOperation:
    id: str
    name: str | None
    type: str
    body: str


@dataclass(frozen=True, slots=True)
class Safelist:
    """The operations a manifest lists, by id and by body."""

    by_id: Mapping[str, PersistedOperation]
    by_body: Mapping[str, PersistedOperation]

    @classmethod
    def of(cls, operations: Iterable[PersistedOperation]) -> Safelist:
        listed = list(operations)
        return cls({o.id: o for o in listed}, {o.body: o for o in listed})


def load_manifest(path: Path, schema: GraphQLSchema) -> Safelist:
    """The manifest at `path`, each operation checked against `schema`."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: cannot read the manifest: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f'{path}: "format" must be "{MANIFEST_FORMAT}"')
    if manifest.get("version") != 1 or not isinstance(manifest.get("operations"), list):
        raise ManifestError(f'{path}: "version" must be 1, with a list of "operations"')
    operations = []
    for n, entry in enumerate(manifest["operations"]):
        where = f"{path}: operations[{n}]"
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) for key in ("id", "body", "type")
        ):
            raise ManifestError(f'{where}: "id", "type" and "body" must be strings')
        try:
            errors = validate(schema, parse(entry["body"]))
        except GraphQLError as error:
            errors = [error]
        if errors:
            raise ManifestError(f"{where} ({entry.get('name')}): {errors[0].message}")
        name = entry.get("name")
        operations.append(
            PersistedOperation(
                entry["id"], name if isinstance(name, str) else None, entry["type"], entry["body"]
            )
        )
    return Safelist.of(operations)


def manifest_from_documents(documents: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """An Apollo persisted-query manifest of every operation in `documents` (name, text).

    Each operation's body is the operation with the fragments it uses (from any of the
    documents), printed canonically; its id is the SHA-256 of that body, as Apollo's tools make it.
    """
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[OperationDefinitionNode] = []
    for source, text in documents:
        try:
            document = parse(text)
        except GraphQLError as error:
            raise ManifestError(f"{source}: {error.message}") from None
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode):
                if definition.name is None:
                    raise ManifestError(f"{source}: every operation needs a name")
                operations.append(definition)
    entries = []
    for operation in sorted(operations, key=lambda o: o.name.value if o.name else ""):
        used = _fragments_used(operation, fragments)
        body = print_ast(DocumentNode(definitions=(operation, *used)))
        entries.append(
            {
                "id": sha256_hex(body),
                "name": operation.name.value if operation.name else None,
                "type": operation.operation.value,
                "body": body,
            }
        )
    return {"format": MANIFEST_FORMAT, "version": 1, "operations": entries}


def _fragments_used(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    """The fragments `operation` spreads, directly or through other fragments."""
    used: dict[str, FragmentDefinitionNode] = {}
    missing: set[str] = set()
    pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]
    while pending:
        for name in _spread_names(pending.pop()):
            if name in used or name in missing:
                continue
            if name not in fragments:
                missing.add(name)
                continue
            used[name] = fragments[name]
            pending.append(fragments[name])
    if missing:
        name = operation.name.value if operation.name else "?"
        raise ManifestError(
            f"operation {name} uses unknown fragments: {', '.join(sorted(missing))}"
        )
    return sorted(used.values(), key=lambda f: f.name.value)


def _spread_names(node: Any) -> set[str]:
    names: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            names.add(spread.name.value)

    visit(node, Spreads())
    return names


__all__ = [
    "MANIFEST_FORMAT",
    "ManifestError",
    "PersistedOperation",
    "Safelist",
    "load_manifest",
    "manifest_from_documents",
    "sha256_hex",
]
