"""Rate limits shared through a real Redis (the Debian `redis-server`), and its outage.

Skipped when `redis-server` is not installed, except in CI, where it must run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from gql_badges.auth.limits import Limiter
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.errors import RateLimited
from gql_badges.services import Services
from gql_badges.storage.collections import Document
from gql_badges.storage.redis_store import RedisStore
from tests.support import (
    CUSTOMER,
    GatewayProcess,
    basic_auth,
    free_port,
    load_demo,
    seed_cheap_client,
)

AUTH = basic_auth(ORG_B_CLIENT.username, ORG_B_CLIENT.password)
REDIS_SERVER = shutil.which("redis-server")
if REDIS_SERVER is None and not os.environ.get("CI"):
    pytest.skip(
        "redis-server is not installed (apt-get install redis-server)", allow_module_level=True
    )


class RedisServer:
    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        assert REDIS_SERVER is not None, "redis-server is required in CI"
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(work_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.kill()


async def test_two_limiters_share_one_bucket(redis_server: RedisServer) -> None:
    """Two replicas' limiters: together they allow the burst once, not twice."""
    name = uuid.uuid4().hex
    stores = [RedisStore(redis_server.url) for _ in range(2)]
    replicas = [Limiter(0.5, 4, store, limit=name) for store in stores]
    allowed = 0
    for n in range(10):
        try:
            await replicas[n % 2].take("org:client")
            allowed += 1
        except RateLimited as refused:
            assert refused.retry_after_seconds >= 1
    assert allowed == 4
    await replicas[0].take("org:another")  # buckets are per client
    redis_server.kill()
    for _ in range(3):  # Redis gone: this process's own bucket decides, nothing raises
        await replicas[0].take("org:client")
    for store in stores:
        await store.close()


async def _send_spread(
    client: httpx.AsyncClient,
    urls: list[str],
    count: int,
    seconds: float,
    on_half: Callable[[], object] | None = None,
) -> list[int]:
    """`count` requests over `seconds`, alternating between `urls`; their statuses."""
    headers = AUTH
    start = time.monotonic()

    async def one(n: int) -> int:
        await asyncio.sleep(max(0.0, start + n * seconds / count - time.monotonic()))
        if on_half is not None and n == count // 2:
            on_half()
        response = await client.get(f"{urls[n % 2]}{CUSTOMER}{SWATI.key}", headers=headers)
        return response.status_code

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def _fallbacks(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gql_badges_limiter_store_failures_total":
                return sample.value
    return 0.0


# Counts requests allowed in a measured time: the xdist group `timing` runs alone.
@pytest.mark.xdist_group("timing")
@pytest.mark.slow
async def test_two_gateways_share_the_limit_and_ride_out_a_redis_outage(
    mongo_uri: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    database = f"limits_{uuid.uuid4().hex[:8]}"
    await load_demo(mongo_uri, database)
    env = {
        "GQL_BADGES_REDIS_URL": redis_server.url,
        "GQL_BADGES_RATE_LIMIT_PER_SECOND": "5",
        "GQL_BADGES_RATE_LIMIT_BURST": "10",
        "GQL_BADGES_LOG_FORMAT": "text",
    }
    gateways = [GatewayProcess(mongo_uri, database, tmp_path, **env) for _ in range(2)]
    try:
        for gateway in gateways:
            gateway.launch()
        for gateway in gateways:
            gateway.wait_ready()
        urls = [gateway.base for gateway in gateways]
        async with httpx.AsyncClient(timeout=30) as client:
            # Each gateway verifies the password once (a slow hash) before the timed run.
            for url in urls:
                warm = await client.get(f"{url}{CUSTOMER}{SWATI.key}", headers=AUTH)
                assert warm.status_code == 200
            await asyncio.sleep(0.5)  # the two tokens come back
            started = time.monotonic()
            statuses = await _send_spread(client, urls, 60, 2.0)
            elapsed = time.monotonic() - started
            assert set(statuses) <= {200, 429}, statuses
            # One shared bucket: the burst of 10 plus 5/s for the run. Apart: about 40.
            allowed = statuses.count(200)
            assert 12 <= allowed <= 10 + 5 * elapsed + 2, (allowed, elapsed, statuses)

            await asyncio.sleep(2.5)  # the bucket refills
            statuses = await _send_spread(client, urls, 60, 2.0, on_half=redis_server.kill)
            assert set(statuses) <= {200, 429}, statuses
            after_outage = statuses[31:]
            assert 200 in after_outage  # each replica's own bucket decides now
            scrapes = [(await client.get(f"{url}/metrics")).text for url in urls]
        assert all(_fallbacks(text) >= 1 for text in scrapes)
    finally:
        for gateway in gateways:
            gateway.stop()
    for gateway in gateways:
        log = gateway.log()
        assert log.count("Redis unreachable") == 1, log[-3000:]
        assert "Traceback" not in log


async def test_persisted_queries_and_login_limits_are_shared(
    redis_server: RedisServer, services: Services, demo: dict[str, list[Document]]
) -> None:
    """Two gateways on one Redis: a document registered through one runs by its hash through
    the other, and wrong passwords spread over both spend one allowance of attempts."""
    import httpx

    from gql_badges.app import create_app
    from gql_badges.graphql.persisted import sha256_hex
    from gql_badges.services import Services
    from tests.support import make_settings

    gateways = []
    for _ in range(2):
        settings = make_settings(
            services.settings.driver,
            database=services.settings.database,
            redis_url=redis_server.url,
            login_attempts_burst=3,
            login_attempts_per_minute=0.001,
        )
        own = Services.create(settings, services.database.uri)
        transport = httpx.ASGITransport(app=create_app(settings, services=own))
        gateways.append(httpx.AsyncClient(transport=transport, base_url="http://gateway"))
    query = f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ pagination {{ total }} }} }}'
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
    try:
        first, second = gateways
        await first.post("/graphql", json={"query": query, "extensions": persisted}, headers=AUTH)
        by_hash = await second.post("/graphql", json={"extensions": persisted}, headers=AUTH)
        assert by_hash.json()["data"]["customerBadges"]["pagination"]["total"] >= 1

        wrong = basic_auth(ORG_B_CLIENT.username, "wrong-password")
        codes = []
        for n in range(5):
            response = await gateways[n % 2].post("/graphql", json={"query": query}, headers=wrong)
            codes.append(response.json()["errors"][0]["extensions"]["code"])
        # The (username, address)'s three failures, shared: three wrong passwords are checked
        # and the rest refused (the good logins gave their attempts back). Per process, all
        # five would be checked.
        assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"] * 2, codes
    finally:
        for gateway in gateways:
            await gateway.aclose()


def _from(base: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=30)


async def _login(base: str, address: str, headers: dict[str, str]) -> int:
    async with _from(base, address) as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        return response.status_code


@pytest.mark.slow
async def test_a_known_address_is_honoured_by_every_replica_after_restarts(
    mongo_uri: str, redis_server: RedisServer, services: Services, tmp_path: Path
) -> None:
    """Learnt by one gateway, kept in Redis (as a keyed hash): after both restart, the other
    lets the address in although the username's budget is spent, and refuses a fresh one."""
    username, password = await seed_cheap_client(services.database)
    right = basic_auth(username, password)
    env = {
        "GQL_BADGES_REDIS_URL": redis_server.url,
        "GQL_BADGES_LOGIN_USERNAME_BURST": "3",
        "GQL_BADGES_LOGIN_USERNAME_PER_MINUTE": "0.001",
        "GQL_BADGES_AUTH_CACHE_SECONDS": "0",  # every login a verification
    }

    def replicas() -> list[GatewayProcess]:
        started = [
            GatewayProcess(mongo_uri, services.settings.database, tmp_path, **env).launch()
            for _ in range(2)
        ]
        return [gateway.wait_ready() for gateway in started]

    first, second = replicas()
    try:
        assert await _login(first.base, "127.0.0.2", right) == 200
    finally:
        first.stop()
        second.stop()
    first, second = replicas()
    try:
        wrong = [
            await _login(gateway.base, f"127.0.2.{n}", basic_auth(username, f"guess-{n}"))
            for n, gateway in enumerate([first, second] * 3)
        ]
        assert wrong == [401, 401, 401, 429, 429, 429]  # one budget for both replicas
        assert await _login(second.base, "127.0.0.7", right) == 429  # a fresh address
        assert await _login(second.base, "127.0.0.2", right) == 200  # the known one
        assert await _login(first.base, "127.0.0.2", right) == 200
    finally:
        first.stop()
        second.stop()
    # The login gate keeps keyed hashes only: no username or address in its keys.
    found = redis.Redis(port=redis_server.port, decode_responses=True).keys("gql_badges:*")
    assert isinstance(found, list)
    logins = [
        str(key)
        for key in found
        if str(key).startswith(("gql_badges:known:", "gql_badges:bucket:login_"))
    ]
    assert any(key.startswith("gql_badges:known:") for key in logins)
    assert not [key for key in logins if username in key or "127.0" in key]


async def test_with_redis_hung_apq_and_logins_fall_back_at_once(
    redis_server: RedisServer, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stops answering (SIGSTOP: connections open, no reply). The first call to reach it
    waits out the timeout; the breaker then answers every other use (rate limit, login gate,
    APQ) at once from the process, with one warning for all."""
    from gql_badges.app import create_app
    from gql_badges.graphql.persisted import sha256_hex
    from tests.support import make_settings

    store = RedisStore(redis_server.url, timeout=1.0, retry_after=60.0)
    settings = make_settings(
        services.settings.driver, database=services.settings.database, redis_url=redis_server.url
    )
    own = Services.create(settings, services.database.uri, store=store)
    username, password = await seed_cheap_client(services.database)
    query = "{ __typename }"
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
    transport = httpx.ASGITransport(app=create_app(settings, services=own))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        assert (await client.post("/graphql", json={"query": query})).status_code == 200
        os.kill(redis_server.process.pid, signal.SIGSTOP)
        try:
            with caplog.at_level(logging.WARNING, logger="gql_badges"):
                started = time.monotonic()
                logged_in = await client.post(
                    "/graphql", json={"query": query}, headers=basic_auth(username, password)
                )
                login_seconds = time.monotonic() - started
                started = time.monotonic()
                registered = await client.post(
                    "/graphql", json={"query": query, "extensions": persisted}
                )
                by_hash = await client.post("/graphql", json={"extensions": persisted})
                apq_seconds = time.monotonic() - started
        finally:
            os.kill(redis_server.process.pid, signal.SIGCONT)
    await own.database.close()
    await store.close()
    assert logged_in.status_code == 200, logged_in.text
    assert registered.status_code == by_hash.status_code == 200
    assert by_hash.json() == {"data": {"__typename": "Query"}}
    # One timeout (1 s) at most, not one per Redis call: a login makes eight, APQ two.
    assert login_seconds < 2.0, login_seconds
    assert apq_seconds < 0.5, apq_seconds
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
