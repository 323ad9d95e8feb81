"""Who is calling: Basic (username + MD5 of the password) or an OAuth JWT, and their org.

Secrets are stored only as Argon2 hashes (of the MD5 for passwords, of the secret itself for
OAuth secrets). Verified credentials and client records are cached briefly so a steady caller
does not pay a slow hash and a database read on every request.

A verification is the one expensive thing a caller without credentials can make the gateway do
(Argon2: tens of milliseconds of CPU and 64 MiB), so it is fenced three ways: a bounded number
run at once (a flood queues instead of taking every core and gigabytes), each client address and
each username may ask for only so many (`LoginLimits`; a refusal is 429 before any hashing), and
values too long to be credentials are refused before they are decoded or looked up. A client
whose credentials are already verified skips all three, so someone else's flood never slows it.
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

from gql_badges.db import API_CLIENTS, Database, Document, lookup_filter
from gql_badges.errors import Forbidden, Unauthenticated
from gql_badges.observability import context as observed
from gql_badges.settings import Settings
from gql_badges.shared_limits import Limiter

_hasher = PasswordHasher()
# Verified against when a username or key does not exist, so failure costs the same either way.
_DUMMY_HASH = _hasher.hash("gql-badges: no such client")

OAUTH_HEADER = "x-cap-api-oauth-token"
JWT_ALGORITHM = "HS256"
# The same for a wrong username and a wrong password, so it tells nothing about which exists.
BASIC_HINT = (
    "Basic credentials are base64(username:md5hex(password)): the part after the colon is "
    "the MD5 hex digest of the password, not the password itself"
)
NO_CREDENTIALS_HINT = (
    "send Authorization: Basic base64(username:md5hex(password)), or an OAuth token "
    "(POST /v3/oauth/token/generate) as X-CAP-API-OAUTH-TOKEN or Authorization: Bearer"
)


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


# Longer values are no credentials of ours: refused before any decoding, look-up or hashing.
MAX_CREDENTIAL_LENGTH = 256
MAX_AUTHORIZATION_BYTES = 8 * 1024


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many verifications (attempts with credentials not yet verified) are allowed."""

    concurrent: int = 1  # verifications at once in this process: a core (and 64 MiB) each
    per_minute: float = 10.0  # per client address, and per username or key, on average
    burst: int = 20


@dataclass(frozen=True, slots=True)
class Caller:
    org_id: int
    client: str  # the username (Basic) or the key (OAuth)


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
        self, database: Database, settings: Settings, logins: LoginLimits | None = None
    ) -> None:
        self.database = database
        self.jwt_secret = settings.jwt_secret.get_secret_value()
        self.token_ttl = settings.token_ttl_seconds
        self.limiter = Limiter(
            settings.rate_limit_per_second, settings.rate_limit_burst, settings.redis_url
        )
        logins = logins or LoginLimits(
            concurrent=settings.login_max_concurrent,
            per_minute=settings.login_attempts_per_minute,
            burst=settings.login_attempts_burst,
        )
        self._verifications = asyncio.Semaphore(logins.concurrent)
        # Shared by the replicas like the client limit: a flood spread over them counts once.
        self._attempts = Limiter(
            logins.per_minute / 60, logins.burst, settings.redis_url, name="logins"
        )
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
        cached spends one attempt of each (RateLimited when either has none left).
        """
        stored = client.get(hash_field) if client else None
        cache_key = (str(stored), hashlib.sha256(secret.encode()).hexdigest())
        if stored is not None and self._verified.get(cache_key):
            return
        address, name = attempt
        if address is not None:
            await self._attempts.take(f"address:{address}")
        await self._attempts.take(f"{hash_field}:{name}")
        async with self._verifications:
            verified = await asyncio.to_thread(_verify, stored, secret)
        if not verified:
            raise Unauthenticated(details=hint)
        self._verified[cache_key] = True

    @staticmethod
    def _caller(client: Document, name: str) -> Caller:
        if client.get("active") is not True:
            raise Forbidden()
        return Caller(org_id=client["orgId"], client=name)

    async def close(self) -> None:
        """Let go of the limiters' Redis connections, if any."""
        await self.limiter.close()
        await self._attempts.close()

    async def authenticate(self, headers: Mapping[str, str], address: str | None = None) -> Caller:
        """The caller of a request, from its `Authorization` or `X-CAP-API-OAUTH-TOKEN` header.

        `address` is the client's network address, for the limit on failed logins. Raises
        Unauthenticated, Forbidden (inactive client) or RateLimited (over its rate, or too many
        logins from its address or for its username).
        """
        caller = await self._identify(headers, address)
        observed.caller_known(caller.org_id)
        await self.limiter.take(f"{caller.org_id}:{caller.client}")
        return caller

    async def _identify(self, headers: Mapping[str, str], address: str | None) -> Caller:
        token = headers.get(OAUTH_HEADER)
        authorization = headers.get("authorization", "")
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
        raise Unauthenticated(details=NO_CREDENTIALS_HINT)

    async def _from_token(self, token: str) -> Caller:
        if len(token) > MAX_AUTHORIZATION_BYTES:
            raise Unauthenticated()
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

    async def issue_token(self, key: str, secret: str, address: str | None = None) -> str:
        """A signed token for an OAuth client's key and secret."""
        if len(key) > MAX_CREDENTIAL_LENGTH or len(secret) > MAX_CREDENTIAL_LENGTH:
            raise Unauthenticated()
        client = await self._client("key", key)
        await self._check_secret(client, "secretHash", secret, (address, key))
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
