"""Errors say how to put them right, in a field legacy callers ignore: REST `details` beside the
unchanged legacy `message`, GraphQL `extensions.details`."""

from __future__ import annotations

from enum import Enum
from typing import Any

import httpx
import pytest

from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.enums import BadgeType, ManagementSortOn, Owner
from tests.support import (
    CUSTOMER,
    MANAGEMENT,
    basic_auth,
    basic_header,
    get,
    graphql,
    graphql_answer,
)

pytestmark = pytest.mark.usefixtures("demo")


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None
    (error,) = body["errors"]
    found: dict[str, Any] = error
    return found


@pytest.mark.parametrize(
    ("path", "params", "enum"),
    [
        (CUSTOMER, {"badgeType": "EARNT"}, BadgeType),
        (MANAGEMENT, {"sortOn": "RANK"}, ManagementSortOn),
        (MANAGEMENT, {"owner": "loyalty promotion"}, Owner),
    ],
)
async def test_a_bad_enum_value_lists_the_allowed_ones(
    client: httpx.AsyncClient,
    org_b_auth: dict[str, str],
    path: str,
    params: dict[str, str],
    enum: type[Enum],
) -> None:
    error = only_error(await get(client, path + SWATI.key, org_b_auth, params, status=400))
    (reference,) = params
    assert (error["code"], error["message"], error["reference"]) == (
        400,
        "Invalid enum value",
        reference,
    )
    assert error["details"].startswith("allowed values: ")
    assert all(member.value in error["details"] for member in enum)


@pytest.mark.parametrize(("path", "name"), [(CUSTOMER, "limit"), (MANAGEMENT, "size")])
async def test_a_page_over_the_largest_names_the_largest(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], path: str, name: str
) -> None:
    error = only_error(await get(client, path + SWATI.key, org_b_auth, {name: "500"}, status=400))
    assert (error["message"], error["reference"]) == ("Invalid value", name)
    assert error["details"] == f"{name} must be between 1 and 100 (100 is the largest page)"


async def test_bad_values_say_what_was_expected(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    cases = {
        "includeExpired": ({"includeExpired": "yes"}, "true or false"),
        "groupId": ({"groupId": "abc"}, "24 hex digits"),
        "limit": ({"limit": "ten"}, "whole number"),
    }
    for reference, (params, expected) in cases.items():
        error = only_error(await get(client, CUSTOMER + SWATI.key, org_b_auth, params, status=400))
        assert (error["message"], error["reference"]) == ("Invalid value", reference)
        assert expected in error["details"]
    error = only_error(await get(client, CUSTOMER + SWATI.email, org_b_auth, None, 400))
    assert error["reference"] == "customerId"
    assert "X-CAP-CUSTOMER-IDENTIFIER" in error["details"]


@pytest.mark.parametrize(
    "headers",
    [
        basic_auth(ORG_B_CLIENT.username, "wrong"),
        basic_auth("nobody", ORG_B_CLIENT.password),  # the same hint: no user enumeration
        # The usual mistake: the password itself where its MD5 belongs.
        basic_header(f"{ORG_B_CLIENT.username}:{ORG_B_CLIENT.password}"),
        basic_header("no-colon"),
    ],
)
async def test_a_basic_failure_hints_at_the_md5(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get(CUSTOMER + SWATI.key, headers=headers)
    assert response.status_code == 401
    error = only_error(response.json())
    assert (error["code"], error["message"]) == (401, "Unauthorized")
    assert "MD5 hex digest of the password" in error["details"]
    body = await graphql_answer(
        client, '{ customerBadges(customer: {id: "1"}) { badges { name } } }', headers, 401
    )
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "UNAUTHENTICATED"
    assert "MD5 hex digest of the password" in extensions["details"]


async def test_no_credentials_says_what_to_send(client: httpx.AsyncClient) -> None:
    error = only_error((await client.get(CUSTOMER + SWATI.key)).json())
    assert error["message"] == "Unauthorized"
    assert (
        "Authorization: Basic" in error["details"] and "X-CAP-API-OAUTH-TOKEN" in error["details"]
    )


async def test_an_error_with_nothing_to_add_keeps_the_legacy_shape(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    error = only_error(await get(client, CUSTOMER + "999", org_b_auth, status=404))
    assert error == {
        "code": 1026,
        "message": "Customer with the specified ID is not found",
        "reference": None,
    }


async def test_graphql_errors_carry_the_same_hints(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    literal = await graphql(
        client,
        f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}, badgeType: EARNT) '
        "{ badges { name } } }",
        org_b_auth,
    )
    details = literal["errors"][0]["extensions"]["details"]
    assert details == "allowed values: " + ", ".join(member.value for member in BadgeType)

    variable = await graphql(
        client,
        f'query($t: BadgeType) {{ customerBadges(customer: {{id: "{SWATI.key}"}}, badgeType: $t)'
        " { badges { name } } }",
        org_b_auth,
        t="EARNT",
    )
    extensions = variable["errors"][0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT" and extensions["details"] == details

    page = await graphql(
        client,
        f'{{ badgeManagement(customer: {{id: "{SWATI.key}"}}, size: 101) '
        "{ customerBadges { name } } }",
        org_b_auth,
    )
    (error,) = page["errors"]
    assert error["message"] == "Invalid value"
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["reference"] == "size"
    assert (
        error["extensions"]["details"] == "size must be between 1 and 100 (100 is the largest page)"
    )
