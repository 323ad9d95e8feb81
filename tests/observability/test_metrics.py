"""/metrics through the real app: the series move by what was sent, with bounded labels.

The MongoDB command counter is checked against a TCP proxy between the gateway and the
database, which counts the commands on the wire independently of the driver's monitoring.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gql_badges.app import create_app
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.graphql.persisted import sha256_hex
from gql_badges.services import Services
from tests.support import CUSTOMER, asgi_client, free_port, make_settings, rate_limited
from tests.support.wire_proxy import CountingProxy

pytestmark = pytest.mark.usefixtures("demo")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
CUSTOMER_ROUTE = f"{CUSTOMER}{{customerId}}"
QUERY = (
    f'query Earned {{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}'
)
# Thirteen fields deep (not a real nesting: the depth limit refuses it before validation).
TOO_DEEP = (
    '{ customerBadges(customer: {id: "1"}) { badges { '
    + "group { " * 11
    + "name"
    + " }" * 13
    + " }"
)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


@pytest.fixture
async def proxied(services: Services) -> AsyncIterator[tuple[httpx.AsyncClient, CountingProxy]]:
    """An app with its own client (and metrics) reaching the session's database via the proxy."""
    proxy = await CountingProxy(services.database.uri).start()
    settings = make_settings(services.settings.driver, database=services.settings.database)
    own = Services.create(settings, proxy.uri)
    app = create_app(settings, services=own)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client, proxy
    await proxy.stop()  # first: motor's close would wait for its monitor's long poll
    await own.database.close()


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def test_counters_move_by_what_was_sent(
    proxied: tuple[httpx.AsyncClient, CountingProxy], org_b_auth: dict[str, str]
) -> None:
    client, proxy = proxied
    rest_path = f"{CUSTOMER}{SWATI.key}"
    # Warm up: the client record is cached and the connections are open after these.
    assert (await client.post("/graphql", json={"query": QUERY}, headers=org_b_auth)).is_success
    assert (await client.get(rest_path, headers=org_b_auth)).is_success
    before = await scrape(client)
    proxy.commands.clear()

    n = 4
    for _ in range(n):
        response = await client.post("/graphql", json={"query": QUERY}, headers=org_b_auth)
        assert response.json()["data"]["customerBadges"]["badges"]
        assert (await client.get(rest_path, headers=org_b_auth)).status_code == 200
    refused = await client.post("/graphql", json={"query": TOO_DEEP}, headers=org_b_auth)
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    wrong = {"Authorization": "Basic ZGVtby4xMDA2MDY6bm90LXRoZS1wYXNzd29yZA=="}
    assert (await client.get(rest_path, headers=wrong)).status_code == 401
    bad_secret = {"key": ORG_B_CLIENT.key, "secret": "not-the-secret"}
    assert (await client.post("/v3/oauth/token/generate", json=bad_secret)).status_code == 401
    assert (await client.get(rest_path)).status_code == 401
    for path in ("/no/such/path", "/another/one"):
        assert (await client.get(path)).status_code == 404
    sent_commands = len(proxy.commands)
    after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "gql_badges_http_requests_total"
    assert moved(requests, route="/graphql", method="POST", status="200") == n + 1
    assert moved(requests, route=CUSTOMER_ROUTE, method="GET", status="200") == n
    assert moved(requests, route=CUSTOMER_ROUTE, method="GET", status="401") == 2
    assert moved(requests, route="unmatched", method="GET", status="404") == 2
    assert not any("/no/such" in str(labels) for (_, labels) in after)
    histogram = "gql_badges_http_request_duration_seconds_count"
    assert moved(histogram, route="/graphql", method="POST") == n + 1

    operations = "gql_badges_graphql_operations_total"
    # "Earned" is no persisted operation: it is counted, but not under a client-chosen name.
    assert moved(operations, operation="other", outcome="ok") == n
    assert moved(operations, operation="anonymous", outcome="QUERY_TOO_COMPLEX") == 1
    assert moved("gql_badges_query_refused_total", limit="maxDepth") == 1
    failures = "gql_badges_auth_failures_total"
    assert moved(failures, scheme="basic", reason="wrong_secret") == 1
    assert moved(failures, scheme="client_secret", reason="wrong_secret") == 1
    assert moved(failures, scheme="none", reason="missing") == 1

    commands = total(after, "gql_badges_mongodb_commands_total") - total(
        before, "gql_badges_mongodb_commands_total"
    )
    assert sent_commands >= 3 * n  # three round trips per badge request
    assert commands == sent_commands
    assert moved("gql_badges_mongodb_commands_total", collection="customers", command="aggregate")
    durations = total(after, "gql_badges_mongodb_command_duration_seconds_count") - total(
        before, "gql_badges_mongodb_command_duration_seconds_count"
    )
    assert durations == sent_commands

    driver = proxied_driver(after)
    assert driver in {"motor", "pymongo"}
    assert value(after, "gql_badges_database_up") == 1


def proxied_driver(samples: Samples) -> str:
    for (name, labels), v in samples.items():
        if name == "gql_badges_build_info" and v == 1:
            return dict(labels)["driver"]
    raise AssertionError("no gql_badges_build_info")


async def test_rate_limited_requests_are_counted(
    services: Services, org_b_auth: dict[str, str]
) -> None:
    own = rate_limited(services, burst=2)
    app = create_app(own.settings, services=own)
    async with asgi_client(app) as client:
        statuses = [
            (await client.get(f"{CUSTOMER}{SWATI.key}", headers=org_b_auth)) for _ in range(4)
        ]
        assert [r.status_code for r in statuses] == [200, 200, 429, 429]
        body = await client.post("/graphql", json={"query": QUERY}, headers=org_b_auth)
        assert body.status_code == 429
        assert body.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        samples = await scrape(client)
    await own.database.close()
    assert value(samples, "gql_badges_rate_limited_total") == 3
    # Refused before it ran: the request is counted (429), no GraphQL operation is.
    ops = "gql_badges_graphql_operations_total"
    assert value(samples, ops, operation="other", outcome="RATE_LIMITED") == 0


async def test_metrics_off_and_on_a_listener_of_their_own(services: Services) -> None:
    off = make_settings(services.settings.driver, metrics=False)
    app = create_app(off, services=Services.create(off, services.database.uri))
    async with asgi_client(app) as client:
        assert (await client.get("/metrics")).status_code == 404
    await app.state.services.database.close()

    port = free_port()
    apart = make_settings(services.settings.driver, metrics_address=f"127.0.0.1:{port}")
    app = create_app(apart, services.database.uri)
    async with app.router.lifespan_context(app):
        async with asgi_client(app) as client:
            assert (await client.get("/metrics")).status_code == 404
            assert (await client.get("/healthz")).status_code == 200
        async with httpx.AsyncClient() as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{port}/metrics")
        samples = parse(scraped.text)
        assert (
            value(
                samples,
                "gql_badges_http_requests_total",
                route="/healthz",
                method="GET",
                status="200",
            )
            == 1
        )
        assert (
            value(
                samples,
                "gql_badges_http_requests_total",
                route="unmatched",
                method="GET",
                status="404",
            )
            == 1
        )
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as scraper:
            await scraper.get(f"http://127.0.0.1:{port}/metrics")


async def test_persisted_query_refusals_are_counted_as_operations(
    services: Services, org_b_auth: dict[str, str]
) -> None:
    """An APQ miss (a client's first step) and the other persisted-query refusals are GraphQL
    operations like any other: counted under their outcome, so a hit ratio can be read."""
    query = 'query NotSafelisted { customerBadges(customer: {id: "%s"}) { pagination { total } } }'
    query %= SWATI.key
    app = create_app(services.settings, services=services)
    async with asgi_client(app) as client:

        async def send(body: dict[str, object]) -> object:
            answer = (await client.post("/graphql", json=body, headers=org_b_auth)).json()
            return answer["errors"][0]["extensions"]["code"] if "errors" in answer else None

        def apq(digest: str) -> dict[str, object]:
            return {"persistedQuery": {"version": 1, "sha256Hash": digest}}

        before = await scrape(client)
        unknown = sha256_hex(query + " ")
        assert await send({"extensions": apq(unknown)}) == "PERSISTED_QUERY_NOT_FOUND"
        assert await send({"query": query, "extensions": apq(unknown)}) == "BAD_REQUEST"
        assert await send({"query": query, "extensions": apq(sha256_hex(query))}) is None
        after = await scrape(client)

    def moved(outcome: str, operation: str = "anonymous") -> float:
        labels = {"operation": operation, "outcome": outcome}
        ops = "gql_badges_graphql_operations_total"
        return value(after, ops, **labels) - value(before, ops, **labels)

    assert moved("PERSISTED_QUERY_NOT_FOUND") == 1
    assert moved("BAD_REQUEST") == 1
    assert moved("ok", operation="other") == 1
