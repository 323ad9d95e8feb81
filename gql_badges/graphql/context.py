"""What every resolver of one request shares: who is asking, and the request's clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from gql_badges.auth.credentials import Authenticator, Caller
from gql_badges.badges.repository import BadgeRepository
from gql_badges.live.hub import Hub
from gql_badges.observability.metrics import Metrics

if TYPE_CHECKING:
    from gql_badges.graphql.live import Rechecks


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
