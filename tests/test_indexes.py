"""Every documented access path is served by an index: `explain` shows IXSCAN, never COLLSCAN.

The plans are asked of the server the tests run against (the embedded database, or a real
mongod when GQL_BADGES_MONGODB_URI is set), for the very pipelines the repository sends.
"""

from __future__ import annotations

import itertools
import os
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
    RECORD_PROJECTION,
    BadgeFilter,
    BadgeQuery,
    CustomerRef,
    DateBound,
    build_badge_pipeline,
    customer_pipeline,
    records_filter,
)
from gql_badges.db import (
    BADGE_GROUPS,
    BADGE_META,
    CUSTOMER_BADGES,
    CUSTOMERS,
    Database,
)
from gql_badges.demo import ORG_B
from tests.generated import NOW

pytestmark = pytest.mark.usefixtures("demo")

SWATI = 62090013


async def plan(database: Database, collection: str, pipeline: list[dict[str, Any]]) -> str:
    command = {"aggregate": collection, "pipeline": pipeline, "cursor": {}}
    explained = await database.db.command({"explain": command, "verbosity": "queryPlanner"})
    return str(explained)


def assert_index_scan(explained: str) -> None:
    assert "COLLSCAN" not in explained, explained[:2000]
    assert "IXSCAN" in explained, explained[:2000]


async def test_the_customers_records_and_groups(database: Database) -> None:
    cursor = database.db[CUSTOMER_BADGES].find(records_filter(ORG_B, SWATI), RECORD_PROJECTION)
    assert_index_scan(str(await cursor.explain()))  # as the repository runs it: a find
    pipeline = customer_pipeline(ORG_B, CustomerRef(IdentifierType.ID, SWATI), with_groups=True)
    (union,) = [stage["$unionWith"] for stage in pipeline if "$unionWith" in stage]
    assert union["coll"] == BADGE_GROUPS
    assert_index_scan(await plan(database, BADGE_GROUPS, union["pipeline"]))


# The identifier indexes are partial (unique among customers that have the identifier): MongoDB
# uses them for an equality on a string; the embedded server never uses a partial index, and a
# hint there scans the whole index (slower still), so those look-ups scan on it. Known, strict.
_PARTIAL = pytest.mark.xfail(
    condition=not os.environ.get("GQL_BADGES_MONGODB_URI"),
    reason="the embedded server never plans a partial index",
    strict=True,
)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (IdentifierType.ID, SWATI),
        pytest.param(IdentifierType.EMAIL, "swati.jain@example.com", marks=_PARTIAL),
        pytest.param(IdentifierType.MOBILE, "919999000002", marks=_PARTIAL),
        pytest.param(IdentifierType.EXTERNAL_ID, "ext-62090013", marks=_PARTIAL),
        pytest.param(IdentifierType.CARD_NUMBER, "CARD-1001", marks=_PARTIAL),
    ],
)
async def test_identifier_look_ups(database: Database, kind, value) -> None:
    ref = CustomerRef(kind, value)
    pipeline = customer_pipeline(ORG_B, ref, with_groups=False)
    assert_index_scan(await plan(database, CUSTOMERS, pipeline))


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
    context = await database.find(CUSTOMER_BADGES, records_filter(ORG_B, SWATI), RECORD_PROJECTION)
    groups = await database.find(BADGE_GROUPS, {"orgId": ORG_B})
    query = BadgeQuery(CustomerRef(IdentifierType.ID, SWATI), badge_filter, sort, order)
    pipeline = build_badge_pipeline(ORG_B, query, context, groups, NOW)
    assert_index_scan(await plan(database, BADGE_META, pipeline))
