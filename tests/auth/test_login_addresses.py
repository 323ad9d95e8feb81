"""Failed logins throttled by (username, address), never locking an account out, against a
gateway served by uvicorn and reached from several loopback source addresses (all of 127/8 is
loopback, so `local_address` gives each client an address of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gql_badges.app import create_app
from gql_badges.services import Services
from gql_badges.settings import Settings
from tests.support import basic_auth, make_settings, seed_cheap_client, served_in_loop

TYPENAME = {"query": "{ __typename }"}
# The shipped budgets, refilled so slowly that no attempt comes back during a test.
DEFAULT_BUDGETS = {
    name: Settings.model_fields[name].default
    for name in ("login_attempts_burst", "login_address_burst", "login_username_burst")
} | dict.fromkeys(
    ("login_attempts_per_minute", "login_address_per_minute", "login_username_per_minute"), 0.001
)


@contextlib.asynccontextmanager
async def gateway(services: Services, **settings: Any) -> AsyncIterator[str]:
    """A gateway of its own (its own limits and caches) over the session's database, served
    by uvicorn on a loopback port: its base URL."""
    own = Services.create(
        make_settings(
            services.settings.driver,
            database=services.settings.database,
            **(DEFAULT_BUDGETS | settings),
        ),
        services.database.uri,
    )
    try:
        async with served_in_loop(create_app(own.settings, services=own)) as base:
            yield base
    finally:
        await own.database.close()


def from_address(base: str, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=30)


async def login(base: str, address: str, headers: dict[str, str]) -> httpx.Response:
    async with from_address(base, address) as client:
        return await client.post("/graphql", json=TYPENAME, headers=headers)


def code(response: httpx.Response) -> str:
    value: str = response.json()["errors"][0]["extensions"]["code"]
    return value


def refused_by(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The `limit` of each access line that has one: which limit refused the request."""
    return [
        fields["limit"]
        for record in caplog.records
        if record.name == "gql_badges.access"
        and isinstance(fields := getattr(record, "fields", None), dict)
        and "limit" in fields
    ]


async def test_an_attackers_address_is_refused_and_the_real_client_is_not(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 19's table, reversed: 25 wrong passwords from 127.0.0.3, then the real client,
    not yet verified by this process, from 127.0.0.2."""
    caplog.set_level(logging.INFO, logger="gql_badges.access")
    username, password = await seed_cheap_client(services.database)
    async with gateway(services) as base, from_address(base, "127.0.0.3") as attacker:
        statuses = []
        for n in range(25):
            guess = basic_auth(username, f"guess-{n}")
            statuses.append(await attacker.post("/graphql", json=TYPENAME, headers=guess))
        assert [r.status_code for r in statuses] == [401] * 20 + [429] * 5
        assert code(statuses[-1]) == "RATE_LIMITED"
        assert int(statuses[-1].headers["Retry-After"]) >= 1

        real = await login(base, "127.0.0.2", basic_auth(username, password))
        assert real.status_code == 200, real.text
        assert real.json() == {"data": {"__typename": "Query"}}
        # And the attacker's address is still refused.
        again = await login(base, "127.0.0.3", basic_auth(username, "guess-again"))
        assert again.status_code == 429
    assert refused_by(caplog) == ["login_username_address"] * 6


async def test_failures_from_twenty_addresses_do_not_lock_out_a_known_address(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """20 addresses, 10 failures each, spend the username's budget (50 here, so that they do): a
    fresh address is refused, the address that logged in before is not."""
    username, password = await seed_cheap_client(services.database)
    right = basic_auth(username, password)
    # No cache of verified credentials: every request of the real client is a verification.
    async with gateway(services, login_username_burst=50, auth_cache_seconds=0) as base:
        assert (await login(base, "127.0.0.2", right)).status_code == 200

        async def ten_failures(address: str) -> list[int]:
            async with from_address(base, address) as client:
                wrong = basic_auth(username, f"guess-from-{address}")
                return [
                    (await client.post("/graphql", json=TYPENAME, headers=wrong)).status_code
                    for _ in range(10)
                ]

        addresses = [f"127.0.1.{n}" for n in range(1, 21)]
        batches = await asyncio.gather(*map(ten_failures, addresses))
        statuses = Counter(status for batch in batches for status in batch)
        assert statuses == {401: 50, 429: 150}

        caplog.set_level(logging.INFO, logger="gql_badges.access")
        fresh = await login(base, "127.0.0.4", right)
        assert (fresh.status_code, code(fresh)) == (429, "RATE_LIMITED")
        assert refused_by(caplog) == ["login_username"]
        for _ in range(3):
            known = await login(base, "127.0.0.2", right)
            assert known.status_code == 200, known.text


async def test_a_first_login_from_a_fresh_address_passes_during_a_flood(
    services: Services,
) -> None:
    username, password = await seed_cheap_client(services.database)
    async with gateway(services) as base:
        refused = asyncio.Event()
        stop = asyncio.Event()

        async def flood() -> int:
            sent = 0
            async with from_address(base, "127.0.0.3") as attacker:
                while not stop.is_set():
                    wrong = basic_auth(username, f"guess-{sent}")
                    response = await attacker.post("/graphql", json=TYPENAME, headers=wrong)
                    sent += 1
                    if response.status_code == 429:
                        refused.set()
            return sent

        flooding = asyncio.create_task(flood())
        try:
            await asyncio.wait_for(refused.wait(), timeout=60)  # the flood is being refused
            first = await login(base, "127.0.0.5", basic_auth(username, password))
            assert first.status_code == 200, first.text
        finally:
            stop.set()
            assert await flooding > 20


def _failures(text: str, reason: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "gql_badges_auth_failures_total"
                and sample.labels["reason"] == reason
            ):
                return sample.value
    return 0.0


async def test_a_wrong_password_is_refused_even_for_typename(services: Services) -> None:
    """Credentials present but wrong: 401 UNAUTHENTICATED on a document that reads nothing,
    counted as a failed login (the third is throttled). Without credentials the public schema
    still answers."""
    username, _ = await seed_cheap_client(services.database)
    wrong = basic_auth(username, "wrong-password")
    async with (
        gateway(services, login_attempts_burst=2) as base,
        from_address(base, "127.0.0.6") as client,
    ):
        refused = await client.post("/graphql", json=TYPENAME, headers=wrong)
        assert refused.status_code == 401
        assert code(refused) == "UNAUTHENTICATED"
        assert "data" not in refused.json()
        assert refused.headers["WWW-Authenticate"].startswith("Basic")
        token = {"X-CAP-API-OAUTH-TOKEN": "not-a-token"}
        assert (await client.post("/graphql", json=TYPENAME, headers=token)).status_code == 401

        assert (await client.post("/graphql", json=TYPENAME, headers=wrong)).status_code == 401
        throttled = await client.post("/graphql", json=TYPENAME, headers=wrong)
        assert (throttled.status_code, code(throttled)) == (429, "RATE_LIMITED")

        public = await client.post("/graphql", json=TYPENAME)
        assert public.status_code == 200 and public.json() == {"data": {"__typename": "Query"}}
        schema = {"query": "{ __schema { queryType { name } } }"}
        assert (await client.post("/graphql", json=schema)).status_code == 200

        metrics = (await client.get("/metrics")).text
    assert _failures(metrics, "wrong_secret") == 2
    assert _failures(metrics, "invalid_token") == 1
    assert _failures(metrics, "throttled") == 1
