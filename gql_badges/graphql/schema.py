"""The schema: the root fields with the extensions every request runs through, in order."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import strawberry
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from gql_badges.badges.request import MAX_PAGE_SIZE
from gql_badges.graphql._internals import (
    compiled_execution_allowed,
    graphql_schema,
    internals_usable,
)
from gql_badges.graphql.documents import DocumentCache
from gql_badges.graphql.errors import GatewaySchema
from gql_badges.graphql.executor import execution_context, run_compiled
from gql_badges.graphql.limits import DocumentFigures, QueryLimits, guarded_validation
from gql_badges.graphql.live import Subscription
from gql_badges.graphql.manifest import Safelist, load_manifest
from gql_badges.graphql.persisted import Documents, persisted_queries
from gql_badges.graphql.plan_cache import PlanCache
from gql_badges.graphql.resolvers import PLANNED_ROOTS, Query
from gql_badges.graphql.scalars import SCALAR_MAP
from gql_badges.observability.graphql import operation_observer


def create_schema(
    limits: QueryLimits | None = None,
    largest_page: int = MAX_PAGE_SIZE,
    max_tokens: int = 2_500,
    introspection: bool = True,
    safelist: Safelist | None = None,
    documents: Documents | None = None,
    compiled: bool = True,
    library_versions: Mapping[str, str] | None = None,
) -> strawberry.Schema:
    """The schema, refusing documents over `limits` (and `max_tokens` while parsing).

    Persisted queries (APQ) are always on; with a `safelist`, only the operations it lists run.
    With `compiled`, queries over the two root fields run from plans (`graphql/executor.py`),
    if the installed graphql-core and Strawberry (or `library_versions`, for tests) are the
    releases the fence (`graphql/_internals.py`) knows; otherwise through graphql-core.
    """
    limits = limits or QueryLimits()
    # Few extensions, each with few hooks: every extension costs every request a hook context
    # per step, whatever it does.
    extensions: list[Any] = [
        # First, so that it sees every operation, those the persisted queries refuse included.
        operation_observer,
        persisted_queries(safelist, documents),
        # Parses (at most `max_tokens` tokens) and validates each document once
        # (graphql/documents.py); APQ, the safelist and plain requests of one text share its
        # entry. Then the cost, and the operation-name rule (graphql/operation.py).
        guarded_validation(
            limits,
            largest_page,
            suggestions=introspection,
            documents=DocumentCache[DocumentFigures](),
            max_tokens=max_tokens,
        ),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    compiled = compiled and compiled_execution_allowed(library_versions)
    plans = PlanCache(PLANNED_ROOTS) if compiled else None
    schema = GatewaySchema(
        query=Query,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        extensions=extensions,
        execution_context_class=execution_context() if plans is not None else None,
    )
    schema.suggestions = introspection
    schema.hooks_once_per_class = internals_usable(library_versions)
    if plans is not None:
        run_compiled(schema, plans)
        if safelist is not None:
            # The listed operations are the only ones that run: their plans are built now, not
            # by their first request.
            for body in safelist.by_body:
                plans.precompile(graphql_schema(schema), body)
    return schema


def load_safelist(manifest: Path) -> Safelist:
    """The operations of a persisted-query manifest, each checked against the schema."""
    bare = GatewaySchema(
        query=Query,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )
    return load_manifest(manifest, graphql_schema(bare))


def export_sdl() -> str:
    return create_schema().as_str() + "\n"


__all__ = ["create_schema", "export_sdl", "load_safelist"]
