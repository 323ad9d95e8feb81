"""The one Redis store's circuit breaker, driven by calls that succeed or fail on demand.

The calls given to `RedisStore.run` here never touch the network: the breaker's bookkeeping is
what is under test (a real redis-server outage is in tests/auth/test_shared_limits.py).
"""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis.asyncio

from gql_badges.storage.redis_store import RedisStore, StoreUnavailable

URL = "redis://127.0.0.1:1/0"  # never dialled: the calls below do not use the client


async def _fail(_: redis.asyncio.Redis) -> None:
    raise ConnectionError("refused")


async def test_a_call_sent_before_an_outage_does_not_end_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisStore(URL, timeout=5.0, retry_after=60.0)
    release = asyncio.Event()

    async def slow(_: redis.asyncio.Redis) -> str:
        await release.wait()
        return "late answer"

    caplog.set_level(logging.WARNING, logger="gql_badges.storage.redis_store")
    before = asyncio.create_task(store.run(slow))  # sent while Redis still answered
    await asyncio.sleep(0)
    with pytest.raises(StoreUnavailable):
        await store.run(_fail)  # the outage begins: the breaker opens
    release.set()
    assert await before == "late answer"

    # The late answer must not close the breaker: calls still fall back at once, and the next
    # failure is the same outage, not a new one.
    with pytest.raises(StoreUnavailable):
        await store.run(_fail)
    warnings = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in w for w in warnings) == 1, warnings
    assert not any("reachable again" in w for w in warnings), warnings
    await store.close()


async def test_the_half_open_probe_closes_the_breaker(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStore(URL, timeout=5.0, retry_after=0.01)

    async def ok(_: redis.asyncio.Redis) -> str:
        return "ok"

    caplog.set_level(logging.WARNING, logger="gql_badges.storage.redis_store")
    with pytest.raises(StoreUnavailable):
        await store.run(_fail)
    await asyncio.sleep(0.02)
    assert await store.run(ok) == "ok"
    assert any("reachable again" in r.getMessage() for r in caplog.records)
    await store.close()
