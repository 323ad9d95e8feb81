"""`badgeManagement` end to end over HTTP: filters, sorts and item fields on demo data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gql_badges.demo.handles import BIRTHDAY_BADGE, GROUP_B_ARCHIVE, SWATI
from tests.support import graphql

pytestmark = pytest.mark.usefixtures("demo")


async def management(
    client: httpx.AsyncClient, headers: dict[str, str], arguments: str, fields: str = "name"
) -> dict[str, Any]:
    query = f"""{{ badgeManagement(customer: {{id: "{SWATI.key}"}}, size: 100, {arguments}) {{
        customerBadges {{ {fields} }} pagination {{ page size total totalPages }} }} }}"""
    body = await graphql(client, query, headers)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["badgeManagement"]
    return page


async def names(client: httpx.AsyncClient, headers: dict[str, str], arguments: str) -> list[str]:
    page = await management(client, headers, arguments)
    return [b["name"] for b in page["customerBadges"]]


EXPIRED_AUTOMATION = "Automation_Test_Badge_Issue_2023-12-11 13:20:36.812999"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            'badgeType: EARNED, name: "badge"',
            ["demoBadgeName001", "Birthday Badge", "BADGE_ASDFG", "Badge Issue georgetesst"],
        ),
        ('badgeType: EARNED, name: "BIRTH"', ["Birthday Badge"]),
        ('badgeType: EARNED, name: ".*"', []),
        (
            "badgeType: EARNED, owner: Loyalty_Promotion",
            ["Badge Issue georgetesst", "demoBadgeName001"],
        ),
        ("badgeType: EARNED, claimedBy: Loyalty_Promotion", ["demoBadgeName001"]),
        ("badgeType: EARNED, claimedBy: Goodwill_Module", []),
        ("badgeType: EARNED, badgeStatus: LIVE", None),
        ("badgeType: EARNED, includeExpired: true", None),
        ("badgeType: EXPIRED, action: ACTIVATED", ["demoName", EXPIRED_AUTOMATION]),
        ("badgeType: EXPIRED, action: DEACTIVATED", ["Summer 2023 Badge"]),
        ("badgeType: EXPIRED, action: DE_ACTIVATED", ["Summer 2023 Badge"]),
        (f'badgeType: EXPIRED, groupId: "{GROUP_B_ARCHIVE}"', ["Summer 2023 Badge"]),
        ("badgeType: AVAILABLE_TO_ISSUE, badgeStatus: UPCOMING", ["badge issual3"]),
    ],
)
async def test_filters(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], arguments: str, expected: list[str] | str
) -> None:
    if "includeExpired" in arguments:  # not an argument of badgeManagement
        query = (
            f'{{ badgeManagement(customer: {{id: "{SWATI.key}"}}, {arguments}) {{ __typename }} }}'
        )
        body = await graphql(client, query, org_b_auth)
        assert body["errors"][0]["message"].startswith("Unknown argument")
        return
    got = await names(client, org_b_auth, arguments)
    if expected is None:
        assert got and len(got) == len(set(got))
    else:
        assert sorted(got) == sorted(expected)


async def test_date_filters_and_operators(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    everything = await management(
        client, org_b_auth, "badgeType: EXPIRED", "name startsOn expiresOn"
    )
    items = everything["customerBadges"]
    assert len({b["expiresOn"] for b in items}) == len(items) >= 3
    cut = max(b["expiresOn"] for b in items)  # the latest expiry
    before = await names(client, org_b_auth, f'badgeType: EXPIRED, expiresOn: "{cut}"')
    after = await names(
        client,
        org_b_auth,
        f'badgeType: EXPIRED, expiresOn: "{cut}", expiresOnOperator: GREATER_THAN',
    )
    assert len(before) == len(items) - 1 and after == []  # strict in both directions
    start_cut = min(b["startsOn"] for b in items)
    later_start = await names(client, org_b_auth, f'badgeType: EXPIRED, startOn: "{start_cut}"')
    assert len(later_start) == len(items) - 1


async def test_operator_without_date_is_bad_input(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    query = f"""{{ badgeManagement(customer: {{id: "{SWATI.key}"}}, startOnOperator: LESS_THAN) {{
        pagination {{ total }} }} }}"""
    body = await graphql(client, query, org_b_auth)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["capillaryCode"] == 400
    assert error["extensions"]["reference"] == "startOnOperator"


@pytest.mark.parametrize(
    ("sort", "field"),
    [
        ("LAST_EARNED_ON_DATE", "lastEarnedOn"),
        ("EXPIRES_ON", "expiresOn"),
        ("LAST_MODIFIED_DATE", "lastUpdatedOn"),
    ],
)
@pytest.mark.parametrize("order", ["ASC", "DESC"])
async def test_sorts(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], sort: str, field: str, order: str
) -> None:
    page = await management(
        client, org_b_auth, f"badgeType: EARNED, sortOn: {sort}, order: {order}", f"name {field}"
    )
    values = [b[field] for b in page["customerBadges"]]
    assert values == sorted(values, reverse=order == "DESC")  # ISO strings sort as instants


async def test_item_fields(client: httpx.AsyncClient, org_b_auth: dict[str, str]) -> None:
    page = await management(
        client,
        org_b_auth,
        'badgeType: EARNED, name: "Birthday"',
        "name badgeMetaId badgeType badgeGroupId badgeGroupName badgeRank createdOn lastUpdatedOn "
        "images { name fileSvcHandle url tag } badgeStatus lastEarnedOn startsOn expiresOn "
        "earnCount ownership { restrictedToOwners claims { ownerType referenceId isActive } } "
        "issueStatus active lastEarnedOnDate lastEarnEventDate",
    )
    (badge,) = page["customerBadges"]
    assert badge["badgeMetaId"] == str(BIRTHDAY_BADGE)
    assert badge["badgeType"] == "ISSUE_EARN"
    assert badge["badgeGroupName"] == "2024 Badges"
    assert badge["earnCount"] == 1
    assert badge["badgeStatus"] == "LIVE"
    assert badge["issueStatus"] is None
    assert badge["lastEarnedOn"] == badge["lastEarnedOnDate"] is not None
    assert [i["tag"] for i in badge["images"]] == ["EARNED", "UN_EARNED"]
    assert badge["ownership"]["claims"][0] == {
        "ownerType": "Loyalty",
        "referenceId": "626",
        "isActive": True,
    }
    assert page["pagination"] == {"page": 0, "size": 1, "total": 1, "totalPages": 1}


async def test_unearned_badge_has_zero_count_and_no_earn_dates(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    page = await management(
        client,
        org_b_auth,
        "badgeType: AVAILABLE_TO_ISSUE",
        "name earnCount lastEarnedOnDate lastEarnEventDate lastEarnedOn",
    )
    for badge in page["customerBadges"]:
        assert badge["earnCount"] == 0
        assert badge["lastEarnedOnDate"] is None and badge["lastEarnEventDate"] is None
