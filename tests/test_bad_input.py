"""Bad input gets a clear error naming what is wrong, never a 500 or a Python message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gql_badges.app import create_app
from gql_badges.demo.handles import SWATI
from gql_badges.services import Services
from tests.support import CUSTOMER, asgi_client, graphql, make_settings

pytestmark = pytest.mark.usefixtures("demo")

HUGE_ID = "9" * 4301  # past Python's limit on converting digit strings to int
ID_QUERY = "query($id: ID!) { customerBadges(customer: {id: $id}) { pagination { total } } }"


@pytest.mark.parametrize("customer_id", [HUGE_ID, str(2**63), "1" * 20])
async def test_a_customer_id_outside_int64_is_bad_input(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], customer_id: str
) -> None:
    body = await graphql(client, ID_QUERY, org_b_auth, id=customer_id)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    response = await client.get(f"{CUSTOMER}{customer_id}", headers=org_b_auth)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert (error["code"], error["message"], error["reference"]) == (
        400,
        "Invalid value",
        "customerId",
    )


@pytest.mark.parametrize("value", ["2024-13-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "soon", 7])
async def test_a_bad_datetime_variable_says_what_is_expected(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], value: object
) -> None:
    query = f"""query($d: DateTime) {{
      badgeManagement(customer: {{id: "{SWATI.key}"}}, startOn: $d) {{
        pagination {{ total }} }} }}"""
    response = await client.post(
        "/graphql", json={"query": query, "variables": {"d": value}}, headers=org_b_auth
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "ISO-8601" in error["message"]
    assert "month must be" not in error["message"] and "Overflow" not in error["message"]


async def errors_of(app: Starlette, body: dict[str, Any]) -> list[str]:
    async with asgi_client(app) as client:
        response = await client.post("/graphql", json=body)
    return [error["message"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ customerBadge }", {}),  # with introspection on: "Did you mean 'customerBadges'?"
        ('{ customerBadges(customer: {id: "1"}, badgeType: EARNEDX) { __typename } }', {}),
        ('{ customerBadges(customer: {id: "1"}, limt: 5) { __typename } }', {}),
        ("query($t: BadgeTyp) { __typename }", {}),
        (
            'query($t: BadgeType) { customerBadges(customer: {id: "1"}, badgeType: $t) '
            "{ __typename } }",
            {"t": "EARNEDX"},
        ),
    ],
)
async def test_no_suggestions_leak_the_schema_with_introspection_off(
    services: Services, query: str, variables: dict[str, Any]
) -> None:
    body = {"query": query, "variables": variables}
    hidden = make_settings(services.settings.driver, graphql_introspection=False)
    messages = await errors_of(create_app(hidden, services=services), body)
    assert messages and not any("Did you mean" in message for message in messages), messages
    shown = await errors_of(create_app(services.settings, services=services), body)
    assert any("Did you mean" in message for message in shown), "the probe proves nothing"
