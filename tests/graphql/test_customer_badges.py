"""`customerBadges` end to end over HTTP, on the demo data set."""

from __future__ import annotations

import httpx
import pytest

from gql_badges.demo.handles import GROUP_B, HUCK, SWATI, TOM
from tests.support import graphql

pytestmark = pytest.mark.usefixtures("demo")

PAGE = """
query($customer: CustomerRef!, $type: BadgeType, $sortOn: CustomerSortOn, $limit: Int,
      $page: Int, $groupId: ID, $includeExpired: Boolean) {
  customerBadges(customer: $customer, badgeType: $type, sortOn: $sortOn, limit: $limit,
                 page: $page, groupId: $groupId, includeExpired: $includeExpired) {
    badges { badgeMetaId name earnedCount badgeGroupName badgeRank badgeStatus }
    pagination { page size total totalPages }
  }
}
"""
SWATI_BY_EMAIL = {"email": SWATI.email}


async def names(
    client: httpx.AsyncClient, headers: dict[str, str], **variables: object
) -> list[str]:
    body = await graphql(client, PAGE, headers, **variables)
    assert "errors" not in body, body
    return [b["name"] for b in body["data"]["customerBadges"]["badges"]]


async def test_default_is_available_to_issue(
    client: httpx.AsyncClient, org_a_auth: dict[str, str]
) -> None:
    # EARN, active, not expired, neither enrolled nor earned by Tom; revoked counts as not enrolled.
    got = await names(client, org_a_auth, customer=TOM.ref, limit=100)
    assert sorted(got) == sorted(
        ["SH Specific Time", "SH 3 Redemption", "SH Specific Date", "SH 3 Coke "]
    )


async def test_each_badge_type(
    client: httpx.AsyncClient, org_a_auth: dict[str, str], org_b_auth: dict[str, str]
) -> None:
    # Furrye12 is ISSUE_EARN too, but Tom has reached its customer limit of 1.
    assert await names(client, org_a_auth, customer=TOM.ref, type="AVAILABLE") == ["BADGE123"]
    earned = await names(client, org_a_auth, customer=TOM.ref, type="EARNED")
    assert sorted(earned) == ["Furrye12", "string9"]
    with_expired = await names(
        client, org_a_auth, customer=TOM.ref, type="EARNED", includeExpired=True
    )
    assert sorted(with_expired) == ["Furrye12", "Payment Mode Badge", "string9"]
    assert await names(client, org_a_auth, customer=TOM.ref, type="EXPIRED") == ["BADGE12"]
    assert sorted(await names(client, org_b_auth, customer=SWATI_BY_EMAIL, type="EXPIRED")) == [
        "Automation_Test_Badge_Issue_2023-12-11 13:20:36.812999",
        "Summer 2023 Badge",
        "demoName",
    ]


async def test_rank_order_groups_first_then_badge_rank(
    client: httpx.AsyncClient, org_a_auth: dict[str, str]
) -> None:
    body = await graphql(
        client, PAGE, org_a_auth, customer={"id": HUCK.key}, sortOn="RANK", limit=100
    )
    badges = body["data"]["customerBadges"]["badges"]
    assert [(b["badgeGroupName"], b["badgeRank"]) for b in badges] == [
        ("Group", 1),
        ("Group", 4),
        ("Group", 6),
        ("Group", 15),
        ("Group", 15),
        ("Group", 16),
        (None, None),
    ]


async def test_identifier_kinds_name_the_same_customer(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    expected = await names(client, org_b_auth, customer=SWATI_BY_EMAIL, type="EARNED")
    assert expected
    for ref in (
        {"id": SWATI.key},
        {"mobile": "919999000002"},
        {"externalId": SWATI.external_id},
        {"cardNumber": SWATI.card_numbers[1]},
        {"cardNumber": SWATI.card_numbers[0]},
    ):
        assert await names(client, org_b_auth, customer=ref, type="EARNED") == expected


@pytest.mark.parametrize(
    ("limit", "page", "size", "total_pages"),
    [(2, 0, 2, 3), (2, 2, 1, 3), (2, 3, 0, 3), (100, 0, 5, 1), (5, 0, 5, 1), (1, 4, 1, 5)],
)
async def test_pagination(
    client: httpx.AsyncClient,
    org_b_auth: dict[str, str],
    limit: int,
    page: int,
    size: int,
    total_pages: int,
) -> None:
    body = await graphql(
        client,
        PAGE,
        org_b_auth,
        customer=SWATI_BY_EMAIL,
        type="EARNED",
        includeExpired=True,
        limit=limit,
        page=page,
    )
    pagination = body["data"]["customerBadges"]["pagination"]
    assert pagination == {"page": page, "size": size, "total": 5, "totalPages": total_pages}
    assert len(body["data"]["customerBadges"]["badges"]) == size


async def test_empty_result_has_zero_pages(
    client: httpx.AsyncClient, org_a_auth: dict[str, str]
) -> None:
    body = await graphql(client, PAGE, org_a_auth, customer={"id": HUCK.key}, type="EARNED")
    assert body["data"]["customerBadges"] == {
        "badges": [],
        "pagination": {"page": 0, "size": 0, "total": 0, "totalPages": 0},
    }


async def test_group_filter(client: httpx.AsyncClient, org_b_auth: dict[str, str]) -> None:
    got = await names(
        client, org_b_auth, customer=SWATI_BY_EMAIL, type="EARNED", groupId=str(GROUP_B)
    )
    assert got == ["Birthday Badge"]
    available = await names(client, org_b_auth, customer=SWATI_BY_EMAIL, groupId=str(GROUP_B))
    assert available == ["Anniversary Badge"]


async def test_constraints_union_members(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    query = """query($customer: CustomerRef!) {
      customerBadges(customer: $customer, badgeType: EARNED, limit: 100) {
        badges { name
          customerConstraints { __typename ...C }
          badgeConstraints { __typename ...C }
        }
      }
    }
    fragment C on BadgeConstraint {
      ... on CustomerBadgeFixedValueConstraint { constraintType maxEarnLimit }
      ... on BadgeFixedValueConstraint { constraintType maxEarnLimit }
      ... on BadgeRollingWindowConstraint { rollType rollValue maxEarnLimit }
      ... on CustomerBadgeNoLimitConstraint { constraintType }
      ... on BadgeNoLimitConstraint { constraintType }
      ... on UnknownConstraint { constraintType raw }
    }"""
    body = await graphql(client, query, org_b_auth, customer=SWATI_BY_EMAIL)
    assert "errors" not in body, body
    by_name = {b["name"]: b for b in body["data"]["customerBadges"]["badges"]}
    asdfg = by_name["BADGE_ASDFG"]["badgeConstraints"]
    assert [c["__typename"] for c in asdfg] == [
        "BadgeFixedValueConstraint",
        "BadgeRollingWindowConstraint",
        "BadgeNoLimitConstraint",
        "UnknownConstraint",
    ]
    assert asdfg[1] == {
        "__typename": "BadgeRollingWindowConstraint",
        "rollType": "WEEKS",
        "rollValue": 1,
        "maxEarnLimit": 2000,
    }
    assert asdfg[3]["raw"] == {"constraintType": "BADGE_SEASONAL_WINDOW", "season": "WINTER"}
    assert by_name["Birthday Badge"]["customerConstraints"] == [
        {
            "__typename": "CustomerBadgeFixedValueConstraint",
            "constraintType": "CUSTOMER_BADGE_FIXED_VALUE",
            "maxEarnLimit": 1,
        }
    ]
    assert by_name["Badge Issue georgetesst"]["customerConstraints"] == [
        {
            "__typename": "CustomerBadgeNoLimitConstraint",
            "constraintType": "CUSTOMER_BADGE_NO_LIMIT",
        }
    ]


async def test_group_object_and_dates(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    query = f"""query($customer: CustomerRef!) {{
      customerBadges(customer: $customer, badgeType: EARNED, groupId: "{GROUP_B}") {{
        badges {{ group {{ id name rank }} startOn expiresOn lastEarnedOnDate }}
      }}
    }}"""
    body = await graphql(client, query, org_b_auth, customer=SWATI_BY_EMAIL)
    for badge in body["data"]["customerBadges"]["badges"]:
        assert badge["group"] == {
            "id": str(GROUP_B),
            "name": "2024 Badges",
            "rank": 1,
        }
        assert badge["expiresOn"].endswith("Z")
        assert badge["lastEarnedOnDate"] is not None


_NAMES = "fragment Names on BadgePage { badges { badgeMetaId name } }"
_MORE = "fragment More on BadgePage { c: badges { badgeMetaId description images { url } } }"


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("page", "fragments"),
    [
        ("a: badges { badgeMetaId name } b: badges { badgeMetaId description images { url } }", ""),
        ("badges { badgeMetaId name } ...More", _MORE),
        ("...Names ...More", _NAMES + " " + _MORE),
    ],
)
async def test_every_selection_of_the_list_is_fetched(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], page: str, fragments: str
) -> None:
    """Fields only a second selection of the list asks for (an alias, a fragment) are read
    too, not answered null."""
    query = f"""{{ customerBadges(customer: {{id: "{SWATI.key}"}}, badgeType: EARNED) {{
      {page} }} }}
      {fragments}"""
    body = await graphql(client, query, org_b_auth)
    assert "errors" not in body, body
    items = [item for items in body["data"]["customerBadges"].values() for item in items]
    described = [item for item in items if "description" in item]
    assert any(item["images"] for item in described), described
    assert any(item["description"] is not None for item in described), described
