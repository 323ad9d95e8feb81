"""Rate limits shared through a real Redis (the Debian `redis-server`), and its outage.

Skipped when `redis-server` is not installed, except in CI, where it must run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gql_badges.auth.limits import Limiter
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.errors import RateLimited
from gql_badges.services import Services
from gql_badges.storage.collections import Document
from tests.support import CUSTOMER, GatewayProcess, basic_auth, free_port, load_demo

# Timing-sensitive: the xdist group `timing` runs such tests one after another on one worker.
pytestmark = pytest.mark.xdist_group("timing")

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
                import redis

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
    replicas = [Limiter(0.5, 4, redis_server.url, name=name) for _ in range(2)]
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
    for replica in replicas:
        await replica.close()


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
        # The address's three attempts, shared: the two good logins (one per gateway) spent
        # two, so one wrong password is checked and the rest refused. Per process, four would be.
        assert codes == ["UNAUTHENTICATED"] + ["RATE_LIMITED"] * 4, codes
    finally:
        for gateway in gateways:
            await gateway.aclose()
