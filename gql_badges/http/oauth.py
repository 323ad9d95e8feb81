"""POST /v3/oauth/token/generate: an access token for an OAuth client's key and secret."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gql_badges.errors import InvalidParameter
from gql_badges.http.responses import envelope
from gql_badges.services import Services


async def read_json(request: Request) -> Any:
    body = await request.body()  # bounded by BodySizeLimit
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidParameter("Request body is not valid JSON") from None


async def generate_token(request: Request) -> Response:
    services: Services = request.app.state.services
    body = await read_json(request)
    key = body.get("key") if isinstance(body, dict) else None
    secret = body.get("secret") if isinstance(body, dict) else None
    if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
        raise InvalidParameter("key and secret are required", reference="key")
    address = request.client.host if request.client else None
    token = await services.authenticator.issue_token(key, secret, address)
    ttl = services.settings.token_ttl_seconds
    return envelope({"accessToken": token, "ttlSeconds": ttl})
