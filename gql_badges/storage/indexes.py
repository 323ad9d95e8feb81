"""The indexes each access path needs, how look-ups use them, and what to do when one is missing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import OperationFailure

from gql_badges.storage.collections import (
    API_CLIENTS,
    BADGE_GROUPS,
    BADGE_META,
    CUSTOMER_BADGES,
    CUSTOMERS,
    Document,
)


def _identifier_index(field: str) -> IndexModel:
    """Unique within an org, for documents that have the identifier at all.

    Being partial, MongoDB uses it only for a predicate that implies the filter; an equality
    alone does not (its planner has no rule for `$type`), so look-ups send `lookup_filter`'s
    `{field: {$eq: v, $type: "string"}}`. The embedded server never plans a partial index.
    """
    return IndexModel(
        [("orgId", ASCENDING), (field, ASCENDING)],
        unique=True,
        partialFilterExpression={field: {"$type": "string"}},
        name=f"orgId_{field}",
    )


# One index per documented access path; README "Deploying on MongoDB" says what each serves.
INDEXES: dict[str, list[IndexModel]] = {
    CUSTOMER_BADGES: [
        IndexModel(
            [("orgId", ASCENDING), ("customerId", ASCENDING), ("badgeMetaId", ASCENDING)],
            unique=True,
            name="orgId_customerId_badgeMetaId",
        ),
    ],
    CUSTOMERS: [
        IndexModel([("orgId", ASCENDING), ("_id", ASCENDING)], name="orgId_id"),
        _identifier_index("email"),
        _identifier_index("mobile"),
        _identifier_index("externalId"),
        _identifier_index("cardNumbers"),
    ],
    BADGE_META: [
        IndexModel(
            [("orgId", ASCENDING), ("expiresOn", DESCENDING), ("_id", ASCENDING)],
            name="orgId_expiresOn_id",
        ),
        IndexModel([("orgId", ASCENDING), ("startOn", ASCENDING)], name="orgId_startOn"),
        IndexModel(
            [("orgId", ASCENDING), ("lastUpdatedOn", DESCENDING), ("_id", ASCENDING)],
            name="orgId_lastUpdatedOn_id",
        ),
        IndexModel(
            [("orgId", ASCENDING), ("badgeGroupId", ASCENDING), ("badgeRank", ASCENDING)],
            name="orgId_badgeGroupId_badgeRank",
        ),
    ],
    BADGE_GROUPS: [IndexModel([("orgId", ASCENDING), ("rank", ASCENDING)], name="orgId_rank")],
    API_CLIENTS: [
        IndexModel([("username", ASCENDING)], unique=True, name="username"),
        IndexModel(
            [("key", ASCENDING)],
            unique=True,
            partialFilterExpression={"key": {"$type": "string"}},
            name="key",
        ),
    ],
}

# The index each look-up by one field is served by (collection, field) -> index name.
LOOKUP_INDEXES: dict[tuple[str, str], str] = {
    (CUSTOMERS, "email"): "orgId_email",
    (CUSTOMERS, "mobile"): "orgId_mobile",
    (CUSTOMERS, "externalId"): "orgId_externalId",
    (CUSTOMERS, "cardNumbers"): "orgId_cardNumbers",
    (API_CLIENTS, "username"): "username",
    (API_CLIENTS, "key"): "key",
}


def index_spec(collection: str, name: str) -> Document:
    """The `createIndexes` document of the index `name` on `collection`."""
    for model in INDEXES[collection]:
        if model.document["name"] == name:
            return dict(model.document)
    raise KeyError(f"{collection}.{name}")


def lookup_filter(collection: str, field: str, value: object) -> Document:
    """An equality on `field` that MongoDB's planner can serve with the field's index.

    A partial index is only used when the predicate provably implies its filter, and an
    equality does not imply `$type`; the predicate repeats the filter's own condition.
    """
    predicate: Document = {"$eq": value}
    partial = index_spec(collection, LOOKUP_INDEXES[(collection, field)]).get(
        "partialFilterExpression", {}
    )
    predicate.update(partial.get(field, {}))
    return {field: predicate}


@dataclass(frozen=True, slots=True)
class IndexProblem:
    """An index the gateway wants and does not have, with what an operator can do about it."""

    collection: str
    name: str
    code: int | None
    reason: str
    action: str

    def as_dict(self) -> Document:
        return {
            "index": f"{self.collection}.{self.name}",
            "code": self.code,
            "reason": self.reason,
            "action": self.action,
        }

    def log_line(self) -> str:
        code = f" (code {self.code})" if self.code is not None else ""
        return f"index {self.collection}.{self.name} missing{code}: {self.reason}. {self.action}"

    @classmethod
    def refused(cls, collection: str, name: str, error: OperationFailure) -> IndexProblem:
        """The server refused to create the index: what it said, and what to do."""
        code = error.code
        drop = f"drop it (db.{collection}.dropIndex({name!r}) or the index with the same keys)"
        actions = {
            85: f"an index with the same keys exists under another name or options: {drop}, "
            f"{_CREATE}",
            86: f"an index named {name!r} exists with other keys or options: {drop}, {_CREATE}",
            11000: f"documents break the unique index: fix the duplicates, {_CREATE}",
            13: f"this user may not create indexes: run {_CREATE_COMMAND} as a user with the "
            "readWrite or dbAdmin role, or set GQL_BADGES_CREATE_INDEXES=false",
        }
        action = actions.get(code or 0, f"fix the cause, {_CREATE}")
        reason = str((error.details or {}).get("codeName") or "refused by the server")
        return cls(collection, name, code, reason, action)

    @classmethod
    def compared(
        cls, collection: str, wanted: Document, found: dict[str, Document]
    ) -> IndexProblem | None:
        """The problem with index `wanted` among the indexes `found` by name, if any."""
        name = wanted["name"]
        if name not in found:
            return cls(collection, name, None, "missing", f"run {_CREATE_COMMAND}")
        if _options(wanted) != _options(found[name]):
            return cls(
                collection, name, None, "exists with other keys or options", f"drop it, {_CREATE}"
            )
        return None


_CREATE_COMMAND = "`gql-badges indexes --create`"
_CREATE = f"then run {_CREATE_COMMAND}"


def _options(document: Document) -> tuple[Any, ...]:
    """What makes two indexes of one name the same index."""
    return (
        list(dict(document["key"]).items()),
        bool(document.get("unique", False)),
        document.get("partialFilterExpression"),
    )
