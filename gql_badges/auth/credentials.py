"""Who is calling: Basic (username + MD5 of the password) or an OAuth JWT, and their org.

Secrets are stored only as Argon2 hashes (`auth.hashing`). Verified credentials and client
records are cached briefly so a steady caller does not pay a slow hash and a database read on
every request.

A verification is the one expensive thing a caller without credentials can make the gateway do
(Argon2: tens of milliseconds of CPU and 64 MiB), so it is fenced three ways: a bounded number
run at once (a flood queues instead of taking every core and gigabytes), failed logins are
throttled per (username, address), per address and per username (`auth.limits.LoginGate`; a
refusal is 429 before any hashing, and an address that has logged in as a username is never
refused by that username's budget), and values too long to be credentials are refused before
they are decoded or looked up. A client whose credentials are already verified skips all
three, so someone else's flood never slows it.

`Authenticator.authenticate(headers, address)` is the one way in, for every transport: the
HTTP endpoints pass the request's headers, a WebSocket its `connection_init` payload.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from cachetools import TTLCache

from gql_badges.auth import hashing, tokens
from gql_badges.auth.limits import Limiter, LoginGate
from gql_badges.errors import Forbidden, Unauthenticated
from gql_badges.observability import context as observed
from gql_badges.settings import Settings
from gql_badges.storage.client import Database
from gql_badges.storage.collections import API_CLIENTS, Document
from gql_badges.storage.indexes import lookup_filter

OAUTH_HEADER = "x-cap-api-oauth-token"
# The same for a wrong username and a wrong password, so it tells nothing about which exists.
BASIC_HINT = (
    "Basic credentials are base64(username:md5hex(password)): the part after the colon is "
    "the MD5 hex digest of the password, not the password itself"
)
NO_CREDENTIALS_HINT = (
    "send Authorization: Basic base64(username:md5hex(password)), or an OAuth token "
    "(POST /v3/oauth/token/generate) as X-CAP-API-OAUTH-TOKEN or Authorization: Bearer"
)


# Longer values are no credentials of ours: refused before any decoding, look-up or hashing.
MAX_CREDENTIAL_LENGTH = 256
MAX_AUTHORIZATION_BYTES = 8 * 1024


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: int
    client: str  # the username (Basic) or the key (OAuth)


def _credential_headers(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """`Authorization` (or "") and `X-CAP-API-OAUTH-TOKEN` (or None), whatever their case:
    a WebSocket's `connection_init` payload is a plain JSON object, not HTTP headers."""
    authorization, token = "", None
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization" and isinstance(value, str):
            authorization = value
        elif lowered == OAUTH_HEADER and isinstance(value, str):
            token = value
    return authorization, token


def presents_credentials(headers: Mapping[str, str]) -> bool:
    """Whether the request carries credentials at all: then they must be right, whatever it
    asks for (without any, it may still read the public schema)."""
    authorization, token = _credential_headers(headers)
    return bool(authorization.strip()) or token is not None


def _basic_credentials(value: str) -> tuple[str, str]:
    if len(value) > MAX_AUTHORIZATION_BYTES:
        raise Unauthenticated()
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated(details=BASIC_HINT) from None
    username, sep, password_md5 = decoded.partition(":")
    if not sep or not username or len(username) > MAX_CREDENTIAL_LENGTH:
        raise Unauthenticated(details=BASIC_HINT)
    return username, password_md5


class Authenticator:
    def __init__(
        self, database: Database, settings: Settings, client_limit: Limiter, logins: LoginGate
    ) -> None:
        self.database = database
        self.jwt_secret = settings.jwt_secret.get_secret_value()
        self.token_ttl = settings.token_ttl_seconds
        self.client_limit = client_limit
        self.logins = logins
        ttl = settings.auth_cache_seconds
        self._clients: TTLCache[tuple[str, str], Document | None] = TTLCache(4096, ttl or 1e-9)
        self._verified: TTLCache[tuple[str, str], bool] = TTLCache(4096, ttl or 1e-9)

    async def _client(self, field: str, value: str) -> Document | None:
        key = (field, value)
        if key in self._clients:
            return self._clients[key]
        # A predicate that implies the index's partial filter, so MongoDB can use the index.
        client = await self.database.find_one(API_CLIENTS, lookup_filter(API_CLIENTS, field, value))
        self._clients[key] = client
        return client

    async def _check_secret(
        self,
        client: Document | None,
        hash_field: str,
        secret: str,
        attempt: tuple[str | None, str],
        hint: str | None = None,
    ) -> None:
        """Raise Unauthenticated unless `secret` matches; the same cost for a missing client.

        `attempt` is the client address and the username or key: a verification not already
        cached goes through the login gate (RateLimited when a limit has no attempt left).
        """
        stored = client.get(hash_field) if client else None
        cache_key = (str(stored), hashlib.sha256(secret.encode()).hexdigest())
        address, name = attempt[0], f"{hash_field}:{attempt[1]}"  # usernames and keys apart
        if stored is not None and self._verified.get(cache_key):
            await self.logins.logged_in(address, name)
            return
        check = functools.partial(hashing.verify, stored, secret)
        if not await self.logins.verify(check, address, name):
            reason = "unknown_client" if client is None else "wrong_secret"
            raise Unauthenticated(details=hint, reason=reason)
        self._verified[cache_key] = True

    @staticmethod
    def _caller(client: Document, name: str) -> Caller:
        if client.get("active") is not True:
            raise Forbidden()
        return Caller(org_id=client["orgId"], client=name)

    async def authenticate(self, headers: Mapping[str, str], address: str | None = None) -> Caller:
        """The caller, from its `Authorization` or `X-CAP-API-OAUTH-TOKEN` (any case).

        The one entry for every transport: `headers` is an HTTP request's headers or a
        WebSocket's `connection_init` payload, `address` the client's network address (for the
        limits on failed logins). Raises Unauthenticated, Forbidden (inactive client) or
        RateLimited (over its rate, or too many failed logins: `limit` says which).
        """
        caller = await self._identify(headers, address)
        observed.caller_known(caller.org_id)
        await self.client_limit.take(f"{caller.org_id}:{caller.client}")
        return caller

    async def _identify(self, headers: Mapping[str, str], address: str | None) -> Caller:
        authorization, token = _credential_headers(headers)
        if len(authorization) > MAX_AUTHORIZATION_BYTES:
            raise Unauthenticated()
        scheme, _, value = authorization.strip().partition(" ")
        if token is None and scheme.lower() == "bearer":
            token = value.strip()
        if token is not None:
            return await self._from_token(token)
        if scheme.lower() == "basic":
            username, password_md5 = _basic_credentials(value.strip())
            client = await self._client("username", username)
            await self._check_secret(
                client, "passwordHash", password_md5, (address, username), BASIC_HINT
            )
            assert client is not None
            return self._caller(client, username)
        reason = "malformed" if authorization.strip() else "missing"
        raise Unauthenticated(details=NO_CREDENTIALS_HINT, reason=reason)

    async def _from_token(self, token: str) -> Caller:
        if len(token) > MAX_AUTHORIZATION_BYTES:
            raise Unauthenticated()
        claims = tokens.verified_claims(token, self.jwt_secret)
        client = await self._client("key", claims.client_id)
        if client is None or client.get("orgId") != claims.org_id:
            raise Unauthenticated(reason="unknown_client")
        return self._caller(client, client["key"])

    async def issue_token(self, key: str, secret: str, address: str | None = None) -> str:
        """A signed token for an OAuth client's key and secret."""
        if len(key) > MAX_CREDENTIAL_LENGTH or len(secret) > MAX_CREDENTIAL_LENGTH:
            raise Unauthenticated()
        client = await self._client("key", key)
        await self._check_secret(client, "secretHash", secret, (address, key))
        assert client is not None
        caller = self._caller(client, key)
        claims = tokens.TokenClaims(org_id=caller.org_id, client_id=key)
        return tokens.issue(claims, self.jwt_secret, self.token_ttl)
