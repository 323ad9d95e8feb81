"""Prometheus series of one gateway app, in a registry of its own.

Every label is bounded: routes are Starlette's route templates (an unknown path is one value),
methods a fixed set, GraphQL operation names only those the gateway was told about (persisted
or safelisted operations, up to a hard cap), MongoDB collections the gateway's own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from starlette.requests import Request
from starlette.responses import Response

from gql_badges import __version__

logger = logging.getLogger(__name__)

UNMATCHED_ROUTE = "unmatched"
ANONYMOUS_OPERATION = "anonymous"
OTHER = "other"
MAX_OPERATION_NAMES = 200
_METHODS = frozenset({"GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Most requests take a few milliseconds; the tail reaches the database time limit (seconds).
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_COMMAND_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)
# Insert to event is a few milliseconds; a resumed stream delivers what it missed, seconds late.
_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def _declare(
    registry: CollectorRegistry,
) -> tuple[Callable[..., Counter], Callable[..., Histogram], Callable[..., Gauge]]:
    """Constructors of `gql_badges_`-prefixed series in `registry`, as (name, help, labels)."""

    def counter(name: str, help: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(f"gql_badges_{name}", help, labels, registry=registry)

    def histogram(
        name: str, help: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> Histogram:
        return Histogram(f"gql_badges_{name}", help, labels, buckets=buckets, registry=registry)

    def gauge(name: str, help: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(f"gql_badges_{name}", help, labels, registry=registry)

    return counter, histogram, gauge


def method_label(method: str) -> str:
    return method if method in _METHODS else OTHER


class Metrics:
    """The series of the gateway; `render` answers a scrape."""

    def __init__(self, driver: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        counter, histogram, gauge = _declare(self.registry)
        self.http_requests = counter(
            "http_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
        )
        self.http_duration = histogram(
            "http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer.",
            ("route", "method"),
            buckets=_REQUEST_BUCKETS,
        )
        self.graphql_operations = counter(
            "graphql_operations",
            "GraphQL operations by name (known operations only) and outcome (ok or error code).",
            ("operation", "outcome"),
        )
        self.mongodb_commands = counter(
            "mongodb_commands",
            "MongoDB commands sent, by collection and command name.",
            ("collection", "command"),
        )
        self.mongodb_duration = histogram(
            "mongodb_command_duration_seconds",
            "MongoDB command round-trip time, as the driver measures it.",
            ("collection", "command"),
            buckets=_COMMAND_BUCKETS,
        )
        self.mongodb_failures = counter(
            "mongodb_command_failures",
            "MongoDB commands that failed (an error answer or a network failure).",
            ("collection", "command"),
        )
        self.auth_failures = counter(
            "auth_failures",
            "Requests refused for their credentials (or throttled as failed logins), by scheme "
            "and reason.",
            ("scheme", "reason"),
        )
        self.rate_limited = counter("rate_limited", "Requests refused with 429 (rate limits).")
        self.query_refused = counter(
            "query_refused",
            "GraphQL documents refused as too complex, by the limit they broke.",
            ("limit",),
        )
        self.limiter_fallbacks = counter(
            "limiter_store_failures",
            "Redis operations (rate limits, login limits, persisted queries) answered by this "
            "process alone because Redis could not be reached.",
        )
        # Live subscriptions (gql_badges/live): the one change stream and its subscribers.
        self.subscriptions_active = gauge(
            "subscriptions_active", "Live subscriptions open now, by transport.", ("transport",)
        )
        self.subscription_events = counter(
            "subscription_events", "Live events delivered to subscribers, by kind.", ("kind",)
        )
        self.subscriptions_ended = counter(
            "subscriptions_ended",
            "Live subscriptions ended, by reason (complete, or an error code).",
            ("reason",),
        )
        self.change_stream_lag = histogram(
            "change_stream_lag_seconds",
            "From a change's commit (its cluster time) to its delivery to a subscriber.",
            (),
            buckets=_LAG_BUCKETS,
        )
        self.change_stream_restarts = counter(
            "change_stream_restarts",
            "Times the change stream was reopened after an error, or reset (history lost).",
        )
        self.build_info = gauge(
            "build_info",
            "Always 1; the labels tell the version and the MongoDB driver.",
            ("version", "driver"),
        )
        self.database_up = gauge(
            "database_up", "1 while the driver sees a server it can read from, else 0."
        )
        self.build_info.labels(__version__, driver).set(1)
        self._operation_names: set[str] = set()
        self._lock = threading.Lock()

    def allow_operations(self, names: Iterable[str]) -> None:
        """Name these operations in the operation label (persisted or safelisted ones)."""
        with self._lock:
            for name in names:
                if len(self._operation_names) >= MAX_OPERATION_NAMES:
                    logger.warning(
                        "more than %d operation names; the rest are counted as %r",
                        MAX_OPERATION_NAMES,
                        OTHER,
                    )
                    return
                self._operation_names.add(name)

    def operation_label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS_OPERATION
        return name if name in self._operation_names else OTHER

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, request: Request) -> Response:
        return Response(self.render(), media_type=CONTENT_TYPE_LATEST)

    def serve(self, address: str) -> tuple[WSGIServer, threading.Thread]:
        """Answer scrapes on a listener of their own (`host:port`), apart from the API."""
        host, _, port = address.rpartition(":")
        server, thread = start_http_server(int(port), host or "0.0.0.0", registry=self.registry)
        logger.info("metrics on http://%s/metrics", address)
        return server, thread


__all__ = ["Metrics", "method_label"]
