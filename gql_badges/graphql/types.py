"""The GraphQL object types, and how a page's rows become them.

Rows are converted once per item into plain Strawberry dataclasses, with only the fields the
request selected: every field then resolves as a plain attribute, with no per-field resolver
work. The item fields' values come from the item table (`badges/items.py`);
`tests/badges/test_items.py` checks that the item types here have exactly its fields, of its kinds.
"""

from __future__ import annotations

import functools
import math
import re
import typing
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import get_object_definition

from gql_badges.badges.items import Endpoint, Item, ItemField, Kind, Row, derive, graphql_fields
from gql_badges.badges.repository import RowPage
from gql_badges.enums import (
    BadgeAction,
    BadgeStatus,
    BadgeType,
    ConstraintType,
    CustomerSortOn,
    DateOperator,
    EarnType,
    ImageTag,
    ManagementSortOn,
    Owner,
    SortOrder,
)
from gql_badges.errors import StoredValueInvalid, ValueOutOfRange
from gql_badges.storage.collections import Document

# The domain's enums are the GraphQL enums: Strawberry marks each class in place.
strawberry.enum(BadgeType, description="Which badges of the customer to list.")
strawberry.enum(Owner, description="A module that may own or claim a badge.")
for _enum_class in (
    BadgeStatus,
    EarnType,
    ImageTag,
    BadgeAction,
    SortOrder,
    DateOperator,
    ManagementSortOn,
    CustomerSortOn,
):
    strawberry.enum(_enum_class)

E = TypeVar("E", bound=StrEnum)


@functools.cache
def _members_by_value(enum: type[E]) -> dict[object, E]:
    return {member.value: member for member in enum}


def _enum(enum: type[E], value: Any) -> E | None:
    """The member for a stored value; None for a value outside the closed set.

    What `enum(value)` answers, from a table built once per enum, without the call's cost (and
    its exception for a value outside): it runs for every enum field of every item.
    """
    try:
        return _members_by_value(enum).get(value)
    except TypeError:  # unhashable (a stored list or object): no member equals it
        return None


# The class of stored values each conversion below keeps as they are (with null), for a plan to
# write those without calling it (`plan.Read`); an enum's conversion: the enum (a text, its value).
_KEPT: weakref.WeakKeyDictionary[Callable[[Any], Any], type] = weakref.WeakKeyDictionary()


def kept_class(convert: Callable[[Any], Any] | None) -> type | None:
    """The class of stored values `convert` keeps as they are (an int: within 32 bits), or for
    an enum's conversion the enum (a text is its member of that value, or null); None when it
    is not known to keep any."""
    return _KEPT.get(convert) if convert is not None else None


# The entries of the stored lists each list conversion below keeps (see `kept_entries`).
_KEPT_ENTRIES: weakref.WeakKeyDictionary[Callable[[Any], Any], type] = weakref.WeakKeyDictionary()


def kept_entries(convert: Callable[[Any], Any] | None) -> type | None:
    """For a conversion of a stored list: `dict` when it keeps a list of objects as it is (the
    objects' completion checks each); an enum when it makes a list of texts the members of
    those that are its values (the others dropped). None when it is not known to do either."""
    return _KEPT_ENTRIES.get(convert) if convert is not None else None


def _enum_of(enum: type[E]) -> Callable[[Any], E | None]:
    """The conversion of a stored value to its member of `enum` (`_enum`)."""
    convert = functools.partial(_enum, enum)
    _KEPT[convert] = enum
    return convert


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _int(field: str) -> Callable[[Any], Any]:
    """A stored integer for an Int field as it is, or the field's error: when GraphQL's 32 bits
    cannot carry it, or when it is no integer at all (graphql-core raises an exception it finds
    as a field's value). A double with an integral value is an integer, as Int coerces it."""

    def checked(value: Any) -> Any:
        if value is None or (type(value) is int and _INT_MIN <= value <= _INT_MAX):
            return value
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        elif not isinstance(value, int) or isinstance(value, bool):
            return StoredValueInvalid(field, "an Int")
        if not _INT_MIN <= value <= _INT_MAX:
            return ValueOutOfRange(field)
        return value

    _KEPT[checked] = int
    return checked


def _typed(field: str, cls: type, expected: str) -> Callable[[Any], Any]:
    """A stored value for a field of GraphQL type `expected` as it is when it is a `cls` (or
    null), else the field's error: graphql-core would turn some into text of its own (a number
    into a String) and fail on others with an internal error."""

    def checked(value: Any) -> Any:
        if value is None or isinstance(value, cls):
            return value
        return StoredValueInvalid(field, expected)

    _KEPT[checked] = cls
    return checked


def _text(field: str) -> Callable[[Any], Any]:
    return _typed(field, str, "a String")


def _bool(field: str) -> Callable[[Any], Any]:
    return _typed(field, bool, "a Boolean")


def _instant(field: str) -> Callable[[Any], Any]:
    return _typed(field, datetime, "a DateTime")


# A sub-object type's fields (by attribute), each with its stored name and how its value is made
# of the stored one.
StoredTable = dict[str, tuple[str, Callable[[Any], Any]]]


def _made(cls: type, table: StoredTable, stored: Document) -> Any:
    """An object of `cls` made of a stored sub-document, field by field as `table` says."""
    get = stored.get
    return cls(**{name: make(get(key)) for name, (key, make) in table.items()})


@strawberry.type
class BadgeImage:
    name: str | None
    file_svc_handle: str | None
    url: str | None
    tag: ImageTag | None


@strawberry.type
class Claim:
    owner_type: Owner | None
    reference_id: str | None
    is_active: bool | None


@strawberry.type
class Ownership:
    restricted_to_owners: list[Owner]
    claims: list[Claim]


@strawberry.type
class BadgeGroup:
    id: strawberry.ID
    name: str | None
    rank: int | None


@strawberry.type
class Pagination:
    page: int
    size: int = strawberry.field(description="The number of items on this page.")
    total: int
    total_pages: int


# --- constraints ----------------------------------------------------------------------------


@strawberry.type
class CustomerBadgeFixedValueConstraint:
    constraint_type: str
    max_earn_limit: int | None


@strawberry.type
class BadgeFixedValueConstraint:
    constraint_type: str
    max_earn_limit: int | None


@strawberry.type
class CustomerBadgeRollingWindowConstraint:
    constraint_type: str
    max_earn_for_days: int | None
    roll_for_days: int | None
    max_earn_for_weeks: int | None
    roll_for_weeks: int | None
    max_earn_for_months: int | None
    roll_for_months: int | None


@strawberry.type
class BadgeRollingWindowConstraint:
    constraint_type: str
    roll_type: str | None
    roll_value: int | None
    max_earn_limit: int | None


@strawberry.type
class CustomerBadgeFixedWindowConstraint:
    constraint_type: str
    reference_id: str | None
    duration_type: str | None
    refresh_rate: int | None
    start_day_of_the_week: str | None
    max_earn_limit: int | None
    cycle_status: str | None
    start_date: datetime | None
    end_date: datetime | None


@strawberry.type
class BadgeFixedWindowConstraint(CustomerBadgeFixedWindowConstraint):
    pass


@strawberry.type
class CustomerBadgeNoLimitConstraint:
    constraint_type: str


@strawberry.type
class BadgeNoLimitConstraint:
    constraint_type: str


@strawberry.type(description="A constraint of a type this gateway does not know; `raw` as stored.")
class UnknownConstraint:
    constraint_type: str = strawberry.field(
        description="As stored; empty when the stored constraint names no type."
    )
    raw: JSON


CONSTRAINT_UNION = "BadgeConstraint"
BadgeConstraint = Annotated[
    CustomerBadgeFixedValueConstraint
    | BadgeFixedValueConstraint
    | CustomerBadgeRollingWindowConstraint
    | BadgeRollingWindowConstraint
    | CustomerBadgeFixedWindowConstraint
    | BadgeFixedWindowConstraint
    | CustomerBadgeNoLimitConstraint
    | BadgeNoLimitConstraint
    | UnknownConstraint,
    strawberry.union(CONSTRAINT_UNION),
]


@functools.cache  # per class, not per constraint of every item
def strawberry_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.python_name for f in get_object_definition(cls, strict=True).fields)


_CONSTRAINT_TYPES: dict[str, type] = {
    ConstraintType.CUSTOMER_BADGE_FIXED_VALUE: CustomerBadgeFixedValueConstraint,
    ConstraintType.BADGE_FIXED_VALUE: BadgeFixedValueConstraint,
    ConstraintType.CUSTOMER_BADGE_ROLLING_WINDOW: CustomerBadgeRollingWindowConstraint,
    ConstraintType.BADGE_ROLLING_WINDOW: BadgeRollingWindowConstraint,
    ConstraintType.CUSTOMER_BADGE_FIXED_WINDOW: CustomerBadgeFixedWindowConstraint,
    ConstraintType.BADGE_FIXED_WINDOW: BadgeFixedWindowConstraint,
    ConstraintType.CUSTOMER_BADGE_NO_LIMIT: CustomerBadgeNoLimitConstraint,
    ConstraintType.BADGE_NO_LIMIT: BadgeNoLimitConstraint,
}

# The stored (camelCase) name of each snake_case field of the constraint types.
_CAMEL = {
    name: name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
    for cls in _CONSTRAINT_TYPES.values()
    for name in cls.__annotations__
}


# The leaf fields of each constraint type, each with the check of its stored value's type.
_LEAF_CHECKS: dict[type, Callable[[str], Callable[[Any], Any]]] = {
    int: _int,
    str: _text,
    datetime: _instant,
}
_CHECKS = {
    cls: {
        name: _LEAF_CHECKS[leaf](_CAMEL[name])
        for name, hint in typing.get_type_hints(cls).items()
        if name != "constraint_type"  # the type's own name, never read from the value
        for leaf in typing.get_args(hint)
        if leaf in _LEAF_CHECKS
    }
    for cls in _CONSTRAINT_TYPES.values()
}


def as_stored(value: Any) -> Any:
    """The conversion that keeps a stored value as it is (a plan reads it without a call)."""
    return value


# Each field of each constraint type (by attribute): its stored name and how its value is made of
# the stored one (its type checked; `constraintType` as stored, the key that chose the type).
# Both `to_constraint` and a plan writing constraints from the stored documents read it
# (`graphql/item_rows.py`), so the two convert alike.
CONSTRAINT_FIELDS: dict[type, StoredTable] = {
    cls: {
        name: (_CAMEL[name], _CHECKS[cls].get(name, as_stored)) for name in strawberry_fields(cls)
    }
    for cls in _CONSTRAINT_TYPES.values()
}

# The stored field naming a constraint's type, and the type of each name it may hold: a
# constraint of any other (or no) name is an `UnknownConstraint`.
CONSTRAINT_KIND = "constraintType"
CONSTRAINT_TYPES: dict[str, type] = _CONSTRAINT_TYPES


def to_constraint(stored: Any) -> Any:
    kind = stored.get(CONSTRAINT_KIND) if isinstance(stored, dict) else None
    cls = _CONSTRAINT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return UnknownConstraint(constraint_type=kind if isinstance(kind, str) else "", raw=stored)
    return _made(cls, CONSTRAINT_FIELDS[cls], stored)


def _constraints(stored: Any) -> list[Any]:
    """A badge's constraints; a value stored in place of their list is one constraint of a type
    this gateway does not know, raw as stored (its `raw` keeps it whole)."""
    if not isinstance(stored, list):
        return [UnknownConstraint(constraint_type="", raw=stored)]
    return [to_constraint(constraint) for constraint in stored]


# --- badges ---------------------------------------------------------------------------------


@strawberry.interface(description="What every badge item has, on either root field.")
class BadgeItem:
    badge_meta_id: strawberry.ID
    name: str | None
    description: str | None
    badge_group_id: strawberry.ID | None
    badge_group_name: str | None
    group: BadgeGroup | None
    badge_rank: int | None
    expires_on: datetime | None
    images: list[BadgeImage]
    ownership: Ownership | None
    active: bool | None
    badge_status: BadgeStatus
    last_earned_on_date: datetime | None = strawberry.field(
        description="When the customer last earned it (null unless earned)."
    )
    last_earn_event_date: datetime | None = strawberry.field(
        description="The event that last earned it (null unless earned)."
    )


@strawberry.type(description="A badge as the customer endpoint lists it.")
class Badge(BadgeItem):
    org_id: int
    start_on: datetime | None
    tags: JSON | None
    earn_type: EarnType | None
    customer_constraints: list[BadgeConstraint]
    badge_constraints: list[BadgeConstraint]
    earned_count: int | None = strawberry.field(description="Null when the customer has no record.")
    custom_fields: JSON | None


@strawberry.type(description="A badge as the management endpoint lists it.")
class CustomerBadge(BadgeItem):
    badge_type: EarnType | None
    created_on: datetime | None
    last_updated_on: datetime | None
    last_earned_on: datetime | None
    starts_on: datetime | None
    earn_count: int | None = strawberry.field(
        description=(
            "Null only with a field error: VALUE_OUT_OF_RANGE for a stored count over 32 bits, "
            "STORED_VALUE_INVALID for one that is not an integer."
        )
    )
    issue_status: str | None


@strawberry.type
class BadgePage:
    badges: list[Badge]
    pagination: Pagination


@strawberry.type
class CustomerBadgePage:
    customer_badges: list[CustomerBadge]
    pagination: Pagination


_IMAGE_NAME, _IMAGE_HANDLE, _IMAGE_URL = _text("name"), _text("fileSvcHandle"), _text("url")


def _invalid_image(field: str, expected: str) -> BadgeImage:
    """The list and its items are non-null: an image that is not an object is served with each
    of its fields in error (graphql-core raises an exception it finds as a field's value), so
    that the rest of the badge is served."""
    error: Any = StoredValueInvalid(field, expected)
    return BadgeImage(name=error, file_svc_handle=error, url=error, tag=error)


# Each field of an image (by attribute): its stored name and how its value is made of the
# stored one. Both `_image` and a plan writing images from the stored documents read it
# (`graphql/item_rows.py`), so the two convert alike.
IMAGE_FIELDS: StoredTable = {
    "name": ("name", _IMAGE_NAME),
    "file_svc_handle": ("fileSvcHandle", _IMAGE_HANDLE),
    "url": ("url", _IMAGE_URL),
    "tag": ("tag", _enum_of(ImageTag)),
}


def _image(stored: Any, at: str) -> BadgeImage:
    if not isinstance(stored, dict):
        return _invalid_image(at, "an object")
    image: BadgeImage = _made(BadgeImage, IMAGE_FIELDS, stored)
    return image


def _images(stored: Any) -> list[BadgeImage]:
    if not isinstance(stored, list):
        return [_invalid_image("images", "a list of objects")]
    return [_image(image, f"images.{n}") for n, image in enumerate(stored)]


def _owners(stored: Any) -> Any:
    """The owners a badge is restricted to: the known ones of the stored list (none when unset)."""
    owners = stored or []
    if not isinstance(owners, list):
        return StoredValueInvalid("ownership.restrictedToOwners", "a list")
    members = _members_by_value(Owner)
    try:
        return [members[owner] for owner in owners if owner in members]
    except TypeError:  # an unhashable entry (a list, an object): no member equals it
        return [member for member in map(_OWNER, owners) if member is not None]


def _claim_documents(stored: Any) -> Any:
    """The stored claims of a badge's ownership (none when unset), each an object."""
    claims = stored or []
    if not isinstance(claims, list):
        return StoredValueInvalid("ownership.claims", "a list of objects")
    for claim in claims:
        if not isinstance(claim, dict):
            return StoredValueInvalid("ownership.claims", "a list of objects")
    return claims


_KEPT_ENTRIES[_owners] = Owner
_KEPT_ENTRIES[_claim_documents] = dict


_OWNER = _enum_of(Owner)

# Each field of a claim, of a badge's ownership and of a badge's group (by attribute): its
# stored name and how its value is made of the stored one, as for images. `claims` is the list
# of stored claim documents, each made a `Claim` by its table.
CLAIM_FIELDS: StoredTable = {
    "owner_type": ("ownerType", _OWNER),
    "reference_id": ("referenceId", _text("referenceId")),
    "is_active": ("isActive", _bool("isActive")),
}
OWNERSHIP_FIELDS: StoredTable = {
    "restricted_to_owners": ("restrictedToOwners", _owners),
    "claims": ("claims", _claim_documents),
}
GROUP_FIELDS: StoredTable = {
    "id": ("_id", str),  # an ObjectId's hex text: an `ID` is a `str`
    "name": ("name", _text("name")),
    "rank": ("rank", _int("rank")),
}


def _ownership(stored: Any) -> Ownership | StoredValueInvalid | None:
    if stored is None:
        return None
    if not isinstance(stored, dict):
        return StoredValueInvalid("ownership", "an object")
    values = {name: make(stored.get(key)) for name, (key, make) in OWNERSHIP_FIELDS.items()}
    for value in values.values():
        if isinstance(value, StoredValueInvalid):
            return value
    return Ownership(
        restricted_to_owners=values["restricted_to_owners"],
        claims=[_made(Claim, CLAIM_FIELDS, claim) for claim in values["claims"]],
    )


def _group(stored: Document | None) -> BadgeGroup | None:
    return None if stored is None else _made(BadgeGroup, GROUP_FIELDS, stored)


# The sub-object types a plan writes straight from their stored documents
# (`graphql/item_rows.py`), with the table of each: the one their conversions here read.
STORED_FIELDS: dict[type, StoredTable] = {
    BadgeImage: IMAGE_FIELDS,
    Ownership: OWNERSHIP_FIELDS,
    Claim: CLAIM_FIELDS,
    BadgeGroup: GROUP_FIELDS,
    **CONSTRAINT_FIELDS,
}


# How a GraphQL item field is made of its item value, when not the value itself: enums by kind,
# sub-documents into their object types by field.
_OBJECTS: dict[str, Callable[[Any], Any]] = {
    "images": _images,
    "ownership": _ownership,
    "group": _group,
    "customerConstraints": _constraints,
    "badgeConstraints": _constraints,
}


def python_name(name: str) -> str:
    """`badgeMetaId` → `badge_meta_id`: the attribute Strawberry names `badgeMetaId`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _convert(field: ItemField) -> Callable[[Any], Any] | None:
    if field.kind in (Kind.OBJECT, Kind.LIST):
        return _OBJECTS[field.name]
    if field.kind is Kind.INT:
        return _int(field.name)
    if field.kind is Kind.TEXT:
        return _text(field.name)
    if field.kind is Kind.BOOL:
        return _bool(field.name)
    if field.kind is Kind.INSTANT:
        return _instant(field.name)
    if field.kind is Kind.ENUM:
        enum = field.enum
        assert enum is not None, field.name
        return _enum_of(enum)
    return None


def field_conversion(field: ItemField) -> Callable[[Any], Any] | None:
    """How the item types make `field` of its item value (None: the value itself). A compiled
    plan writing items from their rows converts with it too (`graphql/item_rows.py`)."""
    if field.name not in _CONVERSIONS:  # one conversion per field, not per plan
        _CONVERSIONS[field.name] = _convert(field)
    return _CONVERSIONS[field.name]


_CONVERSIONS: dict[str, Callable[[Any], Any] | None] = {}


_ITEM_TYPES: dict[Endpoint, type[Badge | CustomerBadge]] = {
    Endpoint.CUSTOMER: Badge,
    Endpoint.MANAGEMENT: CustomerBadge,
}
# The item fields a request selected (GraphQL names; None: every field).
Selected = frozenset[str] | None


@functools.lru_cache(maxsize=256)  # per item type and selection, not per request
def _builder(endpoint: Endpoint, selected: Selected) -> Callable[[Item], Any]:
    """A function making an object of the endpoint's item type from an `Item`, with only the
    selected fields computed and converted. The others are None: nothing reads a field the
    document does not select, and converting every sub-object of every item, selected or not,
    was most of a page's cost."""
    cls, fields = _ITEM_TYPES[endpoint], graphql_fields(endpoint)
    plan = tuple(
        (python_name(field.name), field.value, _convert(field))
        for field in fields
        if selected is None or field.name in selected
    )
    unselected: dict[str, Any] = {
        python_name(field.name): None
        for field in fields
        if selected is not None and field.name not in selected
    }

    def build(item: Item) -> Any:
        return cls(
            **unselected,
            **{
                name: read(item) if convert is None else convert(read(item))
                for name, read, convert in plan
            },
        )

    return build


def to_badges(rows: Iterable[Row], now: datetime, selected: Selected = None) -> list[Badge]:
    """A page's rows as customerBadges items, with the `selected` fields (default every one)."""
    build = _builder(Endpoint.CUSTOMER, selected)
    return [build(item) for item in derive(rows, now)]


def to_customer_badges(
    rows: Iterable[Row], now: datetime, selected: Selected = None
) -> list[CustomerBadge]:
    """A page's rows as badgeManagement items, with the `selected` fields (default every one)."""
    build = _builder(Endpoint.MANAGEMENT, selected)
    return [build(item) for item in derive(rows, now)]


def to_pagination(page: RowPage) -> Pagination:
    return Pagination(
        page=page.page, size=len(page.rows), total=page.total, total_pages=page.total_pages
    )
