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

Both work on the request before it is parsed, as the first schema extension. Reading and making
manifests is `manifest.py`'s.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gql_badges.graphql.manifest import Safelist, sha256_hex
from gql_badges.storage.redis_store import RedisStore, StoreUnavailable

REGISTERED_DOCUMENTS = 1_000  # APQ documents kept per process
_REDIS_PREFIX = "gql_badges:apq:"
_REDIS_TTL_SECONDS = 24 * 3600
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


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


class PersistedQueries(SchemaExtension):
    """Turns a persisted-query request into its document, or refuses it: APQ over `documents`,
    or, with a `safelist`, only the operations it lists.

        extensions=[persisted_queries(safelist, Documents(redis_url))]
    """

    def __init__(self, *, documents: Documents, safelist: Safelist | None = None) -> None:
        self.documents = documents
        self.safelist = safelist

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        digest = _requested_hash(context.operation_extensions)
        if self.safelist is not None:
            context.query = _listed(self.safelist, context.query, digest)
        elif digest is not None:
            context.query = await _registered(self.documents, context.query, digest)
        yield


def persisted_queries(
    safelist: Safelist | None = None, documents: Documents | None = None
) -> Callable[[], PersistedQueries]:
    """`PersistedQueries` for one schema: every request's instance shares its `documents`."""
    return functools.partial(
        PersistedQueries, documents=documents or Documents(), safelist=safelist
    )


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


__all__ = [
    "REGISTERED_DOCUMENTS",
    "Documents",
    "PersistedQueries",
    "Safelist",
    "persisted_queries",
    "sha256_hex",
]
