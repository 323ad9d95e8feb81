"""How an exception becomes a response: our errors in their own wire form, Starlette's (unknown
paths and methods) in the same envelope, anything else a 500 that says nothing of the cause."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

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


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, in the same envelope as every other error."""
    assert isinstance(exc, HTTPException)
    return error_envelope(exc.status_code, exc.detail, None, exc.status_code, exc.headers)
