"""The outermost middleware: one record per request, its metrics, its access line, its span,
and its id on the answer (`X-Request-Id`)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.datastructures import MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_badges.observability import context
from gql_badges.observability.metrics import UNMATCHED_ROUTE, Metrics, method_label

if TYPE_CHECKING:
    from gql_badges.observability.tracing import Tracing

access_logger = logging.getLogger("gql_badges.access")


def route_template(scope: Scope) -> str:
    """The route's template (`/api_gateway/v1/badges/customer/{customerId}`), never the path."""
    route = scope.get("route")
    if route is None:
        # Answered before routing (a body over the limit): find the route the router would take.
        app = scope.get("app")
        for candidate in getattr(getattr(app, "router", None), "routes", ()):
            match, _ = candidate.matches(scope)
            if match is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class ObserveRequests:
    """Reads the metrics and the tracer from the app's services, which the lifespan may make."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        services = scope["app"].state.services
        metrics: Metrics | None = services.metrics
        tracing: Tracing | None = services.tracing
        record = context.RequestRecord(
            scope["method"], scope["headers"], scope["path"], metrics=metrics, tracing=tracing
        )
        span = tracing.start_server_span(scope, record.headers) if tracing is not None else None
        if span is not None:
            record.trace_id = span.trace_id
        token = context._set(record)
        status = 500  # unless an answer starts: an exception escaping here becomes a 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                MutableHeaders(scope=message)["X-Request-Id"] = record.request_id
            await send(message)

        failed = True
        try:
            await self.app(scope, receive, observed_send)
            failed = False
        finally:
            duration = time.perf_counter() - started
            route = route_template(scope)
            method = method_label(record.method)
            if metrics is not None:
                metrics.http_requests.labels(route, method, str(status)).inc()
                metrics.http_duration.labels(route, method).observe(duration)
            if span is not None and tracing is not None:
                tracing.end_server_span(span, route, status)
            if access_logger.isEnabledFor(logging.INFO):
                _access_line(record, method, route, status, duration)
            # An escaping exception is answered by Starlette's outermost handler, after this:
            # the record stays current so that its log line and answer carry this request's id.
            if not failed:
                context._reset(token)


def _access_line(
    record: context.RequestRecord, method: str, route: str, status: int, duration: float
) -> None:
    durations = record.db_durations
    fields: dict[str, Any] = {
        "request_id": record.request_id,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "org": record.org_id,
        "operation": record.operation,
        "db_commands": len(durations),
        "db_ms": round(sum(durations) * 1000, 2),
    }
    if record.limit is not None:
        fields["limit"] = record.limit  # which limit refused it (a login limit, maxDepth, ...)
    if record.trace_id is not None:
        fields["trace_id"] = record.trace_id
    access_logger.info("%s %s %s", method, route, status, extra={"fields": fields})
