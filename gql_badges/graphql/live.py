"""The subscription root: `badgeChanged(customer)`, one customer's badge records as they change.

A subscription is resolved once: the caller (authenticated when the WebSocket was initialised,
or from the event stream's headers), then the customer, within the caller's org. Only then does
it join the hub (`live/hub.py`), so an unknown customer, or another org's, is refused with
CUSTOMER_NOT_FOUND before any event exists. From then on it yields the hub's changes of that
customer, checking every `recheck` seconds that its credentials still hold (a deactivated
client's subscriptions end; one authentication per client per interval, shared by its
subscriptions through `context.Rechecks`) and ending when its OAuth token expires (UNAUTHENTICATED).

Each ended subscription writes one access-log line: its duration, its events, its reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any, cast

import jwt
import strawberry
from strawberry.types import Info

from gql_badges.auth.credentials import OAUTH_HEADER, Caller
from gql_badges.errors import DatabaseUnavailable, GatewayError, RateLimited, Unauthenticated
from gql_badges.graphql.context import GraphQLContext, LiveConnection
from gql_badges.graphql.resolvers import CustomerInput
from gql_badges.graphql.types import CustomerBadge, to_customer_badges
from gql_badges.live.changes import Change, ChangeKind
from gql_badges.live.errors import SubscriptionsUnavailable
from gql_badges.live.hub import Subscriber
from gql_badges.storage.collections import BadgeRecord

access_logger = logging.getLogger("gql_badges.access")

strawberry.enum(ChangeKind, name="BadgeChangeKind", description="What a change did to a badge.")

COMPLETE = "complete"  # the client ended it (or its connection closed)
UNEXPECTED = "INTERNAL_SERVER_ERROR"

# The credential headers a `connection_init` payload may carry (names in any case).
_CREDENTIAL_HEADERS = frozenset({"authorization", OAUTH_HEADER})


def credential_headers(payload: Mapping[str, object] | None) -> dict[str, str]:
    """The credentials of a `connection_init` payload, as request headers (lower-case names);
    other entries, and values that are not strings, are ignored."""
    headers: dict[str, str] = {}
    for name, value in (payload or {}).items():
        if isinstance(name, str) and name.lower() in _CREDENTIAL_HEADERS and isinstance(value, str):
            headers[name.lower()] = value
    return headers


def token_expiry(headers: Mapping[str, str]) -> float | None:
    """When the OAuth token among `headers` expires (epoch seconds); None for Basic. Read after
    the authenticator has verified the token, so its claims are trusted here."""
    token = headers.get(OAUTH_HEADER)
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    if token is None and scheme.lower() == "bearer":
        token = value.strip()
    if not token:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    expiry = claims.get("exp")
    return float(expiry) if isinstance(expiry, int | float) else None


async def resolve_badge(
    root: BadgeChange, info: Info[GraphQLContext, None]
) -> CustomerBadge | None:
    """Read when selected only: the badge's document, its group, and the rules, once."""
    change = root.change
    if change.kind is ChangeKind.REMOVED or change.record is None:
        return None
    context = info.context
    row = await context.repository.badge_row(change.org_id, _as_record(change.record))
    if row is None:
        return None
    now = context.live.clock() if context.live is not None else context.now
    return to_customer_badges([row], now)[0]


@strawberry.type(description="One change of one of the customer's badge records.")
class BadgeChange:
    kind: ChangeKind
    badge_meta_id: strawberry.ID
    earn_count: int
    changed_on: datetime
    change: strawberry.Private[Change]
    badge: CustomerBadge | None = strawberry.field(
        resolver=resolve_badge,
        description=(
            "The badge as badgeManagement shows it right after the change (same type, same "
            "values); null when REMOVED."
        ),
    )

    @classmethod
    def of(cls, change: Change) -> BadgeChange:
        return cls(
            kind=change.kind,
            badge_meta_id=strawberry.ID(str(change.badge_meta_id)),
            earn_count=change.earn_count,
            changed_on=change.changed_on,
            change=change,
        )


def _as_record(record: Mapping[str, Any]) -> BadgeRecord:
    return cast(BadgeRecord, dict(record))  # the stored record, as the stream delivered it


class LiveEvents:
    """A subscription's events: an async iterator that leaves the hub when closed, even if
    it was never iterated (a client that disconnects right after subscribing)."""

    def __init__(
        self,
        context: GraphQLContext,
        live: LiveConnection,
        subscriber: Subscriber,
        caller: Caller,
    ) -> None:
        self.context = context
        self.live = live
        self.subscriber = subscriber
        self.caller = caller
        self.started = time.monotonic()
        self.events = 0
        self.reason: str | None = None
        self._rechecked = time.monotonic()
        live.subscriptions += 1
        if live.metrics is not None:
            live.metrics.subscriptions_active.labels(live.transport).inc()

    def __aiter__(self) -> LiveEvents:
        return self

    async def __anext__(self) -> BadgeChange:
        if self.reason is not None:
            raise StopAsyncIteration
        try:
            change = await self._next_change()
        except GatewayError as error:
            self._finish(error.graphql_code)
            raise
        except asyncio.CancelledError:
            self._finish(COMPLETE)
            raise
        except Exception:
            self._finish(UNEXPECTED)
            raise
        self.events += 1
        metrics = self.live.metrics
        if metrics is not None:
            metrics.subscription_events.labels(change.kind.value).inc()
            if change.cluster_time is not None:
                lag = time.time() - change.cluster_time.time
                metrics.change_stream_lag.observe(max(lag, 0.0))
        return BadgeChange.of(change)

    async def _next_change(self) -> Change:
        live = self.live
        while True:
            timeout = self._rechecked + live.recheck_seconds - time.monotonic()
            if live.expires_at is not None:
                timeout = min(timeout, live.expires_at - time.time())
            change = await self.subscriber.next(max(timeout, 0.0))
            if change is not None:
                return change
            if live.expires_at is not None and time.time() >= live.expires_at:
                raise Unauthenticated(details="the OAuth token expired: subscribe with a new one")
            await self._recheck()

    async def _recheck(self) -> None:
        """Ask the authenticator again: a deactivated client, or changed credentials, end the
        subscription. A database or rate-limit hiccup does not: it is asked again later."""
        self._rechecked = time.monotonic()
        try:
            if self.live.rechecks is not None:
                await self.live.rechecks.check(self.context, self.live.recheck_seconds)
            else:
                await self.context.authenticator.authenticate(
                    self.context.headers, self.context.address
                )
        except (DatabaseUnavailable, RateLimited):
            return

    async def aclose(self) -> None:
        self._finish(COMPLETE)

    def _finish(self, reason: str) -> None:
        if self.reason is not None:
            return
        self.reason = reason
        live, subscriber = self.live, self.subscriber
        live.hub.unsubscribe(subscriber)
        live.subscriptions -= 1
        ended_by_hub = subscriber.ended is not None
        if subscriber.ended is not None:
            reason = subscriber.ended.graphql_code
        if live.metrics is not None:
            live.metrics.subscriptions_active.labels(live.transport).dec()
            if not ended_by_hub:  # the hub counts the ends it causes, when it causes them
                live.metrics.subscriptions_ended.labels(reason).inc()
        duration = time.monotonic() - self.started
        fields = {
            "route": "/graphql",
            "transport": live.transport,
            "operation": "subscription badgeChanged",
            "org": self.caller.org_id,
            "duration_ms": round(duration * 1000, 2),
            "events": self.events,
            "reason": reason,
        }
        access_logger.info(
            "SUBSCRIPTION /graphql %s %s", live.transport, reason, extra={"fields": fields}
        )


async def resolve_badge_changed(
    info: Info[GraphQLContext, None], customer: CustomerInput
) -> AsyncIterator[BadgeChange]:
    context = info.context
    live = context.live
    if live is None:
        raise SubscriptionsUnavailable(
            details="subscriptions are served on /graphql over WebSocket (graphql-transport-ws) "
            "and over server-sent events (Accept: text/event-stream)"
        )
    caller = await context.caller()
    ref = customer.to_ref()
    repository = context.repository
    customer_id = await repository.customer_id(caller.org_id, ref)
    subscriber = await live.hub.subscribe(caller.org_id, customer_id)
    try:
        # Read after joining the hub: a record written meanwhile reaches the subscriber through
        # the stream, and one of these ids routes a later delete.
        records = await repository.records_with_ids(caller.org_id, customer_id)
    except BaseException:
        live.hub.unsubscribe(subscriber)
        raise
    live.hub.know(subscriber.key, records)
    return LiveEvents(context, live, subscriber, caller)


@strawberry.type
class Subscription:
    badge_changed: AsyncIterator[BadgeChange] = strawberry.subscription(
        resolver=resolve_badge_changed,
        description="One customer's badge records as they change, in commit order.",
    )


__all__ = [
    "BadgeChange",
    "LiveConnection",
    "Subscription",
    "credential_headers",
    "token_expiry",
]
