"""A schema extension that names the operation for the access log, the metrics and the trace.

Only the operation hook is used, and the phase hooks when tracing is on: per-field hooks would
make every field a coroutine, and every hook an extension has costs every request a context
manager, even one that does nothing.

    schema = strawberry.Schema(query=Query, extensions=[operation_observer])
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from opentelemetry import trace
from strawberry.extensions import SchemaExtension

from gql_badges.errors import QUERY_TOO_COMPLEX, GatewayError
from gql_badges.observability import context

_MAX_LOGGED_NAME = 100


class OperationObserver(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        record = context.current()
        if record is None:
            yield
            return
        tracing = record.tracing
        span = tracing.start_operation_span() if tracing is not None else None
        refused = None
        try:
            yield
        except GraphQLError as error:  # refused by a hook after this one (a persisted query's)
            code = (error.extensions or {}).get("code")
            refused = code if isinstance(code, str) else "GRAPHQL_ERROR"
            raise
        finally:
            name = self.execution_context.operation_name
            record.operation = name[:_MAX_LOGGED_NAME] if name else None
            outcome = record.graphql_outcome or refused or "ok"
            if record.metrics is not None:
                label = record.metrics.operation_label(name)
                record.metrics.graphql_operations.labels(label, outcome).inc()
            if span is not None and tracing is not None:
                tracing.end_operation_span(span, self.execution_context, outcome)


class TracedOperationObserver(OperationObserver):
    """With tracing on: the phases, as events of the operation's span (not spans of their own)."""

    def on_parse(self) -> Iterator[None]:
        yield
        _phase_done("graphql.parse")

    def on_validate(self) -> Iterator[None]:
        yield
        _phase_done("graphql.validate")

    def on_execute(self) -> Iterator[None]:
        yield
        _phase_done("graphql.execute")


def operation_observer() -> OperationObserver:
    """The observer of one operation (the schema's extension factory): with the phase hooks only
    when the request is traced (tracing is on or off for the whole app, so for the whole
    operation)."""
    record = context.current()
    if record is not None and record.tracing is not None:
        return TracedOperationObserver()
    return OperationObserver()


def _phase_done(name: str) -> None:
    record = context.current()
    if record is not None and record.tracing is not None:
        trace.get_current_span().add_event(name)


def errors_seen(errors: list[GraphQLError]) -> None:
    """Called by the schema once its errors have their final codes: refusals, auth failures,
    rate limits, and the operation's outcome (the first error's code)."""
    record = context.current()
    if record is None or not errors:
        return
    for error in errors:
        extensions = error.extensions or {}
        if extensions.get("code") == QUERY_TOO_COMPLEX:
            limit = extensions.get("limit")
            context.query_refused(limit if isinstance(limit, str) else "unknown")
        if isinstance(error.original_error, GatewayError):
            context.gateway_error(error.original_error)
    code = (errors[0].extensions or {}).get("code")
    record.graphql_outcome = code if isinstance(code, str) else "GRAPHQL_ERROR"


__all__ = ["OperationObserver", "TracedOperationObserver", "errors_seen", "operation_observer"]
