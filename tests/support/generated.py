"""Hypothesis strategies for badge data and requests, built to hit the rules' edges.

Dates are drawn from a few offsets around `NOW` (including exactly `NOW` and one millisecond
either side) and repeat often, so boundaries, ties and nulls all come up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Int64, ObjectId
from hypothesis import strategies as st

from gql_badges.badges.request import BadgeFilter, BadgeQuery, CustomerRef, DateBound
from gql_badges.badges.rules import EVERY_SORT
from gql_badges.enums import BadgeAction, BadgeStatus, BadgeType, DateOperator, Owner, SortOrder

NOW = datetime.now(UTC).replace(microsecond=0)
_OFFSETS = [
    timedelta(days=-3),
    timedelta(milliseconds=-1),
    timedelta(0),
    timedelta(milliseconds=1),
    timedelta(days=2),
    timedelta(days=40),
]
dates = st.sampled_from(_OFFSETS).map(lambda offset: NOW + offset)
maybe_dates = st.none() | dates
owners = st.sampled_from(list(Owner))
# Names mix cases and regex metacharacters, which the name filter must take literally.
NAME_ALPHABET = "aAbB .*+?()[]$^|\\"
names = st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=6)


@st.composite
def constraints(draw: st.DrawFn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(
            st.sampled_from(
                [
                    "CUSTOMER_BADGE_FIXED_VALUE",
                    "BADGE_FIXED_VALUE",
                    "CUSTOMER_BADGE_NO_LIMIT",
                    "SOMETHING_NEW",
                ]
            )
        )
        limit = draw(st.none() | st.integers(0, 3))
        out.append({"constraintType": kind, "maxEarnLimit": limit})
    return out


@st.composite
def org_data(draw: st.DrawFn, org_id: int) -> dict[str, Any]:
    """Groups, badges, one customer and their records for `org_id`."""
    groups = [
        {
            "_id": ObjectId(),
            "orgId": org_id,
            "name": draw(st.sampled_from(["G1", "G2", "g"])),
            "rank": draw(st.none() | st.integers(1, 3)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    group_choices = [None, ObjectId(), *(g["_id"] for g in groups)]  # ObjectId(): not a group
    badges = []
    for _ in range(draw(st.integers(1, 14))):
        claims = [
            {"ownerType": draw(owners), "referenceId": "r", "isActive": draw(st.booleans())}
            for _ in range(draw(st.integers(0, 2)))
        ]
        badges.append(
            {
                "_id": ObjectId(),
                "orgId": org_id,
                "name": draw(names),
                "earnType": draw(st.sampled_from(["EARN", "ISSUE_EARN"])),
                "active": draw(st.sampled_from([True, True, False])),
                "startOn": draw(dates),
                "expiresOn": draw(dates),
                "badgeGroupId": draw(st.sampled_from(group_choices)),
                "badgeRank": draw(st.none() | st.integers(1, 3)),
                "ownership": {
                    "restrictedToOwners": draw(st.lists(owners, max_size=2, unique=True)),
                    "claims": claims,
                },
                "customerConstraints": draw(constraints()),
                "badgeConstraints": [],
                "lastUpdatedOn": draw(maybe_dates),
                "createdOn": NOW,
                "images": [],
                "tags": [],
                "customFields": {},
            }
        )
    customer_id = Int64(org_id * 100 + 1)
    records = []
    with_records = st.lists(
        st.sampled_from(badges), unique_by=lambda b: b["_id"], max_size=len(badges) // 2 + 1
    )
    for badge in draw(with_records):
        records.append(
            {
                "_id": ObjectId(),
                "orgId": org_id,
                "customerId": customer_id,
                "badgeMetaId": badge["_id"],
                "issuedOn": draw(maybe_dates),
                "issueStatus": draw(st.sampled_from([None, "ISSUED", "REVOKED"])),
                "earnCount": draw(st.integers(0, 3)),
                "active": draw(st.booleans()),
                "earnExpiresOn": draw(maybe_dates),
                "lastEarnedOn": draw(maybe_dates),
                "lastEarnEventDate": draw(maybe_dates),
            }
        )
    customer = {
        "_id": customer_id,
        "orgId": org_id,
        "email": f"c{org_id}@example.com",
        "mobile": None,
        "externalId": None,
        "cardNumbers": [f"card-{org_id}"],
    }
    return {
        "badge_groups": groups,
        "badge_meta": badges,
        "customers": [customer],
        "customer_badges": records,
    }


_FILTERS = [
    "name",
    "action",
    "badge_status",
    "owner",
    "claimed_by",
    "start_on",
    "expires_on",
    "group_id",
]


@st.composite
def badge_queries(draw: st.DrawFn, customer: CustomerRef, group_ids: list[ObjectId]) -> BadgeQuery:
    # At most two optional filters at once, so that most queries still match some rows.
    chosen = draw(st.sets(st.sampled_from(_FILTERS), max_size=2))
    bounds = st.builds(DateBound, st.sampled_from(list(DateOperator)), dates)
    strategies: dict[str, st.SearchStrategy[Any]] = {
        "name": names,
        "action": st.sampled_from(list(BadgeAction)),
        "badge_status": st.sampled_from(list(BadgeStatus)),
        "owner": owners,
        "claimed_by": owners,
        "start_on": bounds,
        "expires_on": bounds,
        "group_id": st.sampled_from([*group_ids, ObjectId()]),
    }
    badge_filter = BadgeFilter(
        badge_type=draw(st.sampled_from(list(BadgeType))),
        include_expired=draw(st.booleans()),
        **{name: draw(strategies[name]) for name in sorted(chosen)},
    )
    return BadgeQuery(
        customer=customer,
        filter=badge_filter,
        sort=draw(st.sampled_from(list(EVERY_SORT))),
        order=draw(st.sampled_from(list(SortOrder))),
        page=draw(st.integers(0, 3)),
        size=draw(st.integers(1, 6)),
    )
