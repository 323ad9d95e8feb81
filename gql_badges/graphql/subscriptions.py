"""The WebSocket side of `/graphql`: graphql-transport-ws, as Strawberry speaks it, plus what a
production endpoint needs around it.

- Credentials come in `connection_init`'s payload, under header names (`Authorization`: Basic
  or Bearer, `X-CAP-API-OAUTH-TOKEN`; any case), and are checked there, once, by the same
  authenticator as every request (a wrong one counts as a failed login). Missing or wrong:
  the socket closes with 4403 before the ack. Too many sockets for one API client: 4429.
- The server pings (a graphql-transport-ws `ping`) every `ping_seconds`, so that proxies do not
  cut a quiet socket; clients answer `pong` by themselves.
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
from gql_badges.graphql.context import GraphQLContext
from gql_badges.graphql.live import credential_headers, token_expiry

if TYPE_CHECKING:
    from gql_badges.observability.metrics import Metrics

logger = logging.getLogger(__name__)

FORBIDDEN = 4403  # graphql-transport-ws: credentials refused
TOO_MANY = 4429
GOING_AWAY = 1001
MESSAGE_TOO_BIG = 1009


class Refused(Exception):
    """Close the socket with `code` and `reason` instead of acknowledging it."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class LiveSockets:
    """The open WebSockets of one app, their limits, and how they are closed at shutdown."""

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
        key = (caller.org_id, caller.client)
        if self._per_client[key] >= self.max_connections_per_client:
            raise Refused(TOO_MANY, "Too many open connections for this API client")
        self._per_client[key] += 1
        live.caller = caller  # from now on `release` gives the place back
        live.expires_at = token_expiry(context.headers)

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
    the server sends."""

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

    _pinger: asyncio.Task[None] | None = None
    _client: tuple[int, str] | None = None

    @property
    def _sockets(self) -> LiveSockets:
        sockets: LiveSockets = getattr(self.view, "live_sockets")  # noqa: B009
        return sockets

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Refused as refused:
            await self.websocket.close(code=refused.code, reason=refused.reason)
            return
        if self.connection_acknowledged and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(self._sockets.ping_seconds)
            try:
                await self.send_message({"type": "ping"})
            except Exception:  # the socket is going; the handler's loop sees it
                return

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
        await super().shutdown()
        live = self.context.live
        if live is not None and live.caller is not None:  # counted by `authenticate`
            self._sockets.release((live.caller.org_id, live.caller.client))


__all__ = ["LiveSockets", "LiveTransportWSHandler", "LiveWebSocketAdapter", "Refused"]
