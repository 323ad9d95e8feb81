"""How an exception becomes a response: our errors in their own wire form, Starlette's (unknown
paths and methods) in the same envelope, anything else a 500 that says nothing of the cause."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_badges.errors import GatewayError
from gql_badges.http.responses import error_envelope, error_response, internal_error_response
from gql_badges.observability import context as observed

logger = logging.getLogger(__name__)


async def handle_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    observed.gateway_error(exc)
    return error_response(exc)


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    request_id = observed.request_id()
    logger.error("unexpected error (request %s)", request_id, exc_info=exc)
    response = internal_error_response(request_id)
    # Starlette sends this answer from outside every middleware: it gets its id here.
    response.headers["X-Request-Id"] = request_id
    return response


class AnswerUnexpectedErrors:
    """Answer an endpoint's unexpected exception with the 500 of `handle_unexpected_error`,
    inside the middleware that sit outside this one.

    Starlette answers it from its outermost layer, outside every middleware: that 500 would
    carry no CORS headers, so a page on another origin could read neither it nor its
    `X-Request-Id`. Answered here, it passes through CORS and the request's record like any
    other answer. The exception stops here once answered (it is logged, with its traceback,
    under the request's id); one raised after the answer started goes on up.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = await handle_unexpected_error(Request(scope), exc)
            await response(scope, receive, send)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, in the same envelope as every other error."""
    assert isinstance(exc, HTTPException)
    return error_envelope(exc.status_code, exc.detail, None, exc.status_code, exc.headers)
