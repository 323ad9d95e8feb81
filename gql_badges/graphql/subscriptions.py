"""The WebSocket side of `/graphql`: graphql-transport-ws, as Strawberry speaks it, plus what a
production endpoint needs around it.

- Credentials come in `connection_init`'s payload, under header names (`Authorization`: Basic
  or Bearer, `X-CAP-API-OAUTH-TOKEN`; any case), and are checked there, once, by the same
  authenticator as every request (a wrong one counts as a failed login). Missing or wrong:
  the socket closes with 4403 before the ack. Too many sockets for one API client: 4429.
- The server pings (a graphql-transport-ws `ping`) a socket that has sent nothing for
  `ping_seconds`, so that proxies do not cut a quiet socket; clients answer `pong` by
  themselves. One timer per process walks the open sockets (a task per socket cost idle CPU
  and memory at thousands of sockets); a socket that just sent an event is not pinged. A
  quiet socket is pinged every `ping_seconds`, and is never silent for longer than one and a
  half times that.
- A message larger than `max_message_bytes` closes the socket (1009).
- A send that cannot complete for `send_timeout` seconds (a client that stopped reading, with
  its socket buffers full) closes the socket: a stalled reader holds nothing for long.
- A stopping process closes every open socket with 1001 (`LiveSockets.drain`), so clients
  reconnect to another replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gql_badges.errors import Forbidden, GatewayError, RateLimited, Unauthenticated
from gql_badges.graphql._internals import (
    ASGIWebSocketAdapter,
    BaseGraphQLTransportWSHandler,
    ConnectionInitMessage,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from gql_badges.graphql.context import GraphQLContext, Rechecks
from gql_badges.graphql.live import credential_headers, token_expiry

if TYPE_CHECKING:
    from gql_badges.observability.metrics import Metrics

logger = logging.getLogger(__name__)

FORBIDDEN = 4403  # graphql-transport-ws: credentials refused
TOO_MANY = 4429
TOO_MANY_CONNECTIONS = "Too many open connections for this API client"
GOING_AWAY = 1001
MESSAGE_TOO_BIG = 1009
SILENT_PEER = 1008  # policy violation: graphql-transport-ws clients must answer pings
# A client that has sent nothing (no pong either) for this many ping intervals is taken for gone.
SILENT_PINGS = 3


class Refused(Exception):
    """Close the socket with `code` and `reason` instead of acknowledging it."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class LiveSockets:
    """The open WebSockets of one app, their limits, and how they are closed at shutdown; and
    each API client's live connections (its WebSockets and event streams, one budget)."""

    def __init__(
        self,
        *,
        ping_seconds: float = 15.0,
        max_message_bytes: int = 64 * 1024,
        max_connections_per_client: int = 200,
        send_timeout: float = 30.0,
    ) -> None:
        self.ping_seconds = ping_seconds
        self.max_message_bytes = max_message_bytes
        self.max_connections_per_client = max_connections_per_client
        self.send_timeout = send_timeout
        self.draining = False
        self.open: set[WebSocket] = set()
        self._all_closed = asyncio.Event()
        self._per_client: Counter[tuple[int, str]] = Counter()
        self._pinged: set[LiveTransportWSHandler] = set()  # acknowledged, not yet shut down
        self._pinger: asyncio.Task[None] | None = None
        self.rechecks = Rechecks()

    def ping_when_quiet(self, handler: LiveTransportWSHandler) -> None:
        """Ping `handler`'s socket whenever it has been quiet for `ping_seconds`, until `forget`."""
        self._pinged.add(handler)
        if self._pinger is None or self._pinger.done():
            self._pinger = asyncio.create_task(self._ping(), name="gql-badges live pings")

    def forget(self, handler: LiveTransportWSHandler) -> None:
        self._pinged.discard(handler)

    async def _ping(self) -> None:
        """Every `ping_seconds`, ping the sockets that sent nothing for half of it; ends with
        the last socket (the next acknowledged one starts it again)."""
        while self._pinged:
            await asyncio.sleep(self.ping_seconds)
            now = time.monotonic()
            quiet_since = now - self.ping_seconds / 2
            silent_since = now - SILENT_PINGS * self.ping_seconds
            for handler in list(self._pinged):
                if handler.last_received <= silent_since:
                    # uvicorn's own ping timeout is off (cli.py): this is what finds dead peers.
                    self._pinged.discard(handler)
                    handler.close_silent_peer()
                elif handler.last_sent <= quiet_since:
                    # Sent from this task, not awaited: one stalled socket (its send waits up
                    # to `send_timeout`) must not hold the others' pings.
                    handler.ping()

    async def authenticate(self, context: GraphQLContext) -> None:
        """Check the `connection_init` credentials; the (org, client) they name. The one place
        a WebSocket asks the authenticator (at init; its subscriptions ask again later)."""
        context.headers = credential_headers(context.connection_params)
        try:
            caller = await context.caller()
        except (Unauthenticated, Forbidden) as error:
            if context.live is not None:
                _count_refusal(context.live.metrics, context.headers, error)
            raise Refused(FORBIDDEN, f"Forbidden: {error.message}") from None
        except RateLimited as error:
            raise Refused(TOO_MANY, f"Too many requests: {error.message}") from None
        live = context.live
        if live is None:
            return
        if not self.claim((caller.org_id, caller.client)):
            raise Refused(TOO_MANY, TOO_MANY_CONNECTIONS)
        live.caller = caller  # from now on `release` gives the place back
        live.expires_at = token_expiry(context.headers)

    def claim(self, key: tuple[int, str]) -> bool:
        """One more live connection of the API client `key` (org, client); False when it has
        `max_connections_per_client` open already. Each claim is given back by `release`."""
        if self._per_client[key] >= self.max_connections_per_client:
            return False
        self._per_client[key] += 1
        return True

    def release(self, key: tuple[int, str]) -> None:
        self._per_client[key] -= 1
        if self._per_client[key] <= 0:
            del self._per_client[key]

    def add(self, websocket: WebSocket) -> None:
        self.open.add(websocket)

    def discard(self, websocket: WebSocket) -> None:
        self.open.discard(websocket)
        if not self.open:
            self._all_closed.set()

    async def drain(self, seconds: float) -> None:
        """Refuse new sockets and close the open ones with 1001, waiting up to `seconds` for
        them to go (TimeoutError after that)."""
        self.draining = True
        if self.open:
            self._all_closed.clear()
        for websocket in list(self.open):
            if websocket.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await websocket.close(GOING_AWAY, "server shutting down")
        if self.open:
            async with asyncio.timeout(seconds):
                await self._all_closed.wait()


def _count_refusal(
    metrics: Metrics | None, headers: Mapping[str, str], error: GatewayError
) -> None:
    """Count refused credentials like a request's (`auth_failures{scheme, reason}`)."""
    if metrics is None:
        return
    scheme = "none"
    if "x-cap-api-oauth-token" in headers:
        scheme = "oauth"
    elif "authorization" in headers:
        scheme = headers["authorization"].strip().partition(" ")[0].lower()
        scheme = scheme if scheme in ("basic", "bearer") else "other"
    if isinstance(error, Forbidden):
        reason = "inactive_client"
    else:
        reason = "missing" if scheme == "none" else "invalid"
    metrics.auth_failures.labels(scheme, reason).inc()


class LiveWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter, with a size limit on what clients send and a time limit on what
    the server sends, and the time of its last send (the pinger leaves busy sockets alone)."""

    last_sent = 0.0  # time.monotonic(); the ack sets it
    last_received = 0.0  # time.monotonic() of the client's last message (a pong counts)

    @property
    def _sockets(self) -> LiveSockets:
        sockets: LiveSockets = getattr(self.view, "live_sockets")  # noqa: B009
        return sockets

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        limit = self._sockets.max_message_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                self.last_received = time.monotonic()
                if len(text) > limit:  # characters: at least as many bytes
                    await self.close(MESSAGE_TOO_BIG, f"Messages are limited to {limit} bytes")
                    return
                try:
                    yield self.view.decode_json(text)
                except ValueError:  # orjson's and json's decode errors are ValueErrors
                    if not ignore_parsing_errors:
                        raise
        except KeyError as error:  # a binary frame
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        self.last_sent = time.monotonic()
        try:
            async with asyncio.timeout(self._sockets.send_timeout):
                # Text frames only: the view encodes with orjson (bytes), which Strawberry would
                # send as binary frames, and graphql-transport-ws clients (graphql-ws, gql,
                # browsers) refuse binary frames.
                encoded = self.view.encode_json(message)
                text = encoded.decode() if isinstance(encoded, bytes) else encoded
                try:
                    await self.ws.send_text(text)
                except WebSocketDisconnect as error:
                    raise WebSocketDisconnected from error
        except TimeoutError:
            # The client stopped reading and its buffers are full: give up on it.
            logger.info("live: closing a WebSocket whose client stopped reading")
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):  # the close frame may not get through either
                    await self.close(GOING_AWAY, "client too slow")
            raise WebSocketDisconnected() from None


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    """graphql-transport-ws with the gateway's close codes and server pings."""

    _client: tuple[int, str] | None = None
    _ping_task: asyncio.Task[None] | None = None

    @property
    def last_sent(self) -> float:
        """When the socket last sent a message (time.monotonic())."""
        adapter = self.websocket
        return adapter.last_sent if isinstance(adapter, LiveWebSocketAdapter) else 0.0

    @property
    def last_received(self) -> float:
        """When the client last sent a message (time.monotonic()); a pong counts."""
        adapter = self.websocket
        return adapter.last_received if isinstance(adapter, LiveWebSocketAdapter) else 0.0

    @property
    def _sockets(self) -> LiveSockets:
        sockets: LiveSockets = getattr(self.view, "live_sockets")  # noqa: B009
        return sockets

    def close_silent_peer(self) -> None:
        """Close a socket whose client has answered none of several pings: a peer gone without
        a close (a phone out of coverage) would otherwise hold its socket until TCP gives up."""
        if self._ping_task is None or self._ping_task.done():
            self._ping_task = asyncio.create_task(
                self.websocket.close(code=SILENT_PEER, reason="No pong to the server's pings")
            )

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Refused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)
            return
        if self.connection_acknowledged:
            self._sockets.ping_when_quiet(self)

    def ping(self) -> None:
        """Send a graphql-transport-ws `ping` (from the process's pinger; at most one at a time)."""
        if self._ping_task is None or self._ping_task.done():
            self._ping_task = asyncio.create_task(self._send_ping())

    async def _send_ping(self) -> None:
        try:
            await self.send_message({"type": "ping"})
        except Exception:  # the socket is going; the handler's loop sees it
            return

    async def shutdown(self) -> None:
        self._sockets.forget(self)
        if self._ping_task is not None:
            self._ping_task.cancel()
        await super().shutdown()
        live = self.context.live
        if live is not None and live.caller is not None:  # counted by `authenticate`
            self._sockets.release((live.caller.org_id, live.caller.client))


__all__ = ["LiveSockets", "LiveTransportWSHandler", "LiveWebSocketAdapter", "Refused"]
