"""What every resolver of one request shares: who is asking, and the request's clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from gql_badges.auth.credentials import Authenticator, Caller
from gql_badges.badges.repository import BadgeRepository
from gql_badges.live.hub import Hub
from gql_badges.observability.metrics import Metrics


class Rechecks:
    """The credentials checks of live subscriptions, shared: one authentication per set of
    credentials (one API client's) per interval, whatever the number of its subscriptions and
    sockets and addresses. Its outcome (passed, or the error) is what every subscription of those
    credentials gets until the interval has passed."""

    def __init__(self) -> None:
        self._checks: dict[tuple[object, ...], tuple[float, asyncio.Future[None]]] = {}

    async def check(
        self,
        context: GraphQLContext,
        seconds: float,
    ) -> None:
        """Authenticate `context`'s credentials again, unless that was done less than
        `seconds` ago; raises what the authenticator raised."""
        # Keyed by the credentials, not the address: one client's sockets from several hosts
        # share one check (a refusal counts against the address that happened to ask).
        key = (id(context.authenticator), *sorted(context.headers.items()))
        now = time.monotonic()
        known = self._checks.get(key)
        if known is None or now - known[0] >= seconds:
            for stale in [k for k, (at, _) in self._checks.items() if now - at >= seconds]:
                del self._checks[stale]  # the cache holds one interval's credentials only
            future = asyncio.ensure_future(self._authenticate(context))
            known = (now, future)
            self._checks[key] = known
        await asyncio.shield(known[1])

    @staticmethod
    async def _authenticate(context: GraphQLContext) -> None:
        await context.authenticator.authenticate(context.headers, context.address)


@dataclass
class LiveConnection:
    """What the subscriptions of one WebSocket or event stream share."""

    hub: Hub
    transport: str  # "websocket" or "sse": the metrics' label
    clock: Callable[[], datetime]
    metrics: Metrics | None = None
    recheck_seconds: float = 30.0
    expires_at: float | None = None  # the OAuth token's expiry, epoch seconds
    caller: Caller | None = None  # once authenticated
    subscriptions: int = field(default=0)
    # The app's shared credentials checks (`graphql/live.py`); None: each subscription asks.
    rechecks: Rechecks | None = None


@dataclass
class GraphQLContext:
    """Built once per request by the ASGI view."""

    headers: dict[str, str]
    authenticator: Authenticator
    repository: BadgeRepository
    now: datetime
    max_page_size: int
    address: str | None = None  # the client's, for the limit on failed logins
    # A WebSocket's or event stream's: what its subscriptions share (None for a plain request).
    live: LiveConnection | None = None
    # graphql-transport-ws's `connection_init` payload (Strawberry sets it when it arrives).
    connection_params: dict[str, object] | None = None
    _caller: asyncio.Task[Caller] | None = None

    async def caller(self) -> Caller:
        """Who is calling, authenticated once per request however many fields ask.

        The outcome is shared, failure included: thirty aliases with a wrong password cost one
        verification, not thirty.
        """
        if self._caller is None:
            self._caller = asyncio.ensure_future(
                self.authenticator.authenticate(self.headers, self.address)
            )
        return await asyncio.shield(self._caller)
