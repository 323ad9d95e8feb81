"""How often a caller may ask: per client, and per login attempt.

Both are token buckets. With `GQL_BADGES_REDIS_URL` set, a bucket's state lives in Redis (the
process's one `RedisStore`) and one Lua script refills and spends it in a single step (on
Redis's clock, so replicas with skewed clocks agree). Without it, or while Redis cannot be
reached, the bucket of this process decides: an outage loosens the limit to one per replica,
and never fails a request.

Failed logins (`LoginGate`) are throttled, never locked out: per (username, address), per
address, and per username with a far larger budget that an address known to have logged in as
that username never has to spend (`KnownAddresses`). README's "Limits" section has the policy.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache, TTLCache

from gql_badges.errors import RateLimited
from gql_badges.storage.redis_store import RedisStore, StoreUnavailable

# KEYS[1]: the bucket; ARGV: rate (tokens a second), burst, expiry (seconds), and the amount:
# 1 spends a token if there is one, -1 gives one back. Returns {1 if done else 0, tokens left}.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local amount = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'counted')
local tokens = tonumber(state[1]) or burst
local counted = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - counted) * rate)
local done = 0
if tokens >= amount then
  tokens = math.min(burst, tokens - amount)
  done = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'counted', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {done, tostring(tokens)}
"""


class TokenBucket:
    """`rate` requests a second on average, bursts of up to `burst`; rate 0 turns it off.

    State is per process: with N gateway processes behind a balancer, a client gets up to N
    times the rate. `Limiter` keeps the buckets in Redis and falls back to this.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        limit: str = "client_rate",
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.clock = clock
        self.limit = limit
        # key → (tokens left, when they were counted); bounded, so a flood of keys costs nothing.
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(maxsize=100_000)

    def _refilled(self, key: str) -> tuple[float, float]:
        now = self.clock()
        tokens, counted = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - counted) * self.rate), now

    def take(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited with when to retry."""
        if self.rate <= 0:
            return
        tokens, now = self._refilled(key)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            raise RateLimited(_retry_after(tokens, self.rate), limit=self.limit)
        self._buckets[key] = (tokens - 1, now)

    def give_back(self, key: str) -> None:
        """Return a token spent on something that turned out not to count (a good login)."""
        if self.rate > 0:
            tokens, now = self._refilled(key)
            self._buckets[key] = (min(float(self.burst), tokens + 1), now)


def _retry_after(tokens: float, rate: float) -> int:
    return max(1, math.ceil((1 - tokens) / rate))


class Limiter:
    """A token bucket per key, `rate` a second with bursts of `burst`; rate 0 turns it off.

    `limit` names it: in Redis (its buckets' prefix), and in a refusal (`RateLimited.limit`,
    which the access log records).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        store: RedisStore | None = None,
        limit: str = "client_rate",
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.limit = limit
        self.local = TokenBucket(rate, burst, limit=limit)
        self.prefix = f"gql_badges:bucket:{limit}:"
        # Long enough to refill completely; an expired bucket is a full one.
        self.expiry = max(1, math.ceil(self.burst / rate) + 1) if rate > 0 else 1
        self.store = store or RedisStore(None)
        self._script = self.store.register_script(_TAKE) if rate > 0 else None

    async def _shared(self, key: str, amount: int) -> tuple[bool, float]:
        """Spend (1) or give back (-1) in Redis: whether it was done, and the tokens left."""
        script = self._script
        if script is None:
            raise StoreUnavailable()
        args = [self.rate, self.burst, self.expiry, amount]
        done, tokens = await self.store.run(
            lambda redis: script(keys=[self.prefix + key], args=args, client=redis)
        )
        return bool(int(done)), float(tokens)

    async def take(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited with when to retry."""
        if self.rate <= 0:
            return
        try:
            spent, left = await self._shared(key, 1)
        except StoreUnavailable:
            self.local.take(key)
            return
        if not spent:
            raise RateLimited(_retry_after(left, self.rate), limit=self.limit)

    async def give_back(self, key: str) -> None:
        """Return a token spent on something that turned out not to count (a good login)."""
        if self.rate <= 0:
            return
        try:
            await self._shared(key, -1)
        except StoreUnavailable:
            self.local.give_back(key)


# How long an address that logged in as a username is remembered as good for it, and how often
# a process that keeps seeing it writes that down again (so Redis's copy does not expire).
KNOWN_FOR_SECONDS = 30 * 24 * 3600
_REWRITE_AFTER_SECONDS = 24 * 3600
_KNOWN_PREFIX = "gql_badges:known:"


class KnownAddresses:
    """The (username, address) pairs that logged in successfully in the last 30 days, by
    their keyed hash only: in this process, and in Redis for every replica and every restart."""

    def __init__(self, store: RedisStore, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        # digest → when this process last wrote it to Redis (-inf: learnt from Redis, or never).
        self._seen: TTLCache[str, float] = TTLCache(maxsize=100_000, ttl=KNOWN_FOR_SECONDS)

    async def contains(self, pair: str) -> bool:
        if pair in self._seen:
            return True
        try:
            found = await self.store.run(lambda redis: redis.exists(_KNOWN_PREFIX + pair))
        except StoreUnavailable:
            return False
        if found:
            self._seen[pair] = -math.inf
        return bool(found)

    async def remember(self, pair: str) -> None:
        """Called on every successful login: cheap when this process wrote it down lately."""
        now = self.clock()
        if now - self._seen.get(pair, -math.inf) < _REWRITE_AFTER_SECONDS:
            return
        self._seen[pair] = now
        if self.store.shared:
            try:
                await self.store.run(
                    lambda redis: redis.set(_KNOWN_PREFIX + pair, 1, ex=KNOWN_FOR_SECONDS)
                )
            except StoreUnavailable:
                self._seen[pair] = -math.inf  # write it next time


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many failed logins are allowed, per key, as token buckets (burst, then per minute).

    A verification spends a token of each bucket it passes and gives them back if the secret was
    right: only failures stay counted.
    """

    concurrent: int = 1  # verifications at once in this process: a core (and 64 MiB) each
    per_minute: float = 10.0  # per (username, address)
    burst: int = 20
    address_per_minute: float = 30.0  # per address, whatever the username
    address_burst: int = 60
    # Per username, from every address together, except those known to have logged in as it:
    # 60 addresses' bursts and rates, so no flood from 60 addresses or fewer can reach it.
    username_per_minute: float = 600.0
    username_burst: int = 1200


class LoginGate:
    """Fences secret verifications, the one expensive thing a caller without credentials can
    make the gateway do, and the way to guess a password.

    Each verification spends an attempt of its address, of its (username, address) and, unless
    the address is known to have logged in as that username, of its username (RateLimited when
    one has none left, naming which); only `concurrent` run at once. Usernames and addresses are
    kept only as keyed hashes (HMAC-SHA256 under `key`), here and in Redis.
    """

    def __init__(self, limits: LoginLimits, store: RedisStore, key: bytes) -> None:
        self._running = asyncio.Semaphore(limits.concurrent)
        self._key = key
        self._address = Limiter(
            limits.address_per_minute / 60, limits.address_burst, store, "login_address"
        )
        self._pair = Limiter(limits.per_minute / 60, limits.burst, store, "login_username_address")
        self._username = Limiter(
            limits.username_per_minute / 60, limits.username_burst, store, "login_username"
        )
        self.known = KnownAddresses(store)

    def _digest(self, *parts: str) -> str:
        message = "\0".join(parts).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:40]

    async def verify(self, check: Callable[[], bool], address: str | None, name: str) -> bool:
        """Run `check` (a slow hash) in a thread once the attempt is allowed; its answer.

        `name` is the username or key (with its kind, so the two never share a bucket).
        """
        buckets: list[tuple[Limiter, str]] = []
        pair = None
        if address is not None:
            pair = self._digest("pair", name, address)
            buckets += [(self._address, self._digest("address", address)), (self._pair, pair)]
        if pair is None or not await self.known.contains(pair):
            buckets.append((self._username, self._digest("username", name)))
        for limiter, key in buckets:  # a refusal leaves the earlier buckets spent: it is a flood
            await limiter.take(key)
        async with self._running:
            verified = await asyncio.to_thread(check)
        if verified:
            for limiter, key in buckets:
                await limiter.give_back(key)
            if pair is not None:
                await self.known.remember(pair)
        return verified

    async def logged_in(self, address: str | None, name: str) -> None:
        """A login with already verified credentials: its address stays known for `name`."""
        if address is not None:
            await self.known.remember(self._digest("pair", name, address))


__all__ = ["KnownAddresses", "Limiter", "LoginGate", "LoginLimits", "TokenBucket"]
