"""What one change of a `customer_badges` record means to its customer: EARNED, ISSUED,
UPDATED or REMOVED (docs/architecture.md, "Live badges").

Pure: a change event of MongoDB's change stream, and what the hub last knew of the record,
in; a `Change` out. No driver, no clock, no I/O.

The stream carries no pre-images (they need `collMod`, which a gateway's MongoDB user may not
be allowed), so "earnCount went up" and "active became false" are judged against the
record's state the hub kept from the subscription's start or from the record's last event.
Without it (a record the hub has not seen), an update that sets `earnCount` to 1 or more counts
as earned, and one that sets `active` to false as removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import Timestamp

from gql_badges.badges.rules import REVOKED


class ChangeKind(StrEnum):
    EARNED = "EARNED"
    ISSUED = "ISSUED"
    UPDATED = "UPDATED"
    REMOVED = "REMOVED"


@dataclass(frozen=True, slots=True)
class RecordState:
    """What classifying the record's next change needs to know of it."""

    earn_count: int
    active: bool
    issued_on: datetime | None
    issue_status: str | None
    badge_meta_id: object = None  # what a delete, which carries only the `_id`, names

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> RecordState:
        earn_count = document.get("earnCount")
        return cls(
            earn_count=earn_count if isinstance(earn_count, int) else 0,
            active=document.get("active") is True,
            issued_on=document.get("issuedOn"),
            issue_status=document.get("issueStatus"),
            badge_meta_id=document.get("badgeMetaId"),
        )

    @property
    def issued(self) -> bool:
        """Issued (enrolled): an issue date, or an issue status other than REVOKED."""
        return self.issued_on is not None or (
            self.issue_status is not None and self.issue_status != REVOKED
        )


# The operations that change one record; any other (drop, rename, invalidate) ends the stream.
INSERT, UPDATE, REPLACE, DELETE = "insert", "update", "replace", "delete"
RECORD_OPERATIONS = frozenset({INSERT, UPDATE, REPLACE, DELETE})


def classify(
    operation: str,
    before: RecordState | None,
    after: RecordState | None,
    changed: frozenset[str] = frozenset(),
) -> ChangeKind:
    """The kind of one change of a record.

    `before`: the record as the hub last knew it (None: unknown, or not there); `after`: the
    record right after the change (None for a delete); `changed`: the fields an update set or
    removed (empty for other operations).

    The first rule that holds wins: REMOVED (deleted, or active became false), EARNED
    (earnCount went up; an insert counts from 0), ISSUED (issuedOn or an issue status other
    than REVOKED was set), else UPDATED.
    """
    if operation == DELETE or after is None:
        return ChangeKind.REMOVED
    known = before is not None or operation != UPDATE
    was_active = before.active if before is not None else True
    if not after.active and was_active and (known or "active" in changed):
        return ChangeKind.REMOVED
    if before is not None:
        earlier: int | None = before.earn_count
    else:
        earlier = 0 if operation != UPDATE or "earnCount" in changed else None
    if earlier is not None and after.earn_count > earlier:
        return ChangeKind.EARNED
    if after.issued:
        if before is not None:
            if (after.issued_on, after.issue_status) != (before.issued_on, before.issue_status):
                return ChangeKind.ISSUED
        elif operation != UPDATE or changed & {"issuedOn", "issueStatus"}:
            return ChangeKind.ISSUED
    return ChangeKind.UPDATED


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one customer's record, as the hub routes it to that customer's subscribers."""

    kind: ChangeKind
    record_id: object  # the record's `_id` (an ObjectId as stored)
    org_id: int
    customer_id: int
    badge_meta_id: object
    earn_count: int
    changed_on: datetime
    record: Mapping[str, Any] | None  # the record right after the change; None when removed
    cluster_time: Timestamp | None = None  # the event's, for the lag metric


def cluster_datetime(event: Mapping[str, Any]) -> datetime:
    """When the change committed: the event's wall time (MongoDB 6+), else its cluster time."""
    wall = event.get("wallTime")
    if isinstance(wall, datetime):
        return wall if wall.tzinfo is not None else wall.replace(tzinfo=UTC)
    cluster = event.get("clusterTime")
    if isinstance(cluster, Timestamp):
        return cluster.as_datetime().astimezone(UTC)
    return datetime.now(UTC)


def record_after(event: Mapping[str, Any], before: RecordState | None) -> Mapping[str, Any] | None:
    """The record right after an insert, replace or update (None after a delete, or when an
    update's record is gone by the time the stream looked it up and nothing else is known).

    An update's `fullDocument` is read when the event is delivered, so it may be newer than
    the event: the fields the update set are taken from the event itself, which is exact."""
    operation = event.get("operationType")
    if operation == DELETE:
        return None
    full = event.get("fullDocument")
    if operation != UPDATE:
        return full if isinstance(full, Mapping) else None
    description = event.get("updateDescription") or {}
    updated: Mapping[str, Any] = description.get("updatedFields") or {}
    removed = description.get("removedFields") or ()
    if isinstance(full, Mapping):
        merged = dict(full)
    elif before is not None:
        merged = {
            "earnCount": before.earn_count,
            "active": before.active,
            "issuedOn": before.issued_on,
            "issueStatus": before.issue_status,
        }
    else:
        return None
    for name in removed:
        merged.pop(name, None)
    merged.update({name: value for name, value in updated.items() if "." not in name})
    return merged


def state_after(
    event: Mapping[str, Any], before: RecordState | None, after: Mapping[str, Any] | None
) -> RecordState | None:
    """What the hub knows of the record right after the change (None after a delete).

    An update of a record the hub knows is its last state with the update's own fields applied,
    never the looked-up `fullDocument`'s: that is read at delivery, so under load it may already
    show a later write (a deactivation, a delete) and would classify this change as that one."""
    if after is None:
        return None
    if event.get("operationType") != UPDATE or before is None:
        return RecordState.of(after)
    description = event.get("updateDescription") or {}
    updated: Mapping[str, Any] = description.get("updatedFields") or {}
    removed = description.get("removedFields") or ()
    fields: dict[str, Any] = {
        "earnCount": before.earn_count,
        "active": before.active,
        "issuedOn": before.issued_on,
        "issueStatus": before.issue_status,
        "badgeMetaId": before.badge_meta_id,
    }
    for name in removed:
        fields.pop(name, None)
    fields.update({name: value for name, value in updated.items() if "." not in name})
    return RecordState.of(fields)


def changed_fields(event: Mapping[str, Any]) -> frozenset[str]:
    """The top-level fields an update set or removed (`a.b` counts as `a`)."""
    description = event.get("updateDescription") or {}
    names = [*(description.get("updatedFields") or {}), *(description.get("removedFields") or ())]
    return frozenset(name.split(".", 1)[0] for name in names)


def record_id(event: Mapping[str, Any]) -> object:
    key = event.get("documentKey") or {}
    return key.get("_id")


__all__ = [
    "Change",
    "ChangeKind",
    "RecordState",
    "changed_fields",
    "classify",
    "cluster_datetime",
    "record_after",
    "record_id",
    "state_after",
]
