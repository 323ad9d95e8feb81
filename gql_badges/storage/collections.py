"""The collections the gateway reads, by name, and the shape of their documents.

The shapes are `TypedDict`s: the repository and the rules read documents through them, and the
loader validates a file against them (`gql_badges.loading`), so what is accepted is what is read.
A read may project, so code reads optional-looking fields with `.get`. Enum-valued fields are
typed as the enum: the loader admits nothing else, and a value outside the set written by
another tool compares unequal to every member (the GraphQL layer shows it as null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NotRequired, Required

from bson import ObjectId
from pydantic import ConfigDict, Field, Strict, with_config
from pydantic.functional_validators import PlainValidator
from typing_extensions import TypedDict  # pydantic validates only this one before 3.12

from gql_badges.enums import EarnType, ImageTag, Owner

Document = dict[str, Any]
"""A document of no fixed shape: a filter, a projection, a pipeline stage, a raw reply."""

BADGE_GROUPS = "badge_groups"
BADGE_META = "badge_meta"
CUSTOMERS = "customers"
CUSTOMER_BADGES = "customer_badges"
API_CLIENTS = "api_clients"
COLLECTIONS = (BADGE_GROUPS, BADGE_META, CUSTOMERS, CUSTOMER_BADGES, API_CLIENTS)


def _object_id(value: object) -> ObjectId:
    if not isinstance(value, ObjectId):
        raise ValueError('expected an ObjectId ({"$oid": "<24 hex digits>"})')
    return value


def _date(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError('expected a date ({"$date": "YYYY-MM-DDTHH:MM:SSZ"})')
    return value


# The loader's checks ride on the types: an ObjectId and a date must be Extended JSON's, an
# enum field holds its value as a string from the closed set.
Oid = Annotated[ObjectId, PlainValidator(_object_id)]
Date = Annotated[datetime, PlainValidator(_date)]
OwnerName = Annotated[Owner, Strict(False)]
ImageTagName = Annotated[ImageTag, Strict(False)]
EarnTypeName = Annotated[EarnType, Strict(False)]

# What a load file may hold: exact types (no "1" for 1), and fields of the gateway's own besides.
_STRICT = ConfigDict(strict=True, extra="allow", arbitrary_types_allowed=True)


@with_config(_STRICT)
class BadgeGroup(TypedDict):
    _id: Oid
    orgId: int
    name: str
    rank: NotRequired[int | None]
    createdOn: NotRequired[Date | None]
    lastUpdatedOn: NotRequired[Date | None]


@with_config(_STRICT)
class Image(TypedDict):
    name: NotRequired[str | None]
    fileSvcHandle: NotRequired[str | None]
    url: NotRequired[str | None]
    tag: ImageTagName


@with_config(_STRICT)
class Claim(TypedDict):
    ownerType: OwnerName
    referenceId: NotRequired[str | None]
    isActive: bool


@with_config(_STRICT)
class Ownership(TypedDict):
    restrictedToOwners: NotRequired[list[OwnerName]]
    claims: NotRequired[list[Claim]]


@with_config(_STRICT)
class Constraint(TypedDict, total=False):
    """`constraintType`, then the fields of that type, as stored (docs/semantics.md)."""

    constraintType: Required[str]
    maxEarnLimit: int | None
    rollType: str | None
    rollValue: int | None
    maxEarnForDays: int | None
    rollForDays: int | None
    maxEarnForWeeks: int | None
    rollForWeeks: int | None
    maxEarnForMonths: int | None
    rollForMonths: int | None
    referenceId: str | None
    durationType: str | None
    refreshRate: int | None
    startDayOfTheWeek: str | None
    cycleStatus: str | None
    startDate: datetime | None
    endDate: datetime | None


@with_config(_STRICT)
class BadgeMeta(TypedDict):
    _id: Oid
    orgId: int
    name: str
    description: NotRequired[str | None]
    earnType: EarnTypeName
    startOn: Date
    expiresOn: Date
    images: NotRequired[list[Image]]
    tags: NotRequired[list[Any]]
    badgeGroupId: NotRequired[Oid | None]
    badgeRank: NotRequired[int | None]
    ownership: Ownership
    customerConstraints: NotRequired[list[Constraint]]
    badgeConstraints: NotRequired[list[Constraint]]
    customFields: NotRequired[dict[str, str]]
    active: bool
    createdOn: NotRequired[Date | None]
    lastUpdatedOn: NotRequired[Date | None]


@with_config(_STRICT)
class Customer(TypedDict):
    _id: Annotated[int, Field(gt=0)]
    orgId: int
    email: NotRequired[str | None]
    mobile: NotRequired[str | None]
    externalId: NotRequired[str | None]
    cardNumbers: NotRequired[list[str]]


@with_config(_STRICT)
class BadgeRecord(TypedDict):
    """A customer's record of one badge (collection `customer_badges`)."""

    _id: Oid
    orgId: int
    customerId: int
    badgeMetaId: Oid
    issuedOn: NotRequired[Date | None]
    issueStatus: NotRequired[str | None]
    earnCount: Annotated[int, Field(ge=0)]
    lastEarnedOn: NotRequired[Date | None]
    lastEarnEventDate: NotRequired[Date | None]
    earnExpiresOn: NotRequired[Date | None]
    active: bool
    lastUpdatedOn: NotRequired[Date | None]


@with_config(_STRICT)
class ApiClient(TypedDict):
    """An API client as stored: its secrets only as Argon2 hashes."""

    orgId: int
    username: str
    passwordHash: str
    key: NotRequired[str | None]
    secretHash: NotRequired[str | None]
    active: bool


@with_config(_STRICT)
class ApiClientEntry(TypedDict):
    """An API client as a load file gives it: plain password and secret, hashed on write."""

    orgId: int
    username: Annotated[str, Field(min_length=1)]
    password: Annotated[str, Field(min_length=1)]
    key: NotRequired[str | None]
    secret: NotRequired[str | None]
    active: NotRequired[bool]
