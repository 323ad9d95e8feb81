"""How often a caller may ask: per client, and per login attempt.

Both are token buckets, shared by every replica: the bucket is kept in Redis, taken atomically.

With `GQL_BADGES_REDIS_URL` set, a bucket's state lives in Redis and one Lua script refills and
spends it in a single step (on Redis's clock, so replicas with skewed clocks agree). Without
it, or while Redis cannot be reached, the bucket of this process decides: an outage loosens
the limit to one per replica, with a warning and `gql_badges_limiter_store_failures`, and never
fails a request.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from gql_badges.errors import RateLimited
from gql_badges.observability import context as observed

logger = logging.getLogger(__name__)

# KEYS[1]: the bucket; ARGV: rate (tokens a second), burst, expiry (seconds).
# Returns {1 if a token was spent else 0, the tokens left as a string}.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'counted')
local tokens = tonumber(state[1]) or burst
local counted = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - counted) * rate)
local spent = 0
if tokens >= 1 then
  tokens = tokens - 1
  spent = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'counted', tostring(now))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {spent, tostring(tokens)}
"""

# After a failure, Redis is left alone this long: a dead server costs no time per request.
_RETRY_AFTER_FAILURE_SECONDS = 1.0
_REDIS_TIMEOUT_SECONDS = 0.25


class TokenBucket:
    """`rate` requests a second on average, bursts of up to `burst`; rate 0 turns it off.

    State is per process: with N gateway processes behind a balancer, a client gets up to N
    times the rate. `Limiter` keeps the buckets in Redis and falls back to this.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.clock = clock
        # client → (tokens left, when they were counted); only authenticated clients get here.
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(maxsize=100_000)

    def take(self, client: str) -> None:
        """Spend one token of `client`'s bucket, or raise RateLimited with when to retry."""
        if self.rate <= 0:
            return
        now = self.clock()
        tokens, counted = self._buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - counted) * self.rate)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            raise RateLimited(retry_after_seconds=max(1, math.ceil((1 - tokens) / self.rate)))
        self._buckets[client] = (tokens - 1, now)


class Limiter:
    """A token bucket per key, `rate` a second with bursts of `burst`; rate 0 turns it off.

    `name` keeps the buckets of different limits apart in Redis.
    """

    def __init__(
        self, rate: float, burst: int, redis_url: str | None = None, name: str = "clients"
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.local = TokenBucket(rate, burst)
        self.prefix = f"gql_badges:bucket:{name}:"
        # Long enough to refill completely; an expired bucket is a full one.
        self.expiry = max(1, math.ceil(self.burst / rate) + 1) if rate > 0 else 1
        self._redis: Any = None
        self._script: Any = None
        self._down_until = 0.0
        self._warned = False
        if redis_url and rate > 0:
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(
                redis_url,
                socket_timeout=_REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
            )
            self._script = self._redis.register_script(_TAKE)

    async def take(self, key: str) -> None:
        """Spend one token of `key`'s bucket, or raise RateLimited with when to retry."""
        if self.rate <= 0:
            return
        if self._redis is None or time.monotonic() < self._down_until:
            if self._redis is not None:
                observed.limiter_fallback()
            self.local.take(key)
            return
        try:
            spent, tokens = await self._script(
                keys=[self.prefix + key], args=[self.rate, self.burst, self.expiry]
            )
        except Exception as error:  # any Redis failure: decide here rather than fail the request
            self._store_failed(error)
            self.local.take(key)
            return
        if self._warned:
            logger.warning("Redis reachable again: rate limits are shared across replicas")
            self._warned = False
        if not int(spent):
            left = float(tokens)
            raise RateLimited(retry_after_seconds=max(1, math.ceil((1 - left) / self.rate)))

    def _store_failed(self, error: Exception) -> None:
        observed.limiter_fallback()
        self._down_until = time.monotonic() + _RETRY_AFTER_FAILURE_SECONDS
        if not self._warned:
            self._warned = True
            logger.warning(
                "Redis unreachable (%s): rate limits are per process until it is back",
                type(error).__name__,
            )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many verifications (attempts with credentials not yet verified) are allowed."""

    concurrent: int = 1  # verifications at once in this process: a core (and 64 MiB) each
    per_minute: float = 10.0  # per client address, and per username or key, on average
    burst: int = 20


class LoginGate:
    """Fences secret verifications, the one expensive thing a caller without credentials can
    make the gateway do: each spends an attempt of its address and of its username or key
    (RateLimited when either has none left), and only `concurrent` run at once."""

    def __init__(self, limits: LoginLimits, redis_url: str | None = None) -> None:
        self._running = asyncio.Semaphore(limits.concurrent)
        # Shared by the replicas like the client limit: a flood spread over them counts once.
        self._attempts = Limiter(limits.per_minute / 60, limits.burst, redis_url, name="logins")

    async def verify(self, check: Callable[[], bool], address: str | None, name: str) -> bool:
        """Run `check` (a slow hash) in a thread once the attempt is allowed; its answer."""
        if address is not None:
            await self._attempts.take(f"address:{address}")
        await self._attempts.take(name)
        async with self._running:
            return await asyncio.to_thread(check)

    async def close(self) -> None:
        await self._attempts.close()


__all__ = ["Limiter", "LoginGate", "LoginLimits", "TokenBucket"]
