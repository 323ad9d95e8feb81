"""A flood of wrong passwords (thirty aliases each) against a live gateway process, while a good
client works: the good client stays fast and the gateway's memory stays bounded."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import psutil
import pytest

from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.services import Services
from tests.support import CUSTOMER, GatewayProcess, basic_auth
from tests.support.hostile import PAGE_ALIASES as ALIASES

# Wall-clock budgets: no other worker runs meanwhile (`alone`), one after another (`timing`).
pytestmark = [pytest.mark.usefixtures("demo"), pytest.mark.xdist_group("timing"), pytest.mark.alone]

SECONDS = 8.0
FLOODERS = 6


async def _flood(base: str, address: str, stop: float, counts: dict[str, int], n: int) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(transport=transport, base_url=base, timeout=30) as client:
        attempt = 0
        while time.monotonic() < stop:
            attempt += 1
            headers = basic_auth(f"flood-{n}-{attempt}", "guess")  # every one a new username
            response = await client.post("/graphql", json={"query": ALIASES}, headers=headers)
            code = response.json()["errors"][0]["extensions"]["code"]
            counts[code] = counts.get(code, 0) + 1


@pytest.mark.slow  # an eight-second flood against a gateway process
async def test_a_wrong_password_flood_does_not_slow_a_good_client(
    services: Services, tmp_path: Path
) -> None:
    gateway = GatewayProcess(
        services.database.uri,
        services.settings.database,
        tmp_path,
        "--no-access-log",
        GQL_BADGES_DRIVER=services.settings.driver.value,
        GQL_BADGES_JWT_SECRET="s" * 40,
        GQL_BADGES_LOGIN_ADDRESS_BURST="2",  # the per-address limit shows, even on a busy machine
    ).launch()
    base = gateway.base
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as good:
            await _wait_ready(gateway)
            good_auth = basic_auth(*ORG_B_CLIENT.credentials)
            path = CUSTOMER + SWATI.key
            assert (await good.get(path, headers=good_auth)).status_code == 200  # logged in

            stop = time.monotonic() + SECONDS
            counts: dict[str, int] = {}
            # Half the flood from one address (the per-address limit answers 429 at once), half
            # from addresses of their own, each a new username (every request a verification).
            addresses = ["127.0.0.1"] * (FLOODERS // 2) + [
                f"127.0.0.{10 + n}" for n in range(FLOODERS // 2)
            ]
            flood = [
                asyncio.create_task(_flood(base, address, stop, counts, n))
                for n, address in enumerate(addresses)
            ]
            latencies, peak_rss = [], 0
            assert gateway.process is not None
            process = psutil.Process(gateway.process.pid)
            while time.monotonic() < stop:
                started = time.perf_counter()
                response = await good.get(path, headers=good_auth)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
                peak_rss = max(peak_rss, process.memory_info().rss)
                await asyncio.sleep(0.05)
            await asyncio.gather(*flood)
    finally:
        gateway.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"good client: {len(latencies)} requests, p99 {p99 * 1000:.0f} ms; flood: {counts}; "
          f"gateway RSS peak {peak_rss / 2**20:.0f} MiB")  # fmt: skip
    assert counts.get("RATE_LIMITED", 0) > 0 and counts.get("UNAUTHENTICATED", 0) > 0, counts
    assert set(counts) <= {"UNAUTHENTICATED", "RATE_LIMITED"}, counts
    assert p99 < 1.0, f"good client p99 {p99:.2f} s"
    assert peak_rss < 300 * 2**20, f"gateway RSS {peak_rss / 2**20:.0f} MiB"


async def _wait_ready(gateway: GatewayProcess) -> None:
    """`GatewayProcess.wait_ready`, without blocking the event loop the tests share."""
    deadline = time.monotonic() + 60
    while not gateway.ready():
        assert time.monotonic() < deadline, gateway.log()[-2000:]
        await asyncio.sleep(0.2)
