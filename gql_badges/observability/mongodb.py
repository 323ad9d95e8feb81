"""The driver's own monitoring, feeding the metrics, the request's record and its trace.

PyMongo's listeners see every command of both drivers (motor runs PyMongo underneath). Their
callbacks run on the thread that sends the command: the event loop for PyMongo's async client,
a worker thread (in a copy of the request's context) for motor. They must be quick and never
raise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import ReadPreference, monitoring

from gql_badges.observability import context
from gql_badges.storage.collections import COLLECTIONS

if TYPE_CHECKING:
    from gql_badges.observability.metrics import Metrics
    from gql_badges.observability.tracing import Tracing

_KNOWN_COLLECTIONS = frozenset(COLLECTIONS)
# Commands whose collection is in a field of its own rather than under the command's name.
_COLLECTION_FIELD = {"getMore": "collection"}


def _collection(command_name: str, command: Any) -> str:
    value = command.get(_COLLECTION_FIELD.get(command_name, command_name))
    if isinstance(value, str):
        return value if value in _KNOWN_COLLECTIONS else "other"
    return ""  # database commands: ping, listCollections, endSessions…


class CommandObserver(monitoring.CommandListener):
    def __init__(self, metrics: Metrics | None, tracing: Tracing | None = None) -> None:
        self.metrics = metrics
        self.tracing = tracing
        # (connection, request id) → (collection, span); the succeeded event lacks the command.
        self._started: dict[tuple[object, int], tuple[str, Any]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        collection = _collection(event.command_name, event.command)
        span = None
        if self.tracing is not None:
            span = self.tracing.start_command_span(event, collection)
        self._started[(event.connection_id, event.request_id)] = (collection, span)

    def _finish(self, event: Any, failed: bool) -> None:
        collection, span = self._started.pop((event.connection_id, event.request_id), ("", None))
        seconds = event.duration_micros / 1e6
        record = context.current()
        if record is not None:
            record.db_durations.append(seconds)
        if self.metrics is not None:
            labels = (collection, event.command_name)
            self.metrics.mongodb_commands.labels(*labels).inc()
            self.metrics.mongodb_duration.labels(*labels).observe(seconds)
            if failed:
                self.metrics.mongodb_failures.labels(*labels).inc()
        if span is not None and self.tracing is not None:
            self.tracing.end_command_span(span, event, failed)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finish(event, failed=False)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finish(event, failed=True)


def watch_database(metrics: Metrics, client: Any) -> None:
    """`gql_badges_database_up`, read at each scrape from the driver's view of the deployment.

    The driver's monitors keep that view current; a scrape never waits for a round trip.
    """

    def readable() -> float:
        description = client.topology_description
        return 1.0 if description.has_readable_server(ReadPreference.PRIMARY_PREFERRED) else 0.0

    metrics.database_up.set_function(readable)


def listeners(metrics: Metrics | None, tracing: Tracing | None) -> list[CommandObserver]:
    """What to register on the client: always the command observer (the access log's DB time)."""
    return [CommandObserver(metrics, tracing)]
