"""OpenTelemetry traces, configured only by the standard `OTEL_*` variables; off by default.

`OTEL_TRACES_EXPORTER=otlp` turns them on (OTLP over HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`,
sampled by `OTEL_TRACES_SAMPLER`, named by `OTEL_SERVICE_NAME`). Off, there is no tracer at all:
the hooks test one `None`, so tracing costs nothing when it is not wanted.

A request makes a server span (an incoming W3C `traceparent` is its parent), a GraphQL
operation makes a child with parse/validate/execute as events, and every MongoDB command a
client span under whichever is current, with the command's name and collection, never its
filter values.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from pymongo import monitoring
    from starlette.types import Scope
    from strawberry.types import ExecutionContext


def tracing_from_environment(environ: Mapping[str, str] = os.environ) -> Tracing | None:
    """A tracer when `OTEL_TRACES_EXPORTER` asks for OTLP; else None (and nothing is imported)."""
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    exporters = {e.strip() for e in environ.get("OTEL_TRACES_EXPORTER", "none").split(",")}
    if "otlp" not in exporters:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from gql_badges import __version__

    resource = Resource.create(
        {
            SERVICE_NAME: environ.get("OTEL_SERVICE_NAME") or "gql-badges",
            "service.version": __version__,
        }
    )
    # A provider of the app's own (not the global one): several apps in a process stay apart.
    provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return Tracing(provider)


class _Span:
    """A started span, the context token that made it current, and its trace's id (hex)."""

    __slots__ = ("name", "span", "token", "trace_id")

    def __init__(self, span: trace.Span, token: Token[Context], name: str = "") -> None:
        self.span = span
        self.token = token
        self.name = name
        span_context = span.get_span_context()
        self.trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else None


class Tracing:
    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("gql_badges")

    def shutdown(self) -> None:
        self.provider.shutdown()  # flushes the spans still queued

    # --- the request -------------------------------------------------------------------------

    def start_server_span(self, scope: Scope, headers: Iterable[tuple[bytes, bytes]]) -> _Span:
        """The request's span; an incoming `traceparent` among `headers` is its parent."""
        carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in headers}
        parent = propagate.extract(carrier)
        method = scope["method"]
        span = self.tracer.start_span(
            method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": method,
                "url.scheme": scope.get("scheme", "http"),
                "network.protocol.version": scope.get("http_version", "1.1"),
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        return _Span(span, token, method)

    def end_server_span(self, started: _Span, route: str, status: int) -> None:
        span = started.span
        # The route, not the path: paths hold customer identifiers (emails, card numbers).
        span.update_name(f"{started.name} {route}")
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(started.token)

    # --- the GraphQL operation ---------------------------------------------------------------

    def start_operation_span(self) -> _Span:
        span = self.tracer.start_span("GraphQL operation", kind=SpanKind.INTERNAL)
        token = otel_context.attach(trace.set_span_in_context(span))
        return _Span(span, token)

    def end_operation_span(self, started: _Span, execution: ExecutionContext, outcome: str) -> None:
        span = started.span
        name = execution.operation_name
        try:
            kind = execution.operation_type.value
        except RuntimeError:  # the document did not parse
            kind = "query"
        span.update_name(f"{kind} {name}" if name else kind)
        span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name[:100])
        if outcome != "ok":
            span.set_attribute("graphql.error.code", outcome)
            span.set_status(Status(StatusCode.ERROR, outcome))
        span.end()
        otel_context.detach(started.token)

    # --- MongoDB commands --------------------------------------------------------------------

    def start_command_span(self, event: monitoring.CommandStartedEvent, collection: str) -> Any:
        attributes: dict[str, Any] = {
            "db.system": "mongodb",
            "db.name": event.database_name,
            "db.operation": event.command_name,
        }
        if collection:
            attributes["db.mongodb.collection"] = collection
        address = event.connection_id
        if isinstance(address, tuple) and len(address) == 2 and address[1] is not None:
            attributes["server.address"] = str(address[0])
            attributes["server.port"] = address[1]
        name = f"{event.command_name} {collection}" if collection else event.command_name
        return self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)

    def end_command_span(self, span: Any, event: Any, failed: bool) -> None:
        if failed:
            span.set_status(Status(StatusCode.ERROR, f"{event.command_name} failed"))
        span.end()


__all__ = ["Tracing", "tracing_from_environment"]
