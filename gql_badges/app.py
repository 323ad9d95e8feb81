"""The ASGI application: GraphQL, the REST shim, OAuth and the health probes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gql_badges.auth import Authenticator
from gql_badges.badges.repository import BadgeRepository
from gql_badges.db import Database
from gql_badges.errors import DatabaseUnavailable, GatewayError, InvalidParameter
from gql_badges.graphiql import graphiql_routes
from gql_badges.graphql.limits import QueryLimits
from gql_badges.graphql.persisted import Documents, Safelist
from gql_badges.graphql.schema import create_schema, load_safelist
from gql_badges.graphql.view import GRAPHQL_PATH, GraphQLView
from gql_badges.middleware import BodySizeLimit, HeaderSizeLimit
from gql_badges.observability import context as observed
from gql_badges.observability.metrics import Metrics
from gql_badges.observability.middleware import ObserveRequests
from gql_badges.observability.mongodb import listeners, watch_database
from gql_badges.observability.tracing import Tracing, tracing_from_environment
from gql_badges.responses import (
    JSONBody,
    envelope,
    error_envelope,
    error_response,
    internal_error_response,
)
from gql_badges.rest.openapi import openapi_document
from gql_badges.rest.routes import rest_routes
from gql_badges.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """What every request needs, made once per process."""

    settings: Settings
    database: Database
    authenticator: Authenticator
    repository: BadgeRepository
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The request's `now` (docs/semantics.md); tests set it to put data on the rules' edges."""
    metrics: Metrics | None = None
    tracing: Tracing | None = None

    @classmethod
    def create(cls, settings: Settings, uri: str) -> Services:
        metrics = Metrics(settings.driver.value) if settings.metrics else None
        tracing = tracing_from_environment()
        database = Database(settings, uri, listeners(metrics, tracing))
        if metrics is not None:
            watch_database(metrics, database.client)
        return cls(
            settings=settings,
            database=database,
            authenticator=Authenticator(database, settings),
            repository=BadgeRepository(database),
            metrics=metrics,
            tracing=tracing,
        )


async def healthz(request: Request) -> Response:
    return JSONBody({"status": "ok"})


async def prepare_indexes(database: Database) -> None:
    """Create the indexes (or, with GQL_BADGES_CREATE_INDEXES=false, only check them).

    An index the server refuses leaves the gateway serving (slower on that path): one warning
    per index says what to do, and /readyz lists it. Unreachable: tried again by /readyz.
    """
    try:
        if database.settings.create_indexes:
            problems = await database.ensure_indexes()
        else:
            problems = await database.check_indexes()
    except DatabaseUnavailable:
        logger.warning("database unreachable at start-up; indexes not yet ensured")
        return
    for problem in problems:
        logger.warning(problem.log_line())


async def readyz(request: Request) -> Response:
    """Ready when a server the read preference admits answers; missing indexes are listed in
    `degraded` (still 200: the gateway answers, some look-ups more slowly)."""
    database: Database = request.app.state.services.database
    if not await database.ping():
        return JSONBody({"status": "database unreachable"}, status_code=503)
    if database.index_problems is None:
        await prepare_indexes(database)
    degraded = [problem.as_dict() for problem in database.index_problems or ()]
    return JSONBody({"status": "degraded" if degraded else "ready", "degraded": degraded})


async def read_json(request: Request) -> Any:
    body = await request.body()  # bounded by BodySizeLimit
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidParameter("Request body is not valid JSON") from None


async def generate_token(request: Request) -> Response:
    services: Services = request.app.state.services
    body = await read_json(request)
    key = body.get("key") if isinstance(body, dict) else None
    secret = body.get("secret") if isinstance(body, dict) else None
    if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
        raise InvalidParameter("key and secret are required", reference="key")
    address = request.client.host if request.client else None
    token = await services.authenticator.issue_token(key, secret, address)
    ttl = services.settings.token_ttl_seconds
    return envelope({"accessToken": token, "ttlSeconds": ttl})


async def openapi(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONBody(openapi_document(services.settings.max_page_size))


async def handle_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    observed.gateway_error(exc)
    return error_response(exc)


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics | None = request.app.state.services.metrics
    if metrics is None:  # services made with metrics off
        raise HTTPException(404, "Not Found")
    return await metrics.endpoint(request)


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = observed.request_id()
    logger.error("unexpected error (request %s)", request_id, exc_info=exc)
    return internal_error_response(request_id)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, in the same envelope as every other error."""
    assert isinstance(exc, HTTPException)
    return error_envelope(exc.status_code, exc.detail, None, exc.status_code, exc.headers)


def _name_safelisted(metrics: Metrics | None, safelist: Safelist | None) -> None:
    """Safelisted operations are named in the metrics; any other is counted as "other"."""
    if metrics is not None and safelist is not None:
        metrics.allow_operations(o.name for o in safelist.by_id.values() if o.name)


def create_app(
    settings: Settings, uri: str | None = None, services: Services | None = None
) -> Starlette:
    """The app for `settings`; it opens (and closes) its own database client unless given one."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = services is None
        if services is None:
            assert uri is not None, "create_app needs a MongoDB URI or ready services"
            app.state.services = Services.create(settings, uri)
        await prepare_indexes(app.state.services.database)
        metrics: Metrics | None = app.state.services.metrics
        _name_safelisted(metrics, safelist)
        listener = None
        if metrics is not None and settings.metrics_address:
            listener, _ = metrics.serve(settings.metrics_address)
        try:
            yield
        finally:
            await documents.close()
            if listener is not None:
                listener.shutdown()  # type: ignore[attr-defined]
            if owned:
                await app.state.services.authenticator.close()
                await app.state.services.database.close()
                if app.state.services.tracing is not None:
                    app.state.services.tracing.shutdown()

    safelist = (
        load_safelist(settings.persisted_operations) if settings.persisted_operations else None
    )
    documents = Documents(settings.redis_url)  # APQ's registered documents
    limits = QueryLimits(
        max_depth=settings.graphql_max_depth,
        max_introspection_depth=settings.graphql_max_introspection_depth,
        max_aliases=settings.graphql_max_aliases,
        max_cost=settings.graphql_max_cost,
    )
    schema = create_schema(
        limits,
        largest_page=settings.max_page_size,
        max_tokens=settings.graphql_max_tokens,
        introspection=settings.graphql_introspection,
        safelist=safelist,
        documents=documents,
        compiled=settings.graphql_compiled,
    )
    graphql_view = GraphQLView(schema, graphql_ide="graphiql" if settings.graphiql else None)
    # Scrapes go to a listener of their own when one is set, so /metrics need not be public.
    metrics_routes = []
    if settings.metrics and not settings.metrics_address:
        metrics_routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/v3/oauth/token/generate", generate_token, methods=["POST"]),
            # Every method reaches the view, which answers 405 itself in the GraphQL shape.
            Route(GRAPHQL_PATH, graphql_view),
            Route("/openapi.json", openapi),
            *rest_routes(),
            *(graphiql_routes() if settings.graphiql else []),
            *metrics_routes,
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(ObserveRequests),
            Middleware(HeaderSizeLimit, max_bytes=settings.max_header_bytes),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_error,
            Exception: handle_unexpected_error,
        },
    )
    if services is not None:
        app.state.services = services
        _name_safelisted(services.metrics, safelist)
    return app


__all__ = ["Services", "create_app"]
