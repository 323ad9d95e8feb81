"""Which browser origins may call the gateway (CORS), from `GQL_BADGES_CORS_ORIGINS`.

    Middleware(GatewayCORS, allow_origins=settings.cors_origins)
    origin_allowed(settings, "https://app.example.com")   # the same list, for WebSocket and SSE

Starlette's `CORSMiddleware` does the work: exact origins (`*` only when written out), the
methods and request headers below, `Vary: Origin`, the exposed headers, and no
`Access-Control-Allow-Credentials` (credentials travel in headers, never in cookies). It answers
an accepted preflight with 200 and a body of "OK"; `GatewayCORS` answers it 204 with no body, as
browsers and the Fetch standard expect of a preflight. It sits in front of the size limits and
every endpoint, so a preflight never reaches the GraphQL view (which would answer OPTIONS 405),
and spends no rate-limit token and no login attempt. A refused preflight keeps Starlette's 400
("Disallowed CORS origin"): the browser refuses the request either way, and the text says why.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from gql_badges.settings import Settings

ALLOW_ALL = "*"
METHODS = ("GET", "POST")
# What a browser app sends besides the CORS-safelisted headers: credentials (Basic, Bearer, the
# OAuth token header), the REST identifier kind, W3C trace context, its own request id, and
# Apollo Client's headers: `apollo-require-preflight` and `x-apollo-operation-name` are Apollo's
# CSRF-prevention headers, `apollographql-client-*` its client awareness.
REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-CAP-API-OAUTH-TOKEN",
    "X-CAP-CUSTOMER-IDENTIFIER",
    "X-Request-Id",
    "traceparent",
    "tracestate",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "apollographql-client-name",
    "apollographql-client-version",
)
# What a page's script may read of an answer, besides the CORS-safelisted response headers.
EXPOSED_HEADERS = ("Retry-After", "X-Request-Id")
# How long a browser may reuse a preflight's answer: an hour (Chromium caps it at two), so a
# change of the origins reaches every open page within the hour.
MAX_AGE_SECONDS = 3600


def origin_allowed(origins: Settings | Collection[str], origin: str | None) -> bool:
    """Whether a page served from `origin` may call the gateway (`Origin` as the browser sent it).

    No `Origin` at all is not a browser's cross-origin call (curl, a backend): not for this list
    to refuse. A same-origin page (GraphiQL on the gateway) is not cross-origin either; a caller
    that sees an `Origin` on a same-origin request (a WebSocket always has one) compares it with
    its own origin first.
    """
    if origin is None:
        return True
    listed = origins.cors_origins if isinstance(origins, Settings) else origins
    return ALLOW_ALL in listed or origin in listed


class GatewayCORS(CORSMiddleware):
    """Starlette's `CORSMiddleware` with the gateway's policy, answering preflights 204."""

    def __init__(self, app: ASGIApp, allow_origins: Collection[str]) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_methods=METHODS,
            allow_headers=REQUEST_HEADERS,
            allow_credentials=False,
            expose_headers=EXPOSED_HEADERS,
            max_age=MAX_AGE_SECONDS,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 200:
            return response
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        return Response(status_code=204, headers=headers)


__all__ = [
    "EXPOSED_HEADERS",
    "MAX_AGE_SECONDS",
    "METHODS",
    "REQUEST_HEADERS",
    "GatewayCORS",
    "origin_allowed",
]
