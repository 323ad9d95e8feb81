"""The query layer's MongoDB pipeline against the in-memory oracle, on generated data."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gql_badges.badges.pipeline import TOTAL, build_badge_pipeline
from gql_badges.badges.repository import BadgeRepository
from gql_badges.badges.request import BadgeFilter, BadgeQuery, CustomerRef
from gql_badges.badges.rules import GROUP_FIELDS, RECORD_FIELDS
from gql_badges.enums import BadgeType, IdentifierType
from gql_badges.loading import write_documents
from gql_badges.settings import Settings
from gql_badges.storage.client import Database
from tests.support import database_examples, drop_quietly, make_settings, new_org_id
from tests.support.generated import NOW, badge_queries, org_data
from tests.support.oracle import expected_order


@pytest.mark.slow  # a property test on the database
@database_examples(12)
@given(data=st.data())
async def test_pipeline_agrees_with_the_rules(database: Database, data: st.DataObject) -> None:
    org_id = new_org_id()
    docs = data.draw(org_data(org_id), label="data")
    await write_documents(database, docs)
    repository = BadgeRepository(database)
    customer_id = int(docs["customers"][0]["_id"])
    refs = [
        CustomerRef(IdentifierType.ID, customer_id),
        CustomerRef(IdentifierType.CARD_NUMBER, f"card-{org_id}"),
    ]
    records = {r["badgeMetaId"]: r for r in docs["customer_badges"]}
    groups = {g["_id"]: g for g in docs["badge_groups"]}
    group_ids = list(groups)
    for _ in range(6):
        query = data.draw(badge_queries(data.draw(st.sampled_from(refs)), group_ids))
        page = await repository.badge_page(org_id, query, NOW)
        order = expected_order(query, docs["badge_meta"], records, groups, NOW)
        start = query.page * query.size
        assert [row.badge["_id"] for row in page.rows] == order[start : start + query.size]
        assert page.total == len(order)
        for row in page.rows:
            record = records.get(row.badge["_id"])
            group = groups.get(row.badge.get("badgeGroupId"))
            assert row.record == (_only(record, RECORD_FIELDS) if record else None)
            assert row.group == (_only(group, ("_id", *GROUP_FIELDS)) if group else None)


def _only(document: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields the gateway reads of a record or a group (it reads no others)."""
    return {key: value for key, value in document.items() if key in fields}


async def test_a_badge_starting_after_its_expiry_is_expired_not_upcoming(
    database: Database,
) -> None:
    """Found by the property test: the UPCOMING filter let such a badge through."""
    from datetime import timedelta

    from bson import ObjectId

    from gql_badges.badges.request import BadgeFilter, BadgeQuery
    from gql_badges.enums import BadgeStatus, BadgeType

    org_id = new_org_id()
    badge = {
        "_id": ObjectId(),
        "orgId": org_id,
        "name": "backwards",
        "earnType": "EARN",
        "active": True,
        "startOn": NOW + timedelta(days=1),
        "expiresOn": NOW - timedelta(days=1),
        "ownership": {},
    }
    customer = {"_id": org_id * 100, "orgId": org_id, "cardNumbers": []}
    await write_documents(database, {"badge_meta": [badge], "customers": [customer]})
    repository = BadgeRepository(database)
    ref = CustomerRef(IdentifierType.ID, org_id * 100)
    for status, expected in [(BadgeStatus.UPCOMING, []), (BadgeStatus.EXPIRED, [badge["_id"]])]:
        query = BadgeQuery(ref, BadgeFilter(badge_type=BadgeType.EXPIRED, badge_status=status))
        page = await repository.badge_page(org_id, query, NOW)
        assert [row.badge["_id"] for row in page.rows] == expected


def _stage_names(pipeline: list[dict[str, Any]]) -> list[str]:
    return [next(iter(stage)) for stage in pipeline]


def test_the_page_carries_its_total_without_facet() -> None:
    """One `$setWindowFields` counts the matches it sorts, before `$skip` and `$limit`; not
    `$facet`, which answers one document, capped at 16 MiB: a page of large badges could not fit."""
    query = BadgeQuery(CustomerRef(IdentifierType.ID, 1), page=2, size=1000)
    pipelines = build_badge_pipeline(7, query, [], [], NOW)
    names = _stage_names(pipelines.page)
    assert "$facet" not in names + _stage_names(pipelines.count)
    assert "$sort" not in names  # the window stage sorts
    window = pipelines.page[names.index("$setWindowFields")]["$setWindowFields"]
    assert window["sortBy"] == {"expiresOn": -1, "_id": 1}
    assert window["output"][TOTAL]["$count"] == {}
    assert pipelines.page[-2:] == [{"$skip": 2000}, {"$limit": 1000}]
    assert pipelines.count[-1] == {"$count": "n"}
    assert pipelines.count[:-1] == pipelines.page[:2]  # the same two $match stages


def test_the_largest_page_setting_is_at_most_1000() -> None:
    assert Settings(max_page_size=1000).max_page_size == 1000
    with pytest.raises(ValidationError):
        Settings(max_page_size=1001)


@pytest.mark.slow  # writes and reads over 16 MiB
async def test_a_page_larger_than_16_mib_is_served(database: Database) -> None:
    """1,000 badges of 20 KB: 20 MiB in one page, beyond what one `$facet` document holds
    (the embedded server does not enforce that cap; MongoDB refuses such a `$facet`)."""
    own = Database(make_settings(database.driver), database.uri)  # dropped at once afterwards
    org_id = new_org_id()
    badges = [
        {"_id": ObjectId(), "orgId": org_id, "expiresOn": NOW, "description": "d" * 20_000}
        for i in range(1000)
    ]
    try:
        for start in range(0, len(badges), 250):
            await own.db["badge_meta"].insert_many(badges[start : start + 250])
        await own.db["customers"].insert_one({"_id": org_id, "orgId": org_id})
        query = BadgeQuery(
            CustomerRef(IdentifierType.ID, org_id),
            BadgeFilter(badge_type=BadgeType.EXPIRED),
            size=1000,
        )
        page = await BadgeRepository(own).badge_page(org_id, query, NOW)
        assert len(page.rows) == 1000 and page.total == 1000
    finally:
        await drop_quietly(own)
        await own.close()


async def test_a_boolean_limit_is_no_limit_to_the_rules_as_to_mongodb(database: Database) -> None:
    """A `maxEarnLimit` stored as a boolean is no number to MongoDB's `$lte` (it compares within
    a type), so the pipeline sees no limit; the rules counted `true` as 1 (Python's bool is an
    int) and expected the badge hidden from a customer who had earned it once."""
    from gql_badges.badges.request import BadgeFilter, BadgeQuery
    from gql_badges.enums import BadgeType

    org_id = new_org_id()
    customer_id = org_id * 100
    limit = {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": True}
    badge = {
        "_id": ObjectId(),
        "orgId": org_id,
        "name": "boolean limit",
        "earnType": "ISSUE_EARN",
        "active": True,
        "customerConstraints": [limit],
        "ownership": {},
    }
    record = {
        "_id": ObjectId(),
        "orgId": org_id,
        "customerId": customer_id,
        "badgeMetaId": badge["_id"],
        "earnCount": 1,
        "active": True,
    }
    customer = {"_id": customer_id, "orgId": org_id, "cardNumbers": []}
    docs = {"badge_meta": [badge], "customers": [customer], "customer_badges": [record]}
    await write_documents(database, docs)
    query = BadgeQuery(
        CustomerRef(IdentifierType.ID, customer_id), BadgeFilter(badge_type=BadgeType.AVAILABLE)
    )
    page = await BadgeRepository(database).badge_page(org_id, query, NOW)

    assert [row.badge["_id"] for row in page.rows] == [badge["_id"]]
    assert expected_order(query, [badge], {badge["_id"]: record}, {}, NOW) == [badge["_id"]]
