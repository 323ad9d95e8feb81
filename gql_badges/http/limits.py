"""ASGI middleware: bounds on request heads and bodies, checked before the app sees them."""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_badges.graphql import view as graphql_view
from gql_badges.http.responses import error_envelope


def _refusal(scope: Scope, status: int, message: str, graphql_code: str) -> Response:
    """A request refused before the app sees it, in the shape its endpoint's clients read."""
    if scope["path"] == graphql_view.GRAPHQL_PATH:
        return graphql_view.error_response(status, message, graphql_code)
    # The legacy envelope's code follows the HTTP status, as for 401, 429 and 503.
    return error_envelope(status, message, None, status)


class HeaderSizeLimit:
    """Answer 431 to a request whose header lines add up to more than `max_bytes`.

    Checked before anything reads a header: a 1 MiB `Authorization` is refused here, never
    decoded, looked up or cached.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.max_bytes:
                message = f"Request headers over {self.max_bytes} bytes"
                response = _refusal(scope, 431, message, "REQUEST_HEADER_FIELDS_TOO_LARGE")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Answer 413 to a body over `max_bytes`, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

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
        await _refusal(scope, 413, message, "PAYLOAD_TOO_LARGE")(scope, receive, send)
