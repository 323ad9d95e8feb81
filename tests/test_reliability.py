"""Failures answer clearly and leak nothing; the gateway rides out a database restart."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.badges.repository import BadgeRepository, RowPage
from gql_badges.demo import demo_documents
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.loading import validate_documents, write_documents
from gql_badges.services import Services
from gql_badges.settings import Driver
from gql_badges.storage.embedded import EmbeddedServer
from tests.support import CUSTOMER, basic_auth, graphql, make_settings

CUSTOMER_URI = f"{CUSTOMER}{SWATI.key}"
QUERY = f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}'


class ExplodingRepository(BadgeRepository):
    async def badge_page(self, *args: Any, **kwargs: Any) -> RowPage:
        raise RuntimeError("secret internals: mongodb://admin:hunter2@db")


def _client(services: Services) -> httpx.AsyncClient:
    app = create_app(services.settings, services=services)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


@pytest.mark.usefixtures("demo")
async def test_unexpected_errors_leak_nothing(
    services: Services, org_b_auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    broken = dataclasses.replace(services, repository=ExplodingRepository(services.database))
    async with _client(broken) as client:
        response = await client.get(CUSTOMER_URI, headers=org_b_auth)
        assert response.status_code == 500
        body = response.json()
        (error,) = body["errors"]
        assert error["message"] == "Internal server error"
        request_id = error["reference"]
        assert "hunter2" not in response.text and "Traceback" not in response.text

        answer = await graphql(client, QUERY, org_b_auth)
        (gql_error,) = answer["errors"]
        assert gql_error["message"] == "Internal server error"
        assert gql_error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert "hunter2" not in str(answer)
    assert request_id in caplog.text and "hunter2" in caplog.text  # the details: log only


@pytest.mark.usefixtures("demo")
async def test_bodies_are_bounded(client: httpx.AsyncClient, org_b_auth: dict[str, str]) -> None:
    huge = {"query": QUERY, "variables": {"pad": "x" * 300_000}}
    response = await client.post("/graphql", json=huge, headers=org_b_auth)
    assert response.status_code == 413
    (error,) = response.json()["errors"]  # the GraphQL shape on /graphql
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    token = await client.post("/v3/oauth/token/generate", content=b"{" + b" " * 300_000 + b"}")
    assert token.status_code == 413
    assert token.json()["errors"][0]["code"] == 413  # the REST envelope elsewhere


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("body", [b'{"query": ', b'{"query": "{ __typename }", "x": "\xff"}'])
async def test_bad_json_is_400(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], body: bytes
) -> None:
    """Truncated JSON, and JSON whose bytes are not UTF-8 (was a 500)."""
    headers = org_b_auth | {"content-type": "application/json"}
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400
    token = await client.post("/v3/oauth/token/generate", content=body)
    assert token.status_code == 400


# Timing-sensitive (a 503 within seconds): the xdist group `timing` runs alone.
@pytest.mark.xdist_group("timing")
@pytest.mark.slow
@pytest.mark.parametrize("driver", [Driver.MOTOR, Driver.PYMONGO])
async def test_the_gateway_rides_out_a_database_restart(tmp_path: Path, driver: Driver) -> None:
    """Database down: 503 fast and /readyz false; back: answers again, nothing restarted."""
    database = EmbeddedServer(tmp_path)
    uri = database.start()
    port = int(uri.rsplit(":", 1)[1].split("/")[0])
    settings = make_settings(driver, server_selection_timeout_ms=500, db_timeout_ms=2000)
    services = Services.create(settings, uri)
    auth = basic_auth(ORG_B_CLIENT.username, ORG_B_CLIENT.password)
    try:
        await write_documents(services.database, validate_documents(demo_documents()))
        async with _client(services) as client:
            assert (await client.get(CUSTOMER_URI, headers=auth)).status_code == 200
            statuses: list[int] = []
            stop_load = asyncio.Event()

            flowing = asyncio.Event()

            async def load() -> None:  # concurrent traffic all through the outage
                while not stop_load.is_set():
                    statuses.append((await client.get(CUSTOMER_URI, headers=auth)).status_code)
                    if len(statuses) >= 8:
                        flowing.set()

            clients = [asyncio.create_task(load()) for _ in range(4)]
            await flowing.wait()  # the load is flowing before the database goes

            database.stop()
            started = time.monotonic()
            down = await client.get(CUSTOMER_URI, headers=auth)
            assert down.status_code == 503, down.text
            assert down.json()["errors"][0]["code"] == 503
            assert time.monotonic() - started < 5
            assert (await client.get("/readyz")).status_code == 503
            answer = await graphql(client, QUERY, auth)
            assert answer["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

            database = EmbeddedServer(tmp_path, port=port)
            database.start()
            deadline = time.monotonic() + 30
            while (await client.get(CUSTOMER_URI, headers=auth)).status_code != 200:
                assert time.monotonic() < deadline, "the gateway did not recover"
                await asyncio.sleep(0.2)
            assert (await client.get("/readyz")).status_code == 200
            stop_load.set()
            await asyncio.gather(*clients)
            # Under load, every answer was a page or a clean 503: no 500, no hang.
            assert set(statuses) <= {200, 503} and {200, 503} <= set(statuses), set(statuses)
    finally:
        await services.database.close()
        database.stop()
