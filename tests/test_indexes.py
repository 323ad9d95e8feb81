"""Every documented access path is served by an index: `explain` shows IXSCAN, never COLLSCAN.

The plans are asked of the server the tests run against (the embedded database, or a real
mongod when GQL_BADGES_MONGODB_URI is set), for the very pipelines the repository sends.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from gql_badges.badges.model import (
    BadgeAction,
    BadgeStatus,
    BadgeType,
    DateOperator,
    IdentifierType,
    Owner,
    SortField,
    SortOrder,
)
from gql_badges.badges.query import (
    IDENTIFIER_FIELDS,
    BadgeFilter,
    BadgeQuery,
    CustomerRef,
    DateBound,
    badge_index,
    build_badge_pipeline,
    context_pipeline,
    customer_filter,
)
from gql_badges.db import (
    BADGE_GROUPS,
    BADGE_META,
    CUSTOMER_BADGES,
    CUSTOMERS,
    Database,
    identifier_index_name,
)
from gql_badges.demo import ORG_B
from tests.generated import NOW

pytestmark = pytest.mark.usefixtures("demo")

SWATI = 62090013


async def plan(
    database: Database, collection: str, pipeline: list[dict[str, Any]], hint: str | None = None
) -> str:
    command = {"aggregate": collection, "pipeline": pipeline, "cursor": {}}
    if hint is not None:
        command["hint"] = hint
    explained = await database.db.command({"explain": command, "verbosity": "queryPlanner"})
    return str(explained)


def assert_index_scan(explained: str) -> None:
    assert "COLLSCAN" not in explained, explained[:2000]
    assert "IXSCAN" in explained, explained[:2000]


async def test_the_customers_records_and_groups(database: Database) -> None:
    records = context_pipeline(ORG_B, SWATI, check_customer=True, with_groups=True)
    assert_index_scan(await plan(database, CUSTOMER_BADGES, records[:2]))
    # The $unionWith branches, each on its own.
    for stage in records[2:]:
        branch = stage["$unionWith"]
        assert_index_scan(await plan(database, branch["coll"], branch["pipeline"]))
    assert {stage["$unionWith"]["coll"] for stage in records[2:]} == {CUSTOMERS, BADGE_GROUPS}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (IdentifierType.ID, SWATI),
        (IdentifierType.EMAIL, "swati.jain@example.com"),
        (IdentifierType.MOBILE, "919999000002"),
        (IdentifierType.EXTERNAL_ID, "ext-62090013"),
        (IdentifierType.CARD_NUMBER, "CARD-1001"),
    ],
)
async def test_identifier_look_ups(database: Database, kind, value) -> None:
    """As the repository looks them up: the id by `_id`, the others naming their index."""
    match = customer_filter(ORG_B, CustomerRef(kind, value))
    hint = None if kind is IdentifierType.ID else identifier_index_name(IDENTIFIER_FIELDS[kind])
    explained = await plan(database, CUSTOMERS, [{"$match": match}, {"$limit": 1}], hint)
    assert_index_scan(explained)


FILTERS: dict[str, Any] = {
    "name": "badge",
    "action": BadgeAction.DEACTIVATED,
    "badge_status": BadgeStatus.LIVE,
    "owner": Owner.Loyalty,
    "claimed_by": Owner.Loyalty_Promotion,
    "start_on": DateBound(DateOperator.GREATER_THAN, NOW - timedelta(days=900)),
    "expires_on": DateBound(DateOperator.LESS_THAN, NOW + timedelta(days=900)),
    "group_id": ObjectId("65c3600c60d9261bdd8a6410"),
}


@pytest.mark.parametrize(
    ("badge_type", "sort", "order"),
    [
        *itertools.product(BadgeType, SortField, [SortOrder.DESC]),
        (BadgeType.EARNED, SortField.EXPIRES_ON, SortOrder.ASC),
        (BadgeType.EXPIRED, SortField.LAST_EARNED_ON_DATE, SortOrder.ASC),
    ],
)  # fmt: skip
async def test_every_badge_type_and_sort(database: Database, badge_type, sort, order) -> None:
    await assert_badge_page_uses_an_index(database, BadgeFilter(badge_type=badge_type), sort, order)


@pytest.mark.parametrize("name", sorted(FILTERS))
async def test_every_filter(database: Database, name: str) -> None:
    badge_filter = BadgeFilter(badge_type=BadgeType.EARNED, **{name: FILTERS[name]})
    await assert_badge_page_uses_an_index(
        database, badge_filter, SortField.EXPIRES_ON, SortOrder.DESC
    )


async def assert_badge_page_uses_an_index(
    database: Database, badge_filter: BadgeFilter, sort: SortField, order: SortOrder
) -> None:
    context = await database.aggregate(
        CUSTOMER_BADGES, context_pipeline(ORG_B, SWATI, check_customer=False, with_groups=False)
    )
    groups = await database.find(BADGE_GROUPS, {"orgId": ORG_B})
    query = BadgeQuery(CustomerRef(IdentifierType.ID, SWATI), badge_filter, sort, order)
    pipeline = build_badge_pipeline(ORG_B, query, context, groups, NOW)
    assert_index_scan(await plan(database, BADGE_META, pipeline, badge_index(query)))
