"""A generated data set for one org: many badges, and customers with records on them.

Sized by the number of customer_badges records; badges and groups stay the same at every
size, so a larger data set means more customers (and records), as in production.

Two shapes, so that neither a per-item cost nor a fixed cost can hide:

- `large`: 1,500 badges with images, constraints and claims, 50 records a customer;
- `small`: 1,600 small badges (no images, description, constraints or custom fields) and
  400 records a customer: little per item, much per customer.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Int64, ObjectId

ORG_ID = 900_001
GROUPS = 20
FIRST_CUSTOMER = 70_000_000

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    badges: int  # enough for pages of 1000 available badges
    records_per_customer: int
    large_items: bool


SHAPES = {
    "large": Shape("large", badges=1_500, records_per_customer=50, large_items=True),
    "small": Shape("small", badges=1_600, records_per_customer=400, large_items=False),
}


def _small(badge: Document) -> Document:
    """The badge without what makes it large: images, description, constraints, custom fields."""
    empty: Document = {"images": [], "description": None, "customerConstraints": [],
             "badgeConstraints": [], "customFields": {}, "tags": []}  # fmt: skip
    return badge | empty | {"ownership": {"restrictedToOwners": ["Loyalty"], "claims": []}}


def badges(now: datetime, rng: random.Random, shape: Shape) -> list[Document]:
    groups = [ObjectId() for _ in range(GROUPS)]
    out = []
    for index in range(shape.badges):
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
    return out if shape.large_items else [_small(badge) for badge in out]


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


def customer_ids(records: int, shape: Shape) -> list[int]:
    customers = max(1, records // shape.records_per_customer)
    return list(range(FIRST_CUSTOMER, FIRST_CUSTOMER + customers))


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
    ids: list[int], badge_docs: list[Document], now: datetime, rng: random.Random, shape: Shape
) -> Iterator[Document]:
    badge_ids = [b["_id"] for b in badge_docs]
    for customer_id in ids:
        for badge_id in rng.sample(badge_ids, shape.records_per_customer):
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


def generate(records_wanted: int, shape: Shape, seed: int = 7) -> dict[str, Any]:
    """Everything but the records, which come as an iterator (1M do not fit comfortably)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    badge_docs = badges(now, rng, shape)
    ids = customer_ids(records_wanted, shape)
    return {
        "badge_meta": badge_docs,
        "badge_groups": groups_of(badge_docs),
        "customers": customers(ids),
        "customer_badges": records(ids, badge_docs, now, rng, shape),
        "customer_ids": ids,
    }
