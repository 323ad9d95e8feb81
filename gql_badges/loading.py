"""`gql-badges load`: a JSON file of Extended-JSON documents, checked whole, then upserted.

Every document is validated before anything is written, so a bad document (named by its
collection, position and field) leaves the database as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from bson import Int64, ObjectId, json_util
from bson.json_util import JSONOptions
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError
from pydantic.functional_validators import PlainValidator

from gql_badges import auth
from gql_badges.badges.model import EarnType, ImageTag, Owner
from gql_badges.db import (
    API_CLIENTS,
    BADGE_GROUPS,
    BADGE_META,
    CUSTOMER_BADGES,
    CUSTOMERS,
    Database,
    Document,
)

_JSON_OPTIONS = JSONOptions(tz_aware=True)


class LoadError(ValueError):
    """The file cannot be loaded; the message names every problem found."""


def _object_id(value: Any) -> ObjectId:
    if not isinstance(value, ObjectId):
        raise ValueError('expected an ObjectId ({"$oid": "<24 hex digits>"})')
    return value


def _date(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError('expected a date ({"$date": "YYYY-MM-DDTHH:MM:SSZ"})')
    return value


Oid = Annotated[ObjectId, PlainValidator(_object_id)]
Date = Annotated[datetime, PlainValidator(_date)]
# Enum fields hold their value as a string; anything outside the closed set is refused.
OwnerName = Annotated[Owner, Strict(False)]
ImageTagName = Annotated[ImageTag, Strict(False)]
EarnTypeName = Annotated[EarnType, Strict(False)]


class _Document(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", arbitrary_types_allowed=True)


class BadgeGroupDoc(_Document):
    id: Oid = Field(alias="_id")
    orgId: int
    name: str
    rank: int | None = None
    createdOn: Date | None = None
    lastUpdatedOn: Date | None = None


class ImageDoc(_Document):
    name: str | None = None
    fileSvcHandle: str | None = None
    url: str | None = None
    tag: ImageTagName


class ClaimDoc(_Document):
    ownerType: OwnerName
    referenceId: str | None = None
    isActive: bool


class OwnershipDoc(_Document):
    restrictedToOwners: list[OwnerName] = []
    claims: list[ClaimDoc] = []


class ConstraintDoc(_Document):
    constraintType: str


class BadgeMetaDoc(_Document):
    id: Oid = Field(alias="_id")
    orgId: int
    name: str
    description: str | None = None
    earnType: EarnTypeName
    startOn: Date
    expiresOn: Date
    images: list[ImageDoc] = []
    tags: list[Any] = []
    badgeGroupId: Oid | None = None
    badgeRank: int | None = None
    ownership: OwnershipDoc
    customerConstraints: list[ConstraintDoc] = []
    badgeConstraints: list[ConstraintDoc] = []
    customFields: dict[str, str] = {}
    active: bool
    createdOn: Date | None = None
    lastUpdatedOn: Date | None = None


class CustomerDoc(_Document):
    id: int = Field(alias="_id", gt=0)
    orgId: int
    email: str | None = None
    mobile: str | None = None
    externalId: str | None = None
    cardNumbers: list[str] = []


class CustomerBadgeDoc(_Document):
    id: Oid = Field(alias="_id")
    orgId: int
    customerId: int
    badgeMetaId: Oid
    issuedOn: Date | None = None
    issueStatus: str | None = None
    earnCount: int = Field(ge=0)
    lastEarnedOn: Date | None = None
    lastEarnEventDate: Date | None = None
    earnExpiresOn: Date | None = None
    active: bool
    lastUpdatedOn: Date | None = None


class ApiClientDoc(_Document):
    orgId: int
    username: str = Field(min_length=1)
    password: str = Field(min_length=1)
    key: str | None = None
    secret: str | None = None
    active: bool = True


_SCHEMAS: dict[str, type[_Document]] = {
    BADGE_GROUPS: BadgeGroupDoc,
    BADGE_META: BadgeMetaDoc,
    CUSTOMERS: CustomerDoc,
    CUSTOMER_BADGES: CustomerBadgeDoc,
    API_CLIENTS: ApiClientDoc,
}
# Write order: what is referred to before what refers to it.
_ORDER = (BADGE_GROUPS, BADGE_META, CUSTOMERS, CUSTOMER_BADGES, API_CLIENTS)


def _location(collection: str, index: int, loc: Sequence[str | int]) -> str:
    path = f"{collection}[{index}]"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{'_id' if part == 'id' else part}"
    return path


def _stored_form(collection: str, document: Document) -> Document:
    """What is written: identifiers as int64, client secrets only as hashes."""
    stored = dict(document)
    if collection == CUSTOMERS:
        stored["_id"] = Int64(stored["_id"])
    elif collection == CUSTOMER_BADGES:
        stored["customerId"] = Int64(stored["customerId"])
    elif collection == API_CLIENTS:
        stored["active"] = stored.get("active", True)  # a client is active unless it says not
        stored["passwordHash"] = auth.password_hash(stored.pop("password"))
        secret = stored.pop("secret", None)
        stored["secretHash"] = auth.hash_secret(secret) if secret else None
    return stored


def parse_load_file(text: str) -> dict[str, list[Document]]:
    """The documents to write, per collection, or LoadError naming every bad document."""
    try:
        content = json_util.loads(text, json_options=_JSON_OPTIONS)
    except json.JSONDecodeError as error:
        position = f"line {error.lineno}, column {error.colno}"
        raise LoadError(f"not valid JSON: {position}: {error.msg}") from None
    except (TypeError, ValueError) as error:  # malformed Extended JSON ($oid, $date, ...)
        raise LoadError(f"not valid Extended JSON: {error}") from None
    if not isinstance(content, Mapping):
        raise LoadError("the file must hold one JSON object keyed by collection name")
    return validate_documents(content)


def validate_documents(content: Mapping[str, Any]) -> dict[str, list[Document]]:
    """Check every document against its collection's schema; LoadError names each problem."""
    problems: list[str] = []
    loaded: dict[str, list[Document]] = {}
    for collection, documents in content.items():
        schema = _SCHEMAS.get(collection)
        if schema is None:
            known = ", ".join(_SCHEMAS)
            problems.append(f"{collection}: unknown collection (expected one of {known})")
            continue
        if not isinstance(documents, list):
            problems.append(f"{collection}: expected an array of documents")
            continue
        for index, document in enumerate(documents):
            if not isinstance(document, dict):
                problems.append(f"{collection}[{index}]: expected a document")
                continue
            try:
                schema.model_validate(document)
            except ValidationError as error:
                problems += [
                    f"{_location(collection, index, e['loc'])}: {e['msg']}" for e in error.errors()
                ]
                continue
            loaded.setdefault(collection, []).append(document)
    if problems:
        raise LoadError("nothing was written; bad documents:\n  " + "\n  ".join(problems))
    return loaded


async def write_documents(
    database: Database, documents: Mapping[str, list[Document]]
) -> dict[str, int]:
    """Upsert by `_id` (by `username` for api_clients); returns the count per collection."""
    await database.ensure_indexes()
    counts: dict[str, int] = {}
    for collection in _ORDER:
        batch = [_stored_form(collection, doc) for doc in documents.get(collection, ())]
        key = "username" if collection == API_CLIENTS else "_id"
        await database.upsert_many(collection, key, batch)
        counts[collection] = len(batch)
    return counts


async def load_text(database: Database, text: str) -> dict[str, int]:
    return await write_documents(database, parse_load_file(text))
