"""Every row of the error table (docs/semantics.md), over REST and the same cases over GraphQL."""

from __future__ import annotations

import base64

import httpx
import pytest

from gql_badges.app import Services, create_app
from tests.conftest import basic_auth, graphql, make_settings
from tests.rest.conftest import CUSTOMER, MANAGEMENT, get

pytestmark = pytest.mark.usefixtures("demo")

SWATI = "62090013"


def error_of(body: dict) -> tuple[int, str, str | None]:
    assert body["data"] is None and body["warnings"] == []
    (error,) = body["errors"]
    return error["code"], error["message"], error["reference"]


@pytest.mark.parametrize("path", [CUSTOMER, MANAGEMENT])
@pytest.mark.parametrize(
    ("customer", "headers"),
    [
        ("999", {}),
        ("62407752", {}),  # Tom exists, in org A: the caller is org B
        ("tom.sawyer@example.com", {"X-CAP-CUSTOMER-IDENTIFIER": "email"}),
        ("nobody@example.com", {"X-CAP-CUSTOMER-IDENTIFIER": "email"}),
        ("CARD-0001", {"X-CAP-CUSTOMER-IDENTIFIER": "cardNumber"}),
    ],
)
async def test_customer_not_found(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], path, customer, headers
) -> None:
    body = await get(client, path + customer, org_b_auth | headers, status=404)
    assert error_of(body) == (1026, "Customer with the specified ID is not found", None)


@pytest.mark.parametrize("identifier", ["phone", "id", "customerId", "", "e-mail"])
async def test_bad_identifier_type(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], identifier
) -> None:
    headers = org_b_auth | {"X-CAP-CUSTOMER-IDENTIFIER": identifier}
    body = await get(client, MANAGEMENT + "swati.jain@example.com", headers, status=400)
    code, message, _ = error_of(body)
    assert (code, message) == (1028, "Invalid Customer Identifier type")


@pytest.mark.parametrize(
    ("path", "params", "reference"),
    [
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
    ],
)
async def test_bad_enum_value(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], path, params, reference
) -> None:
    body = await get(client, path + SWATI, org_b_auth, params, status=400)
    assert error_of(body) == (400, "Invalid enum value", reference)


@pytest.mark.parametrize(
    ("path", "params", "reference"),
    [
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
    ],
)
async def test_bad_value(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], path, params, reference
) -> None:
    body = await get(client, path + SWATI, org_b_auth, params, status=400)
    assert error_of(body) == (400, "Invalid value", reference)


@pytest.mark.parametrize("customer", ["abc", "-5", "1.0", "99999999999999999999", " "])
async def test_bad_numeric_customer_id(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], customer
) -> None:
    body = await get(client, CUSTOMER + customer, org_b_auth, status=400)
    assert error_of(body) == (400, "Invalid value", "customerId")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth("demo.100606", "wrong"),
        basic_auth("nobody", "demo-password-100606"),
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer x.y.z"},
        {"X-CAP-API-OAUTH-TOKEN": "garbage"},
    ],
)
async def test_unauthorized(client: httpx.AsyncClient, headers) -> None:
    response = await client.get(CUSTOMER + SWATI, headers=headers)
    assert response.status_code == 401
    assert error_of(response.json()) == (401, "Unauthorized", None)
    assert "Basic" in response.headers["WWW-Authenticate"]


async def test_authentication_comes_before_parameter_checks(client: httpx.AsyncClient) -> None:
    response = await client.get(CUSTOMER + "not-a-number", params={"limit": "x"})
    assert response.status_code == 401


async def test_inactive_client_is_forbidden(client: httpx.AsyncClient) -> None:
    headers = basic_auth("demo.inactive", "demo-password-inactive")
    body = await get(client, CUSTOMER + SWATI, headers, status=403)
    assert error_of(body) == (4000, "Not authorized. Access is denied!", None)


async def test_unknown_path_is_a_json_404(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    body = await get(client, "/api_gateway/v1/badges/other/1", org_b_auth, status=404)
    assert error_of(body)[0] == 404


async def _app_client(services: Services) -> httpx.AsyncClient:
    app = create_app(services.settings, services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def test_rate_limited_client(services: Services, org_b_auth: dict[str, str]) -> None:
    """A client over its bucket gets 429 with Retry-After; other clients are unaffected."""
    settings = make_settings(
        services.settings.driver,
        database=services.settings.database,
        rate_limit_per_second=0.01,
        rate_limit_burst=3,
    )
    limited = Services.create(settings, services.database.uri)
    try:
        async with await _app_client(limited) as client:
            for _ in range(3):
                await get(client, CUSTOMER + SWATI, org_b_auth)
            response = await client.get(CUSTOMER + SWATI, headers=org_b_auth)
            assert response.status_code == 429
            assert error_of(response.json()) == (429, "Too many requests", None)
            assert 1 <= int(response.headers["Retry-After"]) <= 100
            body = await graphql(
                client, '{ customerBadges(customer: {id: "62090013"}) { badges { name } } }',
                org_b_auth,
            )  # fmt: skip
            extensions = body["errors"][0]["extensions"]
            assert extensions["code"] == "RATE_LIMITED" and extensions["retryAfterSeconds"] >= 1
            other = basic_auth("demo.100458", "demo-password-100458")
            await get(client, CUSTOMER + "62407752", other)
    finally:
        await limited.database.close()


async def test_database_unreachable_is_503(services: Services, org_b_auth: dict[str, str]) -> None:
    """Nothing listens on the port: 503 within the server-selection timeout, GraphQL too."""
    settings = make_settings(services.settings.driver, server_selection_timeout_ms=300)
    down = Services.create(settings, "mongodb://127.0.0.1:9/?directConnection=true")
    try:
        async with await _app_client(down) as client:
            response = await client.get(CUSTOMER + SWATI, headers=org_b_auth)
            assert response.status_code == 503
            assert error_of(response.json()) == (503, "Service unavailable", None)
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            body = await graphql(
                client, '{ customerBadges(customer: {id: "62090013"}) { badges { name } } }',
                org_b_auth,
            )  # fmt: skip
            assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    finally:
        await down.database.close()
