"""The process's one Redis connection, shared by everything kept for every replica: the rate
limits' token buckets, the login gate's buckets and known-good addresses, and APQ's documents.

    store = RedisStore("redis://redis:6379/0")   # or RedisStore(None): nothing shared
    try:
        found = await store.run(lambda redis: redis.get(key))
    except StoreUnavailable:
        found = local.get(key)                     # this process decides on its own

Redis is an optimisation of sharing, never a dependency of a request: every call is bounded
(`timeout`, no retries), and one failure opens a circuit breaker for `retry_after` seconds,
during which every caller falls back at once, without a network round trip. One caller then
tries again. The outage is logged once ("Redis unreachable", and "reachable again" when it is
back), whoever noticed it, and each fallback is reported to `on_fallback` (the services count
them in `gql_badges_limiter_store_failures_total`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

logger = logging.getLogger(__name__)

T = TypeVar("T")

TIMEOUT_SECONDS = 0.25
RETRY_AFTER_SECONDS = 1.0


class StoreUnavailable(Exception):
    """There is no Redis, or it cannot answer now: the caller decides with what it has."""


class RedisStore:
    """One Redis client for the process, with one circuit breaker and one warning."""

    def __init__(
        self,
        url: str | None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        retry_after: float = RETRY_AFTER_SECONDS,
        on_fallback: Callable[[], None] = lambda: None,
    ) -> None:
        self.timeout = timeout
        self.retry_after = retry_after
        self.on_fallback = on_fallback
        self._redis: redis.asyncio.Redis | None = None
        if url:
            # No retries: a retry is the very wait the breaker exists to avoid.
            self._redis = redis.asyncio.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        self._open_until: float | None = None  # None: closed, Redis is used
        self._warned = False

    @property
    def shared(self) -> bool:
        """Whether a Redis URL is configured (whether or not it answers now)."""
        return self._redis is not None

    def register_script(self, text: str) -> AsyncScript | None:
        """A Lua script for `run` (sent by its SHA, loaded on first use); None without Redis."""
        return self._redis.register_script(text) if self._redis is not None else None

    async def run(self, call: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
        """`call(redis)`, bounded in time; StoreUnavailable when Redis cannot answer now."""
        if self._redis is None:
            raise StoreUnavailable()
        open_until = self._open_until
        probe = open_until is not None
        if open_until is not None:
            if time.monotonic() < open_until:
                self.on_fallback()
                raise StoreUnavailable()
            # Half open: this caller tries; the others fall back until it has the answer.
            self._open_until = time.monotonic() + self.retry_after
        try:
            async with asyncio.timeout(self.timeout):
                result = await call(self._redis)
        except Exception as error:  # any Redis failure: the caller decides without it
            self._failed(error)
            raise StoreUnavailable() from error
        # Only the half-open probe closes the breaker: a call sent before the outage began may
        # still come back after the first failure, and must not end an outage that goes on.
        if probe and self._open_until is not None:
            self._open_until = None
            if self._warned:
                self._warned = False
                logger.warning("Redis reachable again: limits and persisted queries are shared")
        return result

    def _failed(self, error: Exception) -> None:
        self.on_fallback()
        self._open_until = time.monotonic() + self.retry_after
        if not self._warned:
            self._warned = True
            logger.warning(
                "Redis unreachable (%s): rate limits, login limits and persisted queries are "
                "per process until it is back",
                type(error).__name__,
            )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


__all__ = ["RedisStore", "StoreUnavailable"]
