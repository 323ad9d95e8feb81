"""Who is calling: Basic (username + MD5 of the password) or an OAuth JWT, and their org.

Secrets are stored only as Argon2 hashes (of the MD5 for passwords, of the secret itself for
OAuth secrets). Verified credentials and client records are cached briefly so a steady caller
does not pay a slow hash and a database read on every request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cachetools import TTLCache

from gql_badges.db import API_CLIENTS, Database, Document
from gql_badges.errors import Forbidden, Unauthenticated
from gql_badges.observability import context as observed
from gql_badges.settings import Settings
from gql_badges.shared_limits import Limiter

_hasher = PasswordHasher()
# Verified against when a username or key does not exist, so failure costs the same either way.
_DUMMY_HASH = _hasher.hash("gql-badges: no such client")

OAUTH_HEADER = "x-cap-api-oauth-token"
JWT_ALGORITHM = "HS256"


def md5_hex(password: str) -> str:
    """What a legacy Basic client sends in place of its password."""
    return hashlib.md5(password.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def password_hash(password: str) -> str:
    """The stored form of a plain password: Argon2 of its MD5, as Basic clients send it."""
    return hash_secret(md5_hex(password))


def _verify(stored_hash: str | None, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: int
    client: str  # the username (Basic) or the key (OAuth)


def _basic_credentials(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated() from None
    username, sep, password_md5 = decoded.partition(":")
    if not sep or not username:
        raise Unauthenticated()
    return username, password_md5


class Authenticator:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.jwt_secret = settings.jwt_secret.get_secret_value()
        self.token_ttl = settings.token_ttl_seconds
        self.limiter = Limiter(
            settings.rate_limit_per_second, settings.rate_limit_burst, settings.redis_url
        )
        ttl = settings.auth_cache_seconds
        self._clients: TTLCache[tuple[str, str], Document | None] = TTLCache(4096, ttl or 1e-9)
        self._verified: TTLCache[tuple[str, str], bool] = TTLCache(4096, ttl or 1e-9)

    async def _client(self, field: str, value: str) -> Document | None:
        key = (field, value)
        if key in self._clients:
            return self._clients[key]
        client = await self.database.find_one(API_CLIENTS, {field: value})
        self._clients[key] = client
        return client

    async def _check_secret(self, client: Document | None, hash_field: str, secret: str) -> None:
        """Raise Unauthenticated unless `secret` matches; the same cost for a missing client."""
        stored = client.get(hash_field) if client else None
        cache_key = (str(stored), hashlib.sha256(secret.encode()).hexdigest())
        if stored is not None and self._verified.get(cache_key):
            return
        if not await asyncio.to_thread(_verify, stored, secret):
            raise Unauthenticated()
        self._verified[cache_key] = True

    @staticmethod
    def _caller(client: Document, name: str) -> Caller:
        if client.get("active") is not True:
            raise Forbidden()
        return Caller(org_id=client["orgId"], client=name)

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller of a request, from its `Authorization` or `X-CAP-API-OAUTH-TOKEN` header.

        Raises Unauthenticated, Forbidden (inactive client) or RateLimited (over its rate).
        """
        caller = await self._identify(headers)
        observed.caller_known(caller.org_id)
        await self.limiter.take(f"{caller.org_id}:{caller.client}")
        return caller

    async def _identify(self, headers: Mapping[str, str]) -> Caller:
        token = headers.get(OAUTH_HEADER)
        authorization = headers.get("authorization", "")
        scheme, _, value = authorization.strip().partition(" ")
        if token is None and scheme.lower() == "bearer":
            token = value.strip()
        if token is not None:
            return await self._from_token(token)
        if scheme.lower() == "basic":
            username, password_md5 = _basic_credentials(value.strip())
            client = await self._client("username", username)
            await self._check_secret(client, "passwordHash", password_md5)
            assert client is not None
            return self._caller(client, username)
        raise Unauthenticated()

    async def _from_token(self, token: str) -> Caller:
        try:
            claims = jwt.decode(
                token,
                self.jwt_secret,
                algorithms=[JWT_ALGORITHM],
                options={"require": ["exp", "iat", "org_id", "client_id"]},
            )
        except jwt.PyJWTError:
            raise Unauthenticated() from None
        client = await self._client("key", str(claims["client_id"]))
        if client is None or client.get("orgId") != claims["org_id"]:
            raise Unauthenticated()
        return self._caller(client, client["key"])

    async def issue_token(self, key: str, secret: str) -> str:
        """A signed token for an OAuth client's key and secret."""
        client = await self._client("key", key)
        await self._check_secret(client, "secretHash", secret)
        assert client is not None
        caller = self._caller(client, key)
        now = int(time.time())
        claims = {
            "org_id": caller.org_id,
            "client_id": key,
            "iat": now,
            "exp": now + self.token_ttl,
        }
        return jwt.encode(claims, self.jwt_secret, algorithm=JWT_ALGORITHM)
