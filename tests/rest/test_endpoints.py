"""The two legacy URIs on the demo data: parameters, identifiers, rendering (docs/semantics.md)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gql_badges.demo.handles import BECKY, BIRTHDAY_BADGE, GROUP_B, HUCK, ORG_B_CLIENT, SWATI, TOM
from gql_badges.rest.routes import CUSTOMER_PATH
from gql_badges.services import Services
from tests.support import CUSTOMER, MANAGEMENT, get

pytestmark = pytest.mark.usefixtures("demo")


def names(body: dict[str, Any], list_name: str = "badges") -> list[str]:
    return [item["name"] for item in body["data"][list_name]]


async def test_customer_default_and_badge_types(
    client: httpx.AsyncClient, org_a_auth: dict[str, str]
) -> None:
    default = await get(client, CUSTOMER + TOM.key, org_a_auth, {"limit": 100})
    assert sorted(names(default)) == sorted(
        ["SH Specific Time", "SH 3 Redemption", "SH Specific Date", "SH 3 Coke "]
    )
    earned = await get(client, CUSTOMER + TOM.key, org_a_auth, {"badgeType": "EARNED"})
    assert sorted(names(earned)) == ["Furrye12", "string9"]
    with_expired = await get(
        client, CUSTOMER + TOM.key, org_a_auth, {"badgeType": "EARNED", "includeExpired": "TRUE"}
    )
    assert sorted(names(with_expired)) == ["Furrye12", "Payment Mode Badge", "string9"]


async def test_parameter_names_and_enum_values_ignore_case(
    client: httpx.AsyncClient, org_a_auth: dict[str, str]
) -> None:
    exact = await get(
        client, CUSTOMER + HUCK.key, org_a_auth, {"sortOn": "RANK", "limit": 3, "page": 1}
    )
    loose = await get(
        client, CUSTOMER + HUCK.key, org_a_auth, {"SORTON": "rank", "Limit": "3", "PAGE": 1}
    )
    assert loose == exact
    assert exact["data"]["pagination"] == {"page": 1, "size": 3, "total": 7, "totalPages": 3}


async def test_unknown_parameters_are_ignored_and_reported(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    plain = await get(client, MANAGEMENT + SWATI.key, org_b_auth, {"badgeType": "EARNED"})
    noisy = await get(
        client,
        MANAGEMENT + SWATI.key,
        org_b_auth,
        [("badgeType", "EARNED"), ("colour", "red"), ("limit", "1")],  # limit: customer only
    )
    assert noisy["data"] == plain["data"]
    assert [w["reference"] for w in noisy["warnings"]] == ["colour", "limit"]
    assert all(isinstance(w["message"], str) for w in noisy["warnings"])
    assert plain["warnings"] == []


@pytest.mark.parametrize(
    ("identifier", "value"),
    [
        ("email", SWATI.email),
        ("EMAIL", SWATI.email),
        ("mobile", "919999000002"),
        ("externalid", SWATI.external_id),
        ("externalId", SWATI.external_id),
        ("cardNumber", SWATI.card_numbers[0]),
        ("CARDNUMBER", SWATI.card_numbers[1]),
    ],
)
async def test_identifier_header(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], identifier: str, value: str
) -> None:
    by_id = await get(client, MANAGEMENT + SWATI.key, org_b_auth, {"badgeType": "EARNED"})
    headers = org_b_auth | {"X-CAP-CUSTOMER-IDENTIFIER": identifier}
    by_identifier = await get(client, MANAGEMENT + value, headers, {"badgeType": "EARNED"})
    assert by_identifier["data"] == by_id["data"]


async def test_management_filters_sort_and_order(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    params = {"badgeType": "EARNED", "sortOn": "last_earned_on_date", "order": "asc"}
    body = await get(client, MANAGEMENT + SWATI.key, org_b_auth, params)
    earned_on = [item["lastEarnedOn"] for item in body["data"]["customerBadges"]]
    assert earned_on == sorted(earned_on) and len(earned_on) == 4
    owners = await get(
        client,
        MANAGEMENT + SWATI.key,
        org_b_auth,
        {"badgeType": "EARNED", "owner": "loyalty_promotion", "name": "BADGE"},
    )
    assert sorted(names(owners, "customerBadges")) == [
        "Badge Issue georgetesst",
        "demoBadgeName001",
    ]
    upcoming = await get(
        client,
        MANAGEMENT + SWATI.key,
        org_b_auth,
        {"badgeStatus": "UPCOMING", "startOn": "2000-01-01T00:00:00.000Z"},
    )
    assert names(upcoming, "customerBadges") == ["badge issual3"]


async def test_customer_item_rendering(
    client: httpx.AsyncClient, org_a_auth: dict[str, str], org_b_auth: dict[str, str]
) -> None:
    body = await get(
        client, CUSTOMER + SWATI.key, org_b_auth, {"badgeType": "EARNED", "limit": 100}
    )
    items = {item["name"]: item for item in body["data"]["badges"]}
    birthday = items["Birthday Badge"]
    assert birthday["badgeMetaId"] == str(BIRTHDAY_BADGE)
    assert birthday["badgeGroupId"] == str(GROUP_B)
    assert birthday["badgeGroupName"] == "2024 Badges"
    assert birthday["earnedCount"] == 1
    for field in ("startOn", "expiresOn", "lastEarnedOnDate", "lastEarnEventDate"):
        seconds, iso = birthday[field], birthday[field + "ISO"]
        assert isinstance(seconds, int | float)
        assert datetime.fromisoformat(iso) == datetime.fromtimestamp(seconds, UTC)
        assert iso.endswith("Z")
    asdfg = items["BADGE_ASDFG"]
    assert asdfg["badgeConstraints"][3] == {
        "constraintType": "BADGE_SEASONAL_WINDOW",
        "season": "WINTER",
    }
    tom = await get(
        client,
        CUSTOMER + TOM.key,
        org_a_auth,
        {"badgeType": "EXPIRED"},
    )
    (badge12,) = tom["data"]["badges"]
    window = badge12["customerConstraints"][0]
    assert isinstance(window["startDate"], int | float)
    assert datetime.fromisoformat(window["startDateISO"]).timestamp() == window["startDate"]


async def test_earn_dates_only_for_earned_badges(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    for path, list_name in ((CUSTOMER, "badges"), (MANAGEMENT, "customerBadges")):
        for badge_type in ("AVAILABLE_TO_ISSUE", "AVAILABLE", "EARNED", "EXPIRED"):
            body = await get(client, path + SWATI.key, org_b_auth, {"badgeType": badge_type})
            for item in body["data"][list_name]:
                count = item.get("earnedCount", item.get("earnCount")) or 0
                assert ("lastEarnedOnDate" in item) == (count >= 1), item["name"]
                assert ("lastEarnEventDate" in item) == (count >= 1), item["name"]


async def test_management_item_for_a_badge_without_record(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    body = await get(client, MANAGEMENT + BECKY.key, org_b_auth, {"badgeType": "AVAILABLE"})
    (birthday,) = [i for i in body["data"]["customerBadges"] if i["name"] == "Birthday Badge"]
    assert birthday["earnCount"] == 0
    assert birthday["lastEarnedOn"] is None and birthday["lastEarnedOnISO"] is None
    assert birthday["issueStatus"] is None
    assert birthday["badgeStatus"] == "LIVE"
    assert birthday["badgeType"] == "ISSUE_EARN"


@pytest.mark.parametrize(("page", "size"), [(0, 2), (1, 2), (2, 0), (9, 0)])
async def test_pagination_past_the_end(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], page: int, size: int
) -> None:
    body = await get(
        client, MANAGEMENT + SWATI.key, org_b_auth, {"badgeType": "EARNED", "size": 2, "page": page}
    )
    assert body["data"]["pagination"] == {"page": page, "size": size, "total": 4, "totalPages": 2}
    assert len(body["data"]["customerBadges"]) == size


async def test_oauth_token_works_on_rest(client: httpx.AsyncClient) -> None:
    token_body = await client.post(
        "/v3/oauth/token/generate", json={"key": ORG_B_CLIENT.key, "secret": ORG_B_CLIENT.secret}
    )
    token = token_body.json()["data"]["accessToken"]
    for headers in ({"X-CAP-API-OAUTH-TOKEN": token}, {"Authorization": f"Bearer {token}"}):
        body = await get(client, CUSTOMER + SWATI.key, headers, {"badgeType": "EARNED"})
        assert body["data"]["pagination"]["total"] == 4


async def test_largest_page_is_a_setting(services: Services, org_b_auth: dict[str, str]) -> None:
    """Pages are capped at 100; `GQL_BADGES_MAX_PAGE_SIZE` moves the cap (the benchmark)."""
    import httpx

    from gql_badges.app import create_app

    wider = services.settings.model_copy(update={"max_page_size": 1000})
    app = create_app(wider, services=dataclasses.replace(services, settings=wider))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        body = await get(client, CUSTOMER + SWATI.key, org_b_auth, {"limit": 1000})
        assert body["data"]["pagination"]["page"] == 0
        await get(client, CUSTOMER + SWATI.key, org_b_auth, {"limit": 1001}, status=400)
        document = (await client.get("/openapi.json")).json()
        limit = next(
            p for p in document["paths"][CUSTOMER_PATH]["get"]["parameters"] if p["name"] == "limit"
        )
        assert limit["schema"]["maximum"] == 1000
