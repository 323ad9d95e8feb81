"""ASGI middleware: a bound on request bodies, before any of it is buffered."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_badges.errors import InvalidParameter
from gql_badges.graphql import view as graphql_view
from gql_badges.responses import error_response


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
        if scope["path"] == graphql_view.GRAPHQL_PATH:  # GraphQL clients get the GraphQL shape
            response = graphql_view.error_response(413, message, "PAYLOAD_TOO_LARGE")
        else:
            response = error_response(InvalidParameter(message))
            response.status_code = 413
        await response(scope, receive, send)
