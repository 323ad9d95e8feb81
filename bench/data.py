"""A generated data set for one org: many badges, and customers with records on them.

Sized by the number of customer_badges records; badges and groups stay the same at every
size, so a larger data set means more customers (and records), as in production.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Int64, ObjectId

ORG_ID = 900_001
BADGES = 1_500  # enough for pages of 1000 available badges
GROUPS = 20
RECORDS_PER_CUSTOMER = 50
FIRST_CUSTOMER = 70_000_000

Document = dict[str, Any]


def badges(now: datetime, rng: random.Random) -> list[Document]:
    groups = [ObjectId() for _ in range(GROUPS)]
    out = []
    for index in range(BADGES):
        badge_id = ObjectId()
        grouped = rng.random() < 0.6
        out.append(
            {
                "_id": badge_id,
                "orgId": ORG_ID,
                "name": f"Badge {index:05d} {rng.choice(['Gold', 'Silver', 'Pet', 'Coffee'])}",
                "description": "Purchase products worth minimum 1K in the month and get this",
                "earnType": "EARN" if rng.random() < 0.8 else "ISSUE_EARN",
                "startOn": now - timedelta(days=rng.randint(1, 400)),
                "expiresOn": now + timedelta(days=rng.randint(1, 900), seconds=index),
                "images": [
                    {
                        "name": tag.title(),
                        "fileSvcHandle": f"{badge_id}-{tag.lower()}",
                        "url": f"https://cdn.example.com/badges/{ORG_ID}/{badge_id}_{tag}.png",
                        "tag": tag,
                    }
                    for tag in ("EARNED", "UN_EARNED")
                ],
                "tags": ["bench"],
                "badgeGroupId": rng.choice(groups) if grouped else None,
                "badgeRank": rng.randint(1, 20) if rng.random() < 0.7 else None,
                "ownership": {
                    "restrictedToOwners": ["Loyalty", "Milestones"],
                    "claims": [
                        {"ownerType": "Loyalty", "referenceId": f"{index}_Txn", "isActive": True}
                    ],
                },
                "customerConstraints": [
                    {"constraintType": "CUSTOMER_BADGE_FIXED_VALUE", "maxEarnLimit": 5},
                    {
                        "constraintType": "CUSTOMER_BADGE_ROLLING_WINDOW",
                        "maxEarnForDays": 2,
                        "rollForDays": 7,
                        "maxEarnForWeeks": None,
                        "rollForWeeks": None,
                        "maxEarnForMonths": 10,
                        "rollForMonths": 3,
                    },
                ],
                "badgeConstraints": [{"constraintType": "BADGE_FIXED_VALUE", "maxEarnLimit": 1000}],
                "customFields": {"Priority": str(index % 5), "Category": "bench"},
                "active": rng.random() < 0.95,
                "createdOn": now - timedelta(days=500),
                "lastUpdatedOn": now - timedelta(days=rng.randint(1, 500)),
            }
        )
    return out


def groups_of(badge_docs: list[Document]) -> list[Document]:
    ids = sorted({b["badgeGroupId"] for b in badge_docs if b["badgeGroupId"] is not None})
    return [
        {
            "_id": group_id,
            "orgId": ORG_ID,
            "name": f"Group {n:02d}",
            "rank": n + 1 if n % 4 else None,
        }
        for n, group_id in enumerate(ids)
    ]


def customer_ids(records: int) -> list[int]:
    return list(range(FIRST_CUSTOMER, FIRST_CUSTOMER + max(1, records // RECORDS_PER_CUSTOMER)))


def customers(ids: list[int]) -> Iterator[Document]:
    for customer_id in ids:
        yield {
            "_id": Int64(customer_id),
            "orgId": ORG_ID,
            "email": f"member{customer_id}@example.com",
            "mobile": f"91{customer_id}",
            "externalId": f"ext-{customer_id}",
            "cardNumbers": [f"CARD-{customer_id}"],
        }


def records(
    ids: list[int], badge_docs: list[Document], now: datetime, rng: random.Random
) -> Iterator[Document]:
    badge_ids = [b["_id"] for b in badge_docs]
    for customer_id in ids:
        for badge_id in rng.sample(badge_ids, RECORDS_PER_CUSTOMER):
            earned = rng.randint(0, 3)
            yield {
                "_id": ObjectId(),
                "orgId": ORG_ID,
                "customerId": Int64(customer_id),
                "badgeMetaId": badge_id,
                "issuedOn": now - timedelta(days=rng.randint(1, 90)),
                "issueStatus": None,
                "earnCount": earned,
                "lastEarnedOn": now - timedelta(days=rng.randint(1, 60)) if earned else None,
                "lastEarnEventDate": now - timedelta(days=rng.randint(1, 60)) if earned else None,
                "earnExpiresOn": now + timedelta(days=rng.randint(-30, 300)) if earned else None,
                "active": True,
                "lastUpdatedOn": now,
            }


def generate(records_wanted: int, seed: int = 7) -> dict[str, Any]:
    """Everything but the records, which come as an iterator (1M do not fit comfortably)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    badge_docs = badges(now, rng)
    ids = customer_ids(records_wanted)
    return {
        "badge_meta": badge_docs,
        "badge_groups": groups_of(badge_docs),
        "customers": customers(ids),
        "customer_badges": records(ids, badge_docs, now, rng),
        "customer_ids": ids,
    }
