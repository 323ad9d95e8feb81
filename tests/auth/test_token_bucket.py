"""The token bucket on a fake clock: bursts, refill, retry hints, and off."""

from __future__ import annotations

import pytest

from gql_badges.auth.limits import TokenBucket
from gql_badges.errors import RateLimited


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    for _ in range(3):
        bucket.take("a")
    with pytest.raises(RateLimited) as refused:
        bucket.take("a")
    assert refused.value.retry_after_seconds == 1
    bucket.take("b")  # buckets are per client
    clock.now += 0.5  # one token back at 2/s
    bucket.take("a")
    with pytest.raises(RateLimited):
        bucket.take("a")
    clock.now += 100  # refill stops at the burst size
    for _ in range(3):
        bucket.take("a")
    with pytest.raises(RateLimited):
        bucket.take("a")


def test_retry_after_reflects_a_slow_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.1, burst=1, clock=clock)
    bucket.take("a")
    with pytest.raises(RateLimited) as refused:
        bucket.take("a")
    assert refused.value.retry_after_seconds == 10


def test_rate_zero_turns_it_off() -> None:
    bucket = TokenBucket(rate=0, burst=1, clock=FakeClock())
    for _ in range(1000):
        bucket.take("a")
