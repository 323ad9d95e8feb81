"""Every row of the error table (docs/semantics.md), over REST and the same cases over GraphQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.demo.handles import INACTIVE_CLIENT, ORG_A_CLIENT, ORG_B_CLIENT, SWATI, TOM
from gql_badges.services import Services
from tests.support import (
    CUSTOMER,
    MANAGEMENT,
    asgi_client,
    basic_auth,
    basic_header,
    get,
    graphql_answer,
    make_settings,
    rate_limited,
)

pytestmark = pytest.mark.usefixtures("demo")


def error_of(body: dict[str, Any]) -> tuple[int, str, str | None]:
    assert body["data"] is None and body["warnings"] == []
    (error,) = body["errors"]
    return error["code"], error["message"], error["reference"]


@pytest.mark.parametrize("path", [CUSTOMER, MANAGEMENT])
@pytest.mark.parametrize(
    ("customer", "headers"),
    [
        ("999", {}),
        (TOM.key, {}),  # Tom exists, in org A: the caller is org B
        (TOM.email, {"X-CAP-CUSTOMER-IDENTIFIER": "email"}),
        ("nobody@example.com", {"X-CAP-CUSTOMER-IDENTIFIER": "email"}),
        ("CARD-0001", {"X-CAP-CUSTOMER-IDENTIFIER": "cardNumber"}),
    ],
)
async def test_customer_not_found(
    client: httpx.AsyncClient,
    org_b_auth: dict[str, str],
    path: str,
    customer: str,
    headers: dict[str, str],
) -> None:
    body = await get(client, path + customer, org_b_auth | headers, status=404)
    assert error_of(body) == (1026, "Customer with the specified ID is not found", None)


@pytest.mark.parametrize("identifier", ["phone", "id", "customerId", "", "e-mail"])
async def test_bad_identifier_type(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], identifier: str
) -> None:
    headers = org_b_auth | {"X-CAP-CUSTOMER-IDENTIFIER": identifier}
    body = await get(client, MANAGEMENT + SWATI.email, headers, status=400)
    code, message, _ = error_of(body)
    assert (code, message) == (1028, "Invalid Customer Identifier type")


# (path, parameters, the parameter named in `reference`)
BAD_ENUM_VALUES = [
    (CUSTOMER, {"badgeType": "EARNT"}, "badgeType"),
    (CUSTOMER, {"sortOn": "EXPIRES_ON"}, "sortOn"),  # a management-only sort
    (MANAGEMENT, {"sortOn": "RANK"}, "sortOn"),  # a customer-only sort
    (MANAGEMENT, {"order": "UP"}, "order"),
    (MANAGEMENT, {"owner": "Nobody"}, "owner"),
    (MANAGEMENT, {"claimedBy": ""}, "claimedBy"),
    (MANAGEMENT, {"action": "ACTIVE"}, "action"),
    (MANAGEMENT, {"badgeStatus": "LIVE!"}, "badgeStatus"),
    (
        MANAGEMENT,
        {"startOn": "2024-01-01T00:00:00Z", "startOnOperator": "EQ"},
        "startOnOperator",
    ),
]
BAD_VALUES = [
    (CUSTOMER, {"limit": "ten"}, "limit"),
    (CUSTOMER, {"limit": "0"}, "limit"),
    (CUSTOMER, {"limit": "101"}, "limit"),
    (CUSTOMER, {"limit": "1.5"}, "limit"),
    (CUSTOMER, {"page": "-1"}, "page"),
    (CUSTOMER, {"page": "9" * 40}, "page"),
    (CUSTOMER, {"includeExpired": "yes"}, "includeExpired"),
    (CUSTOMER, {"groupId": "not-an-object-id"}, "groupId"),
    (MANAGEMENT, {"size": "1000"}, "size"),
    (MANAGEMENT, {"startOn": "yesterday"}, "startOn"),
    (MANAGEMENT, {"expiresOn": "2024-13-01"}, "expiresOn"),
    (MANAGEMENT, {"expiresOnOperator": "LESS_THAN"}, "expiresOnOperator"),  # no date
    (MANAGEMENT, {"name": "a\x00b"}, "name"),
    (MANAGEMENT, {"name": "x" * 1000}, "name"),
    (MANAGEMENT, [("page", "0"), ("Page", "1")], "page"),
]


@pytest.mark.parametrize(
    ("message", "path", "params", "reference"),
    [("Invalid enum value", *case) for case in BAD_ENUM_VALUES]
    + [("Invalid value", *case) for case in BAD_VALUES],
)
async def test_bad_parameter(
    client: httpx.AsyncClient,
    org_b_auth: dict[str, str],
    message: str,
    path: str,
    params: dict[str, str] | list[tuple[str, str]],
    reference: str,
) -> None:
    body = await get(client, path + SWATI.key, org_b_auth, params, status=400)
    assert error_of(body) == (400, message, reference)


@pytest.mark.parametrize("customer", ["abc", "-5", "1.0", "99999999999999999999", " "])
async def test_bad_numeric_customer_id(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], customer: str
) -> None:
    body = await get(client, CUSTOMER + customer, org_b_auth, status=400)
    assert error_of(body) == (400, "Invalid value", "customerId")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth(ORG_B_CLIENT.username, "wrong"),
        basic_auth("nobody", ORG_B_CLIENT.password),
        basic_header("no-colon"),
        {"Authorization": "Bearer x.y.z"},
        {"X-CAP-API-OAUTH-TOKEN": "garbage"},
    ],
)
async def test_unauthorized(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get(CUSTOMER + SWATI.key, headers=headers)
    assert response.status_code == 401
    assert error_of(response.json()) == (401, "Unauthorized", None)
    assert "Basic" in response.headers["WWW-Authenticate"]


async def test_authentication_comes_before_parameter_checks(client: httpx.AsyncClient) -> None:
    response = await client.get(CUSTOMER + "not-a-number", params={"limit": "x"})
    assert response.status_code == 401


async def test_inactive_client_is_forbidden(client: httpx.AsyncClient) -> None:
    headers = basic_auth(INACTIVE_CLIENT.username, INACTIVE_CLIENT.password)
    body = await get(client, CUSTOMER + SWATI.key, headers, status=403)
    assert error_of(body) == (4000, "Not authorized. Access is denied!", None)


async def test_unknown_path_is_a_json_404(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    body = await get(client, "/api_gateway/v1/badges/other/1", org_b_auth, status=404)
    assert error_of(body)[0] == 404


async def test_rate_limited_client(services: Services, org_b_auth: dict[str, str]) -> None:
    """A client over its bucket gets 429 with Retry-After; other clients are unaffected."""
    limited = rate_limited(services, burst=3)
    try:
        async with asgi_client(create_app(limited.settings, services=limited)) as client:
            for _ in range(3):
                await get(client, CUSTOMER + SWATI.key, org_b_auth)
            response = await client.get(CUSTOMER + SWATI.key, headers=org_b_auth)
            assert response.status_code == 429
            assert error_of(response.json()) == (429, "Too many requests", None)
            assert 1 <= int(response.headers["Retry-After"]) <= 100
            body = await graphql_answer(
                client,
                f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}',
                org_b_auth,
                429,
            )
            extensions = body["errors"][0]["extensions"]
            assert extensions["code"] == "RATE_LIMITED" and extensions["retryAfterSeconds"] >= 1
            other = basic_auth(*ORG_A_CLIENT.credentials)
            await get(client, CUSTOMER + TOM.key, other)
    finally:
        await limited.database.close()


async def test_database_unreachable_is_503(services: Services, org_b_auth: dict[str, str]) -> None:
    """Nothing listens on the port: 503 within the server-selection timeout, GraphQL too."""
    settings = make_settings(services.settings.driver, server_selection_timeout_ms=300)
    down = Services.create(settings, "mongodb://127.0.0.1:9/?directConnection=true")
    try:
        async with asgi_client(create_app(down.settings, services=down)) as client:
            response = await client.get(CUSTOMER + SWATI.key, headers=org_b_auth)
            assert response.status_code == 503
            assert error_of(response.json()) == (503, "Service unavailable", None)
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            body = await graphql_answer(
                client,
                f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}',
                org_b_auth,
                503,
            )
            assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        await down.database.close()
