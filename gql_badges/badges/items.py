"""The item fields of both APIs as one table, and the values a page's rows derive, once each.

A badge item is the same thing on the REST URIs and the GraphQL root fields, under the same
names: `ITEM_FIELDS` says, for each field, what it is (its kind), which stored `badge_meta`
fields it reads, where the legacy REST answers put it, which GraphQL item types have it, and
whether it exists only for badges the customer has earned. The REST renderer, the projection,
the OpenAPI item schemas, the GraphQL conversion and the benchmark all read this table.

`derive` turns a page's rows into `Item`s: the rules that several fields share (the customer's
state of the badge, the "earned" gate, the group's name, the badge's status) run once per row,
and every field's value is then a plain read of the `Item`.

Values here are domain values: instants are datetimes, ids hex strings, enums and sub-documents
as stored. Each API writes them in its own way (REST: epoch seconds with an ISO twin; GraphQL:
its scalars and object types).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from gql_badges.badges.rules import badge_status, customer_state
from gql_badges.enums import BadgeStatus, EarnType
from gql_badges.storage.collections import BadgeGroup, BadgeMeta, BadgeRecord


class Kind(StrEnum):
    """What a field's value is, which decides how each API writes it."""

    INSTANT = "instant"  # a datetime: REST epoch seconds + `<name>ISO`, GraphQL DateTime
    ID = "id"  # an ObjectId as its hex string: GraphQL ID
    ENUM = "enum"  # a member of a closed set, as stored (GraphQL: null outside the set)
    JSON = "json"  # passed through as stored: GraphQL JSON
    OBJECT = "object"  # a sub-document: REST as stored, GraphQL an object type
    LIST = "list"  # sub-documents: REST as stored, GraphQL a list of objects
    INT = "int"
    TEXT = "text"
    BOOL = "bool"


class Endpoint(StrEnum):
    """The two ways of listing a customer's badges (REST URI and GraphQL root field each)."""

    CUSTOMER = "customer"  # GET /badges/customer/{id}, customerBadges: type Badge
    MANAGEMENT = "management"  # GET /badges/management/{id}, badgeManagement: CustomerBadge


class Row(Protocol):
    """A row of a page as the repository returns it (`BadgeRow`)."""

    @property
    def badge(self) -> BadgeMeta: ...
    @property
    def record(self) -> BadgeRecord | None: ...
    @property
    def group(self) -> BadgeGroup | None: ...


@dataclass(slots=True)
class Item:
    """One row of a page with what its fields derive from it, each computed once.

    Not frozen: a frozen dataclass pays a call per attribute on creation, once per row."""

    badge: BadgeMeta
    record: BadgeRecord | None
    group: BadgeGroup | None
    earn_count: int | float  # the rules' earnCount (0 without a record, or not a number)
    earned: bool  # earned at least once: gates the fields that exist only when earned
    group_name: str | None
    now: datetime

    @property
    def status(self) -> BadgeStatus:
        """Only badgeStatus reads it, once; not computed for items that do not list it."""
        return badge_status(self.badge, self.now)


def derive(rows: Iterable[Row], now: datetime) -> list[Item]:
    """A page's rows as `Item`s."""
    items = []
    for row in rows:
        badge, record, group = row.badge, row.record, row.group
        earn_count = customer_state(record, now).earn_count
        earned = record is not None and earn_count >= 1
        group_name = group.get("name") if group else None
        items.append(Item(badge, record, group, earn_count, earned, group_name, now))
    return items


@dataclass(frozen=True, slots=True)
class ItemField:
    """One item field. `value` reads it off an `Item`; `stored` names the badge_meta field when
    the value is that field exactly as stored (REST copies those without a call per field)."""

    name: str  # the same in REST and GraphQL
    kind: Kind
    value: Callable[[Item], Any]
    reads: tuple[str, ...]  # the badge_meta fields it needs (besides `_id`, always read)
    stored: str | None
    rest: dict[Endpoint, int]  # the field's place among the keys of each REST answer listing it
    graphql: frozenset[Endpoint]  # the root fields whose item type has it
    nullable: bool = True
    only_when_earned: bool = False  # REST leaves the key out; GraphQL answers null
    needs_group: bool = False  # reads the group document, not only the badge's group id
    instants_inside: bool = False  # REST writes the instants inside its sub-documents
    enum: type[StrEnum] | None = None
    description: str | None = None


C, M = Endpoint.CUSTOMER, Endpoint.MANAGEMENT


def _field(
    name: str,
    kind: Kind,
    *,
    stored: str | None = None,
    value: Callable[[Item], Any] | None = None,
    reads: tuple[str, ...] = (),
    customer: int | None = None,
    management: int | None = None,
    graphql: Sequence[Endpoint] | None = None,
    **options: Any,
) -> ItemField:
    """A table row: `stored=` for a badge_meta field as stored, else `value=` (and `reads=`).
    GraphQL lists the field where REST does unless `graphql=` says otherwise."""
    rest = {
        endpoint: place for endpoint, place in ((C, customer), (M, management)) if place is not None
    }
    if stored is not None:
        key = stored
        value, reads = (lambda item: item.badge.get(key)), (stored,)
    assert value is not None, name
    return ItemField(
        name=name,
        kind=kind,
        value=value,
        reads=reads,
        stored=stored,
        rest=rest,
        graphql=frozenset(rest if graphql is None else graphql),
        **options,
    )


def _hex(value: object) -> str | None:
    return str(value) if value is not None else None


def _record(key: str) -> Callable[[Item], Any]:
    return lambda item: item.record.get(key) if item.record is not None else None


def _when_earned(key: str) -> Callable[[Item], Any]:
    return lambda item: item.record.get(key) if item.earned and item.record is not None else None


K = Kind
# Every item field of either API. `customer=` / `management=`: the place of the key in the
# legacy REST answers (the reference pages' order; an instant's ISO twin follows it).
ITEM_FIELDS: tuple[ItemField, ...] = (
    _field("badgeMetaId", K.ID, value=lambda item: str(item.badge["_id"]), nullable=False,
           customer=0, management=2),
    _field("orgId", K.INT, stored="orgId", nullable=False, customer=1),
    _field("name", K.TEXT, stored="name", customer=2, management=0),
    _field("description", K.TEXT, stored="description", customer=3, management=1),
    _field("startOn", K.INSTANT, stored="startOn", customer=4),
    _field("startsOn", K.INSTANT, stored="startOn", management=12),
    _field("expiresOn", K.INSTANT, stored="expiresOn", customer=5, management=13),
    _field("images", K.LIST, value=lambda item: item.badge.get("images") or [],
           reads=("images",), nullable=False, customer=6, management=9),
    _field("tags", K.JSON, stored="tags", customer=7),
    _field("badgeGroupId", K.ID, value=lambda item: _hex(item.badge.get("badgeGroupId")),
           reads=("badgeGroupId",), customer=8, management=4),
    _field("badgeGroupName", K.TEXT, value=lambda item: item.group_name,
           reads=("badgeGroupId",), needs_group=True, customer=9, management=5),
    _field("group", K.OBJECT, value=lambda item: item.group, reads=("badgeGroupId",),
           needs_group=True, graphql=(C, M)),
    _field("badgeRank", K.INT, stored="badgeRank", customer=10, management=6),
    _field("ownership", K.OBJECT, stored="ownership", customer=11, management=15),
    _field("earnType", K.ENUM, stored="earnType", enum=EarnType, customer=12),
    _field("badgeType", K.ENUM, stored="earnType", enum=EarnType, management=3,
           description="The badge's earnType."),
    _field("customerConstraints", K.LIST,
           value=lambda item: item.badge.get("customerConstraints") or [],
           reads=("customerConstraints",), nullable=False, instants_inside=True, customer=13),
    _field("badgeConstraints", K.LIST,
           value=lambda item: item.badge.get("badgeConstraints") or [],
           reads=("badgeConstraints",), nullable=False, instants_inside=True, customer=14),
    _field("earnedCount", K.INT, value=_record("earnCount"), customer=15,
           description="Null when the customer has no record."),
    _field("lastEarnedOnDate", K.INSTANT, value=_when_earned("lastEarnedOn"),
           only_when_earned=True, customer=16, management=18,
           description="When the customer last earned it (only when earned)."),
    _field("lastEarnEventDate", K.INSTANT, value=_when_earned("lastEarnEventDate"),
           only_when_earned=True, customer=17, management=19,
           description="The event that last earned it (only when earned)."),
    _field("customFields", K.JSON, stored="customFields", customer=18),
    _field("active", K.BOOL, stored="active", customer=19, management=17),
    _field("createdOn", K.INSTANT, stored="createdOn", management=7),
    _field("lastUpdatedOn", K.INSTANT, stored="lastUpdatedOn", management=8),
    _field("badgeStatus", K.ENUM, value=lambda item: item.status, reads=("startOn", "expiresOn"),
           enum=BadgeStatus, nullable=False, management=10, graphql=(C, M)),
    _field("lastEarnedOn", K.INSTANT, value=_record("lastEarnedOn"), management=11),
    _field("earnCount", K.INT, value=lambda item: item.earn_count, management=14,
           description="GraphQL: null only with a VALUE_OUT_OF_RANGE error, for a stored "
           "count over 32 bits (REST writes the number)."),
    _field("issueStatus", K.TEXT, value=_record("issueStatus"), management=16),
)  # fmt: skip
BY_NAME = {field.name: field for field in ITEM_FIELDS}


def rest_fields(endpoint: Endpoint) -> tuple[ItemField, ...]:
    """The fields of a REST answer of `endpoint`, in its key order."""
    listed = [field for field in ITEM_FIELDS if endpoint in field.rest]
    return tuple(sorted(listed, key=lambda field: field.rest[endpoint]))


def graphql_fields(endpoint: Endpoint) -> tuple[ItemField, ...]:
    """The fields of the GraphQL item type of `endpoint`, in table order."""
    return tuple(field for field in ITEM_FIELDS if endpoint in field.graphql)


def rest_keys(endpoint: Endpoint, earned: bool = True) -> tuple[str, ...]:
    """The keys of a REST item of `endpoint`, in order: each instant followed by its ISO twin;
    without the fields that exist only when earned unless `earned`."""
    keys: list[str] = []
    for field in rest_fields(endpoint):
        if field.only_when_earned and not earned:
            continue
        keys.append(field.name)
        if field.kind is Kind.INSTANT:
            keys.append(field.name + "ISO")
    return tuple(keys)
