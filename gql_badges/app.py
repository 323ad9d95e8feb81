"""The ASGI application: the factory that wires GraphQL, the REST shim, OAuth and the probes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL

from gql_badges.errors import GatewayError
from gql_badges.graphiql import graphiql_routes
from gql_badges.graphql.limits import QueryLimits
from gql_badges.graphql.persisted import Documents, Safelist
from gql_badges.graphql.schema import create_schema, load_safelist
from gql_badges.graphql.subscriptions import LiveSockets
from gql_badges.graphql.view import GRAPHQL_PATH, GraphQLView, error_response
from gql_badges.http.compression import Compression
from gql_badges.http.cors import GatewayCORS
from gql_badges.http.errors import (
    AnswerUnexpectedErrors,
    handle_gateway_error,
    handle_http_error,
    handle_unexpected_error,
)
from gql_badges.http.limits import BodySizeLimit, HeaderSizeLimit
from gql_badges.http.oauth import generate_token
from gql_badges.http.probes import healthz, metrics_endpoint, readyz
from gql_badges.observability.metrics import Metrics
from gql_badges.observability.middleware import ObserveRequests
from gql_badges.rest.openapi import openapi
from gql_badges.rest.routes import rest_routes
from gql_badges.services import Services
from gql_badges.settings import Settings


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
        documents.store = app.state.services.store
        await app.state.services.database.prepare_indexes()
        metrics: Metrics | None = app.state.services.metrics
        _name_safelisted(metrics, safelist)
        listener = None
        if metrics is not None and settings.metrics_address:
            listener, _ = metrics.serve(settings.metrics_address)
        try:
            yield
        finally:
            if app.state.services.hub is not None:  # ends what is left (SSE streams)
                await app.state.services.hub.close()
            if listener is not None:
                listener.shutdown()
            if owned:
                await app.state.services.store.close()
                await app.state.services.database.close()
                if app.state.services.tracing is not None:
                    app.state.services.tracing.shutdown()

    safelist = (
        load_safelist(settings.persisted_operations) if settings.persisted_operations else None
    )
    documents = Documents()  # APQ's registered documents, in Redis through the services' store
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
    graphql_view = GraphQLView(
        schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        # The legacy subscriptions-transport-ws protocol stays off: unmaintained, and it had
        # an authentication advisory in Strawberry.
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL],
        connection_init_wait_timeout=timedelta(seconds=settings.live_init_timeout_seconds),
        max_subscriptions_per_connection=settings.live_max_subscriptions_per_connection,
        allowed_origins=settings.cors_origins,  # besides the page's own origin
    )
    graphql_view.live_sockets = LiveSockets(
        ping_seconds=settings.live_ping_seconds,
        max_message_bytes=settings.live_max_message_bytes,
        max_connections_per_client=settings.live_max_connections_per_client,
    )
    refusals = {GRAPHQL_PATH: error_response}
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
            WebSocketRoute(GRAPHQL_PATH, graphql_view),  # subscriptions (graphql-transport-ws)
            Route("/openapi.json", openapi),
            *rest_routes(),
            *(graphiql_routes() if settings.graphiql else []),
            *metrics_routes,
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(ObserveRequests),
            # Preflights are answered here, before the size limits, the rate limits and the
            # GraphQL view (which would answer OPTIONS 405); refusals below still get CORS headers.
            Middleware(GatewayCORS, allow_origins=settings.cors_origins),
            Middleware(AnswerUnexpectedErrors),  # a 500 with CORS headers and its id
            Middleware(Compression),
            # Refused in the GraphQL shape on /graphql, in the REST envelope elsewhere.
            Middleware(HeaderSizeLimit, max_bytes=settings.max_header_bytes, refusals=refusals),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, refusals=refusals),
        ],
        exception_handlers={
            GatewayError: handle_gateway_error,
            HTTPException: handle_http_error,
            Exception: handle_unexpected_error,
        },
    )
    app.state.live_sockets = graphql_view.live_sockets  # closed with 1001 by `drain`
    if services is not None:
        app.state.services = services
        documents.store = services.store
        _name_safelisted(services.metrics, safelist)
    return app


async def drain(app: Starlette, seconds: float) -> None:
    """A stopping process's first step: close the live WebSockets with 1001 (clients reconnect
    to another replica) and end the event streams, within `seconds`."""
    sockets: LiveSockets = app.state.live_sockets
    with suppress(TimeoutError):
        await sockets.drain(seconds)
    services: Services | None = getattr(app.state, "services", None)
    if services is not None and services.hub is not None:
        await services.hub.close()


__all__ = ["Services", "create_app", "drain"]
