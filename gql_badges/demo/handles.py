"""Named handles on the demo set, for tests, the benchmark and examples: `SWATI.id` instead of
a customer id written out again, `basic_auth(*ORG_B_CLIENT.credentials)` instead of a password.

Each handle is looked up in `data.json` by one stable value (a customer's email, a client's
username, a badge's name), so the ids and identifiers come from the data file alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId

from gql_badges.demo import (
    DEMO_CLIENTS,
    GROUP_A,
    GROUP_B,
    GROUP_B_ARCHIVE,
    ORG_A,
    ORG_B,
    DemoClient,
    raw_documents,
)


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    id: int
    org_id: int
    email: str
    mobile: str | None
    external_id: str | None
    card_numbers: tuple[str, ...]

    @property
    def key(self) -> str:
        """The customer id as a path and a GraphQL `ID` take it."""
        return str(self.id)

    @property
    def ref(self) -> dict[str, str]:
        """The GraphQL `CustomerRef` by id."""
        return {"id": self.key}


def _customer(email: str) -> DemoCustomer:
    (found,) = (c for c in raw_documents()["customers"] if c["email"] == email)
    return DemoCustomer(
        id=found["_id"],
        org_id=found["orgId"],
        email=found["email"],
        mobile=found["mobile"],
        external_id=found["externalId"],
        card_numbers=tuple(found["cardNumbers"]),
    )


def _client(username: str) -> DemoClient:
    (found,) = (c for c in DEMO_CLIENTS if c.username == username)
    return found


def _badge(org_id: int, name: str) -> ObjectId:
    (found,) = (
        b for b in raw_documents()["badge_meta"] if b["orgId"] == org_id and b["name"] == name
    )
    return ObjectId(found["_id"]["$oid"])


# Org A (100458): Tom has a record in every state; Huck has none.
TOM = _customer("tom.sawyer@example.com")
HUCK = _customer("huck.finn@example.com")
# Org B (100606): Swati has earned several (at her limit on the birthday badge); Becky is new.
SWATI = _customer("swati.jain@example.com")
BECKY = _customer("becky.thatcher@example.com")

ORG_A_CLIENT = _client("demo.100458")
ORG_B_CLIENT = _client("demo.100606")
INACTIVE_CLIENT = _client("demo.inactive")  # org B's, inactive: answers 403

BIRTHDAY_BADGE = _badge(ORG_B, "Birthday Badge")  # in GROUP_B, ISSUE_EARN, limit 1

__all__ = [
    "BECKY",
    "BIRTHDAY_BADGE",
    "GROUP_A",
    "GROUP_B",
    "GROUP_B_ARCHIVE",
    "HUCK",
    "INACTIVE_CLIENT",
    "ORG_A",
    "ORG_A_CLIENT",
    "ORG_B",
    "ORG_B_CLIENT",
    "SWATI",
    "TOM",
    "DemoClient",
    "DemoCustomer",
]
