"""The OAuth access tokens: JWTs signed with the gateway's secret (HS256), naming the client and
its org, valid for a fixed time."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from gql_badges.errors import Unauthenticated

JWT_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    org_id: int
    client_id: str


def issue(claims: TokenClaims, secret: str, ttl_seconds: int, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    payload = {
        "org_id": claims.org_id,
        "client_id": claims.client_id,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(payload, secret, algorithm=JWT_ALGORITHM)


def verified_claims(token: str, secret: str) -> TokenClaims:
    """The claims of a token this gateway signed and that has not expired; else Unauthenticated."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "iat", "org_id", "client_id"]},
        )
    except jwt.PyJWTError:
        raise Unauthenticated(reason="invalid_token") from None
    org_id, client_id = payload["org_id"], payload["client_id"]
    if not isinstance(org_id, int) or isinstance(org_id, bool):
        raise Unauthenticated(reason="invalid_token")
    return TokenClaims(org_id=org_id, client_id=str(client_id))
