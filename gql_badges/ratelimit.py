"""Per-client rate limiting: a token bucket for each authenticated client, in this process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from cachetools import LRUCache

from gql_badges.errors import RateLimited


class TokenBucket:
    """`rate` requests a second on average, bursts of up to `burst`; rate 0 turns it off.

    State is per process: with N gateway processes behind a balancer, a client gets up to N
    times the rate. `shared_limits.Limiter` keeps the buckets in Redis and falls back to this.
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
