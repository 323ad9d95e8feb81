"""X-Request-Id on every answer: the caller's own when well formed, else the trace id when
tracing is on, else a fresh one; always the id of the error body and of the access log line."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.badges.repository import BadgeRepository, RowPage
from gql_badges.demo.handles import SWATI
from gql_badges.services import Services
from tests.support import CUSTOMER, asgi_client, make_settings
from tests.support.otlp_receiver import OTLPReceiver

QUERY = f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}'
FRESH = re.compile(r"[0-9a-f]{16}")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

pytestmark = pytest.mark.usefixtures("demo")


class ExplodingRepository(BadgeRepository):
    async def badge_page(self, *args: Any, **kwargs: Any) -> RowPage:
        raise RuntimeError("an unexpected failure")


def _access_ids(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        vars(record)["fields"]["request_id"]
        for record in caplog.records
        if record.name == "gql_badges.access"
    ]


async def test_every_answer_carries_an_id_that_its_log_line_carries(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gql_badges.access"):
        answers = [
            await client.post("/graphql", json={"query": QUERY}, headers=org_b_auth),
            await client.get(CUSTOMER + SWATI.key, headers=org_b_auth),
            await client.get(CUSTOMER + SWATI.key),  # 401
            await client.get("/no/such/path"),  # 404
            await client.get("/graphql", headers={"X-Padding": "x" * 20_000}),  # 431
            await client.get("/healthz"),
        ]
    ids = [answer.headers["x-request-id"] for answer in answers]
    assert [answer.status_code for answer in answers] == [200, 200, 401, 404, 431, 200]
    assert all(FRESH.fullmatch(request_id) for request_id in ids), ids
    assert len(set(ids)) == len(ids)
    assert _access_ids(caplog) == ids


@pytest.mark.parametrize(
    "inbound",
    ["frontend-7f3a", "A.b_c-9", "0" * 64, "550e8400-e29b-41d4-a716-446655440000"],
)
async def test_a_well_formed_inbound_id_is_kept(
    client: httpx.AsyncClient,
    org_b_auth: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    inbound: str,
) -> None:
    with caplog.at_level(logging.INFO, logger="gql_badges.access"):
        answer = await client.get(
            CUSTOMER + SWATI.key, headers=org_b_auth | {"X-Request-Id": inbound}
        )
    assert answer.headers["x-request-id"] == inbound
    assert _access_ids(caplog) == [inbound]


@pytest.mark.parametrize(
    "inbound",
    ["", "has space", "0" * 65, "semi;colon", "quote'd", "a,b", "tab\there", "caf\u00e9"],
)
async def test_anything_else_is_replaced(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, inbound: str
) -> None:
    with caplog.at_level(logging.INFO, logger="gql_badges.access"):
        answer = await client.get("/healthz", headers=[(b"X-Request-Id", inbound.encode("utf-8"))])
    replaced = answer.headers["x-request-id"]
    assert FRESH.fullmatch(replaced), replaced
    assert _access_ids(caplog) == [replaced]


async def test_the_id_of_an_unexpected_error_is_the_header_and_the_log_line(
    services: Services, org_b_auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    broken = dataclasses.replace(services, repository=ExplodingRepository(services.database))
    transport = httpx.ASGITransport(
        app=create_app(broken.settings, services=broken), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        with caplog.at_level(logging.INFO):
            rest = await client.get(CUSTOMER + SWATI.key, headers=org_b_auth)
            graphql = await client.post("/graphql", json={"query": QUERY}, headers=org_b_auth)
            kept = await client.get(
                CUSTOMER + SWATI.key, headers=org_b_auth | {"X-Request-Id": "mine-1"}
            )
    assert rest.status_code == 500 and kept.status_code == 500
    assert rest.json()["errors"][0]["reference"] == rest.headers["x-request-id"]
    assert kept.json()["errors"][0]["reference"] == kept.headers["x-request-id"] == "mine-1"
    [error] = graphql.json()["errors"]
    assert error["extensions"]["requestId"] == graphql.headers["x-request-id"]
    ids = [rest.headers["x-request-id"], graphql.headers["x-request-id"], "mine-1"]
    assert _access_ids(caplog) == ids
    for request_id in ids:  # the traceback is logged under the same id
        assert f"unexpected error (request {request_id})" in caplog.text


async def test_with_tracing_on_the_id_is_the_trace_id(
    services: Services,
    org_b_auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with OTLPReceiver() as receiver:
        monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        settings = make_settings(services.settings.driver, database=services.settings.database)
        own = Services.create(settings, services.database.uri)
        assert own.tracing is not None
        try:
            async with asgi_client(create_app(settings, services=own)) as client:
                with caplog.at_level(logging.INFO, logger="gql_badges.access"):
                    traceparent = {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
                    continued = await client.post(
                        "/graphql", json={"query": QUERY}, headers=org_b_auth | traceparent
                    )
                    fresh = await client.get(CUSTOMER + SWATI.key, headers=org_b_auth)
        finally:
            await own.database.close()
            own.tracing.shutdown()  # flushes the spans to the receiver

    assert continued.headers["x-request-id"] == TRACE_ID
    started = fresh.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", started)
    traces = {span.trace_id.hex() for span in receiver.spans}
    assert {TRACE_ID, started} <= traces
    assert _access_ids(caplog) == [TRACE_ID, started]
