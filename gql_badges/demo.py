"""The demo data set: two orgs from the reference pages, customers in every state.

Dates are relative to the moment of loading, so every badgeType and status has something to
show however long after today the demo is started.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from gql_badges.storage.collections import Document

ORG_A, ORG_B = 100458, 100606
GROUP_A = ObjectId("660bf2c98bdfa71c4496a940")
GROUP_B = ObjectId("65c3600c60d9261bdd8a6410")
GROUP_B_ARCHIVE = ObjectId("65c3600c60d9261bdd8a6411")

# username, password, key, secret, org, active
DEMO_CLIENTS = [
    ("demo.100458", "demo-password-100458", "demo-key-100458", "demo-secret-100458", ORG_A, True),
    ("demo.100606", "demo-password-100606", "demo-key-100606", "demo-secret-100606", ORG_B, True),
    (
        "demo.inactive",
        "demo-password-inactive",
        "demo-key-inactive",
        "demo-secret-inactive",
        ORG_B,
        False,
    ),
]

_PET_VOUCHER = "Purchase 5 pet products in 3 months and get a pet grooming voucher"
_IMAGE_BASE = "https://storage.crm.eu.content-cdn.io/fs.capillary.eu/badges/images"


def _images(org: int, badge_id: str, *tags: str) -> list[Document]:
    return [
        {
            "name": "",
            "fileSvcHandle": f"{badge_id[-8:]}-{tag.lower()}",
            "url": f"{_IMAGE_BASE}/{org}/{badge_id}_{tag}.png",
            "tag": tag,
        }
        for tag in tags
    ]


def _badge(
    now: datetime,
    badge_id: str,
    org: int,
    name: str,
    *,
    earn_type: str = "EARN",
    start: float = -200,
    expires: float = 300,
    active: bool = True,
    group: ObjectId | None = None,
    rank: int | None = None,
    owners: tuple[str, ...] = ("Loyalty",),
    claims: tuple[tuple[str, str], ...] = (),
    description: str | None = None,
    customer_constraints: list[Document] | None = None,
    badge_constraints: list[Document] | None = None,
    image_tags: tuple[str, ...] = (),
    custom_fields: dict[str, str] | None = None,
    created: float = -230,
) -> Document:
    day = timedelta(days=1)
    return {
        "_id": ObjectId(badge_id),
        "orgId": org,
        "name": name,
        "description": description,
        "earnType": earn_type,
        "startOn": now + start * day,
        "expiresOn": now + expires * day,
        "images": _images(org, badge_id, *image_tags),
        "tags": [],
        "badgeGroupId": group,
        "badgeRank": rank,
        "ownership": {
            "restrictedToOwners": list(owners),
            "claims": [{"ownerType": o, "referenceId": r, "isActive": True} for o, r in claims],
        },
        "customerConstraints": customer_constraints or [],
        "badgeConstraints": badge_constraints or [],
        "customFields": custom_fields or {},
        "active": active,
        "createdOn": now + created * day,
        "lastUpdatedOn": now + (created + 10) * day,
    }


def _fixed(kind: str, limit: int) -> Document:
    return {"constraintType": kind, "maxEarnLimit": limit}


def _window(now: datetime, kind: str, reference: str, limit: int) -> Document:
    return {
        "constraintType": kind,
        "referenceId": reference,
        "durationType": "DAYS",
        "refreshRate": 3,
        "maxEarnLimit": limit,
        "cycleStatus": "ACTIVE",
        "startDate": now - timedelta(days=30),
        "endDate": now + timedelta(days=90),
    }


def _record(
    now: datetime,
    org: int,
    customer: int,
    badge_id: str,
    *,
    earned: int = 0,
    issued: float | None = None,
    status: str | None = None,
    active: bool = True,
    earn_expires: float | None = None,
    earned_at: float = -5,
) -> Document:
    day = timedelta(days=1)
    return {
        # A fixed id per (customer, badge), so loading the demo again updates instead of adding.
        "_id": ObjectId(hashlib.sha256(f"{customer}:{badge_id}".encode()).hexdigest()[:24]),
        "orgId": org,
        "customerId": customer,
        "badgeMetaId": ObjectId(badge_id),
        "issuedOn": now + issued * day if issued is not None else None,
        "issueStatus": status,
        "earnCount": earned,
        "lastEarnedOn": now + earned_at * day if earned else None,
        "lastEarnEventDate": now + (earned_at - 0.5) * day if earned else None,
        "earnExpiresOn": now + earn_expires * day if earn_expires is not None else None,
        "active": active,
        "lastUpdatedOn": now + earned_at * day,
    }


def demo_documents(now: datetime | None = None) -> dict[str, list[Document]]:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    a_rolling = {
        "constraintType": "CUSTOMER_BADGE_ROLLING_WINDOW",
        "maxEarnForDays": 10,
        "rollForDays": 10,
        "maxEarnForWeeks": None,
        "rollForWeeks": None,
        "maxEarnForMonths": 11,
        "rollForMonths": 2,
    }
    badges = [
        # org 100458: the "Get badges for customer" page
        _badge(now, "662f671b0b50ae4de0cd3822", ORG_A, "SH Specific Store", group=GROUP_A, rank=16),
        _badge(
            now,
            "65f7f4237d12f807399e1d6e",
            ORG_A,
            "Transaction_Success",
            active=False,
            description="Update the transaction to get badges",
            image_tags=("EARNED", "UN_EARNED"),
            claims=(("Loyalty", "469_TransactionAdd"), ("Loyalty", "469_checkin")),
            customer_constraints=[a_rolling, _fixed("CUSTOMER_BADGE_FIXED_VALUE", 1000)],
            badge_constraints=[_fixed("BADGE_FIXED_VALUE", 1000)],
        ),
        _badge(
            now,
            "664db59d9e99dd11b81add38",
            ORG_A,
            "Payment Mode Badge",
            group=GROUP_A,
            rank=1,
            description="Payment Mode Badge",
            owners=("Loyalty", "Audience_Campaigns", "Milestones"),
            claims=(("Loyalty", "469_TransactionAdd"),),
            customer_constraints=[_fixed("CUSTOMER_BADGE_FIXED_VALUE", 5)],
            badge_constraints=[_fixed("BADGE_FIXED_VALUE", 25)],
        ),
        _badge(
            now,
            "662f66810b50ae4de0cd3820",
            ORG_A,
            "SH Specific Time",
            group=GROUP_A,
            rank=15,
            expires=120,
        ),
        _badge(
            now,
            "65efdc7f7d12f807399df869",
            ORG_A,
            "Furrye12",
            earn_type="ISSUE_EARN",
            description=_PET_VOUCHER,
            image_tags=("UN_EARNED", "EARNED"),
            customer_constraints=[_fixed("CUSTOMER_BADGE_FIXED_VALUE", 1)],
            badge_constraints=[_fixed("BADGE_FIXED_VALUE", 1000)],
        ),
        _badge(
            now,
            "6627351f8fe258516a88fe36",
            ORG_A,
            "BADGE12",
            rank=1,
            description=_PET_VOUCHER,
            expires=-20,
            owners=("Milestones", "Loyalty"),
            customer_constraints=[
                _window(
                    now, "CUSTOMER_BADGE_FIXED_WINDOW", "e6791ec9-e92f-34af-bdc3-be2607fdf82c", 1
                )
            ],
            badge_constraints=[
                _window(now, "BADGE_FIXED_WINDOW", "a1350b49-eb8e-3500-9e43-01f5493c91c1", 2)
            ],
        ),
        _badge(
            now,
            "662749408fe258516a88fe89",
            ORG_A,
            "BADGE123",
            rank=1,
            description=_PET_VOUCHER,
            start=30,
            earn_type="ISSUE_EARN",
            owners=("Milestones", "Loyalty"),
        ),
        _badge(now, "662f62ba0b50ae4de0cd3816", ORG_A, "SH 3 Redemption", group=GROUP_A, rank=6),
        _badge(
            now,
            "662f66530b50ae4de0cd381e",
            ORG_A,
            "SH Specific Date",
            group=GROUP_A,
            rank=15,
            expires=90,
        ),
        _badge(now, "662f623a0b50ae4de0cd3814", ORG_A, "SH 3 Coke ", group=GROUP_A, rank=4),
        _badge(
            now,
            "664442c560646c1208ede8f4",
            ORG_A,
            "string9",
            description="string",
            image_tags=("UN_EARNED",),
            claims=(("Loyalty", "string"),),
            customer_constraints=[a_rolling],
        ),
        # org 100606: the "Get all customer badges" page
        _badge(
            now,
            "662643308fe258516a88f924",
            ORG_B,
            "BADGE_ASDFG",
            claims=(("Loyalty", "123210"),),
            description="Purchase products worth minimum 1K in the month of March",
            badge_constraints=[
                _fixed("BADGE_FIXED_VALUE", 1000),
                {
                    "constraintType": "BADGE_ROLLING_WINDOW",
                    "rollType": "WEEKS",
                    "rollValue": 1,
                    "maxEarnLimit": 2000,
                },
                {"constraintType": "BADGE_NO_LIMIT"},
                {"constraintType": "BADGE_SEASONAL_WINDOW", "season": "WINTER"},
            ],
            custom_fields={"2024": "true", "Date": "2025-01-18T09:09:09Z"},
        ),
        _badge(
            now,
            "653dea07b3cda7078c7c68ee",
            ORG_B,
            "Birthday Badge",
            earn_type="ISSUE_EARN",
            group=GROUP_B,
            rank=2,
            image_tags=("EARNED", "UN_EARNED"),
            description="Make a purchase during your birthday month and get a 40% discount",
            claims=(("Loyalty", "626"), ("Loyalty", "626_TransactionAdd"), ("Loyalty", "123")),
            customer_constraints=[_fixed("CUSTOMER_BADGE_FIXED_VALUE", 1)],
            custom_fields={
                "2024": "true",
                "Date": "2025-01-18 14:39:09",
                "Category1": "false",
                "Priority": "1",
            },
        ),
        _badge(
            now,
            "666638f0ae20cb256ec13e23",
            ORG_B,
            "demoBadgeName001",
            description="testing-fixed-window-7-2",
            image_tags=("UN_EARNED",),
            owners=("Loyalty_Promotion",),
            claims=(("Loyalty_Promotion", "12332345"),),
        ),
        _badge(
            now,
            "67eb9e2d6666db076c3c7556",
            ORG_B,
            "Badge Issue georgetesst",
            earn_type="ISSUE_EARN",
            rank=3,
            description="Make 5 transactions",
            image_tags=("EARNED",),
            owners=(
                "Milestones",
                "Audience_Campaigns",
                "Historical_Import",
                "Journeys",
                "Loyalty",
                "Rewards_Catalog",
                "Loyalty_Promotion",
                "Goodwill_Module",
                "Referral_Campaigns",
            ),
            claims=(("Loyalty", "12341234"),),
            customer_constraints=[{"constraintType": "CUSTOMER_BADGE_NO_LIMIT"}],
        ),
        _badge(
            now,
            "6673b08c39c6a546eb054726",
            ORG_B,
            "badge issual3",
            rank=1,
            start=60,
            expires=400,
            description="Purchase products worth minimum 1K",
        ),
        _badge(
            now,
            "6655729a8be1b54e57d602f1",
            ORG_B,
            "demoName",
            description="demoDescription",
            expires=-60,
            image_tags=("UN_EARNED",),
            owners=("Loyalty_Promotion",),
        ),
        _badge(
            now,
            "6576bf1191e0b01c659ad5d6",
            ORG_B,
            "Automation_Test_Badge_Issue_2023-12-11 13:20:36.812999",
            description="Automation_Test_Badge_Issue_2023-12-11 13:20:36.812999",
            earn_type="ISSUE_EARN",
            expires=-300,
            start=-310,
            image_tags=("UN_EARNED", "IN_PROGRESS"),
            owners=("Audience_Campaigns",),
            claims=(("Audience_Campaigns", "1175688"),),
        ),
        # Not on the pages: the rest of org B's groups, so RANK and groupId have more to show.
        _badge(
            now,
            "65c3600c60d9261bdd8a6420",
            ORG_B,
            "Anniversary Badge",
            group=GROUP_B,
            rank=1,
            description="Shop on your membership anniversary",
            image_tags=("UN_EARNED",),
        ),
        _badge(
            now,
            "65c3600c60d9261bdd8a6421",
            ORG_B,
            "Summer 2023 Badge",
            group=GROUP_B_ARCHIVE,
            start=-500,
            expires=-400,
            active=False,
            description="Retired with the summer 2023 campaign",
        ),
    ]
    groups = [
        {
            "_id": GROUP_A,
            "orgId": ORG_A,
            "name": "Group",
            "rank": 1,
            "createdOn": now - timedelta(days=300),
            "lastUpdatedOn": now - timedelta(days=300),
        },
        {
            "_id": GROUP_B,
            "orgId": ORG_B,
            "name": "2024 Badges",
            "rank": 1,
            "createdOn": now - timedelta(days=300),
            "lastUpdatedOn": now - timedelta(days=300),
        },
        {
            "_id": GROUP_B_ARCHIVE,
            "orgId": ORG_B,
            "name": "Archive",
            "rank": None,
            "createdOn": now - timedelta(days=300),
            "lastUpdatedOn": now - timedelta(days=300),
        },
    ]
    customers = [
        {
            "_id": 62407752,
            "orgId": ORG_A,
            "email": "tom.sawyer@example.com",
            "mobile": "919999000001",
            "externalId": "ext-62407752",
            "cardNumbers": ["CARD-0001"],
        },
        {
            "_id": 62407753,
            "orgId": ORG_A,
            "email": "huck.finn@example.com",
            "mobile": None,
            "externalId": None,
            "cardNumbers": [],
        },
        {
            "_id": 62090013,
            "orgId": ORG_B,
            "email": "swati.jain@example.com",
            "mobile": "919999000002",
            "externalId": "ext-62090013",
            "cardNumbers": ["CARD-1001", "CARD-1002"],
        },
        {
            # A new member of org B: no records at all.
            "_id": 62090014,
            "orgId": ORG_B,
            "email": "becky.thatcher@example.com",
            "mobile": None,
            "externalId": None,
            "cardNumbers": [],
        },
    ]
    records = [
        # Tom (org A): enrolled in one, earned (live) one, earn expired one, revoked one.
        _record(now, ORG_A, 62407752, "662f671b0b50ae4de0cd3822", issued=-10),
        _record(now, ORG_A, 62407752, "664442c560646c1208ede8f4", issued=-40, earned=1),
        _record(
            now,
            ORG_A,
            62407752,
            "664db59d9e99dd11b81add38",
            issued=-60,
            earned=2,
            earn_expires=-3,
            earned_at=-30,
        ),
        _record(now, ORG_A, 62407752, "662f62ba0b50ae4de0cd3816", issued=-15, status="REVOKED"),
        _record(now, ORG_A, 62407752, "65efdc7f7d12f807399df869", earned=1, earned_at=-2),
        # Swati (org B): earned several, at her limit on the birthday badge.
        _record(
            now, ORG_B, 62090013, "662643308fe258516a88f924", issued=-90, earned=1, earned_at=-80
        ),
        _record(now, ORG_B, 62090013, "653dea07b3cda7078c7c68ee", earned=1, earned_at=-12),
        _record(
            now, ORG_B, 62090013, "666638f0ae20cb256ec13e23", issued=-20, earned=2, earned_at=-4
        ),
        _record(
            now,
            ORG_B,
            62090013,
            "67eb9e2d6666db076c3c7556",
            earned=1,
            earned_at=-1,
            earn_expires=200,
        ),
        _record(
            now,
            ORG_B,
            62090013,
            "6576bf1191e0b01c659ad5d6",
            earned=1,
            earned_at=-305,
            earn_expires=-290,
        ),
    ]
    clients: list[dict[str, Any]] = [
        {"username": u, "password": p, "key": k, "secret": s, "orgId": o, "active": a}
        for u, p, k, s, o, a in DEMO_CLIENTS
    ]
    return {
        "badge_groups": groups,
        "badge_meta": badges,
        "customers": customers,
        "customer_badges": records,
        "api_clients": clients,
    }


def credentials_text() -> str:
    lines = ["Demo credentials (Basic: username + MD5 of the password; OAuth: key + secret):"]
    for username, password, key, secret, org, active in DEMO_CLIENTS:
        state = "" if active else "  (inactive: answers 403)"
        lines.append(
            f"  org {org}: username={username} password={password} key={key} secret={secret}{state}"
        )
    return "\n".join(lines)
