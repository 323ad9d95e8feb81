"""Persisted operations: Apollo's automatic persisted queries (APQ), and a safelist mode.

APQ lets a client send a hash instead of its document:

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}, "variables": …}

The first time, the gateway answers PERSISTED_QUERY_NOT_FOUND; the client sends the document once
with its hash, the gateway checks that the hash is the document's and keeps it, and from then on
the hash alone runs it, over POST or GET (cacheable URLs). Documents are kept in a bounded LRU per
process, or, with `GQL_BADGES_REDIS_URL`, in Redis for every replica (a day each; while Redis
cannot be reached, in the process's LRU: the process's one `RedisStore` falls back at once).

Safelist mode (`GQL_BADGES_PERSISTED_OPERATIONS=manifest.json`, Apollo's persisted-query
manifest): only the listed operations run, named by their id (sent as the APQ hash) or sent with
the identical body; anything else answers PERSISTED_QUERY_NOT_IN_LIST. The manifest is read and
every operation in it parsed and validated at start-up, so a bad manifest stops the gateway
before it serves, not at the first request.

Both work on the request before it is parsed, as the first schema extension.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from gql_badges.storage.redis_store import RedisStore, StoreUnavailable

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
REGISTERED_DOCUMENTS = 1_000  # APQ documents kept per process
_REDIS_PREFIX = "gql_badges:apq:"
_REDIS_TTL_SECONDS = 24 * 3600
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


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


class Documents:
    """Registered APQ documents by hash: this process's LRU, and Redis shared by the replicas
    when `store` has one (the services' store, set once they exist)."""

    def __init__(self, store: RedisStore | None = None) -> None:
        self.local: LRUCache[str, str] = LRUCache(maxsize=REGISTERED_DOCUMENTS)
        self.store = store or RedisStore(None)

    async def get(self, digest: str) -> str | None:
        try:
            found = await self.store.run(lambda redis: redis.get(_REDIS_PREFIX + digest))
        except StoreUnavailable:  # no Redis, or not now: this process's documents answer
            return self.local.get(digest)
        if found is None:
            return self.local.get(digest)
        return found.decode() if isinstance(found, bytes) else found

    async def put(self, digest: str, query: str) -> None:
        self.local[digest] = query
        with contextlib.suppress(StoreUnavailable):  # without Redis: kept in this process only
            await self.store.run(
                lambda redis: redis.set(_REDIS_PREFIX + digest, query, ex=_REDIS_TTL_SECONDS)
            )


def persisted_queries(
    safelist: Safelist | None = None, documents: Documents | None = None
) -> type[SchemaExtension]:
    """The extension that turns a persisted-query request into its document (or refuses it)."""
    registered = documents or Documents()

    class PersistedQueries(SchemaExtension):
        documents = registered  # the class's, shared by every request to its schema

        async def on_operation(self) -> AsyncIterator[None]:
            context = self.execution_context
            digest = _requested_hash(context.operation_extensions)
            if safelist is not None:
                context.query = _listed(safelist, context.query, digest)
            elif digest is not None:
                context.query = await _registered(registered, context.query, digest)
            yield

    return PersistedQueries


def _requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise _error("Unsupported persisted query version", "PERSISTED_QUERY_NOT_SUPPORTED")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise _error("persistedQuery.sha256Hash must be 64 lowercase hex digits", "BAD_REQUEST")
    return digest


async def _registered(registered: Documents, query: str | None, digest: str) -> str:
    if query is None:
        known = await registered.get(digest)
        if known is None:
            raise _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        return known
    if sha256_hex(query) != digest:
        raise _error("provided sha does not match query", "BAD_REQUEST")
    await registered.put(digest, query)
    return query


def _listed(safelist: Safelist, query: str | None, digest: str | None) -> str | None:
    operation = (safelist.by_id.get(digest) if digest is not None and query is None else None) or (
        safelist.by_body.get(query) if query is not None else None
    )
    if operation is None:
        if query is None and digest is None:
            return None  # no document at all: the usual "no query" answer
        raise _error("PersistedQueryNotInList", "PERSISTED_QUERY_NOT_IN_LIST")
    if digest is not None and query is not None and digest != operation.id:
        raise _error("provided sha does not match query", "BAD_REQUEST")
    return operation.body


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
    "Documents",
    "ManifestError",
    "Safelist",
    "load_manifest",
    "manifest_from_documents",
    "persisted_queries",
    "sha256_hex",
]
