"""ASGI middleware: bounds on request heads and bodies, checked before the app sees them.

A refusal is written in the shape its endpoint's clients read: the REST envelope, unless the
app gives the path a shape of its own (`refusals`, e.g. the GraphQL error shape on /graphql),
so that this layer needs no view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_badges.http.responses import error_envelope

Refuse = Callable[[int, str, str], Response]
"""Writes a refusal: (HTTP status, message, GraphQL-style code) -> the response."""


def _rest_refusal(status: int, message: str, code: str) -> Response:
    # The legacy envelope's code follows the HTTP status, as for 401, 429 and 503.
    return error_envelope(status, message, None, status)


def _refusal(
    scope: Scope, refusals: Mapping[str, Refuse], status: int, message: str, code: str
) -> Response:
    """A request refused before the app sees it, in the shape its endpoint's clients read."""
    return refusals.get(scope["path"], _rest_refusal)(status, message, code)


class HeaderSizeLimit:
    """Answer 431 to a request whose header lines add up to more than `max_bytes`.

    Checked before anything reads a header: a 1 MiB `Authorization` is refused here, never
    decoded, looked up or cached.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, refusals: Mapping[str, Refuse] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusals = refusals or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_bytes:
                message = f"Request headers over {self.max_bytes} bytes"
                code = "REQUEST_HEADER_FIELDS_TOO_LARGE"
                response = _refusal(scope, self.refusals, 431, message, code)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Answer 413 to a body over `max_bytes`, by its Content-Length or as it streams in."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, refusals: Mapping[str, Refuse] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusals = refusals or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"Request body over {self.max_bytes} bytes"
        response = _refusal(scope, self.refusals, 413, message, "PAYLOAD_TOO_LARGE")
        await response(scope, receive, send)
