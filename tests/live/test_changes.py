"""The kind of a change (gql_badges/live/changes.py), checked against the rules as the contract
states them, on generated records and changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId, Timestamp
from hypothesis import given
from hypothesis import strategies as st

from gql_badges.live.changes import (
    ChangeKind,
    RecordState,
    changed_fields,
    classify,
    cluster_datetime,
    record_after,
    state_after,
)

ISSUE_STATUSES = st.sampled_from([None, "ISSUED", "REVOKED", "PENDING"])
DATES = st.sampled_from([None, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)])
STATES = st.builds(
    RecordState,
    earn_count=st.integers(0, 5),
    active=st.booleans(),
    issued_on=DATES,
    issue_status=ISSUE_STATUSES,
)
OPERATIONS = st.sampled_from(["insert", "update", "replace", "delete"])
FIELDS = st.frozensets(
    st.sampled_from(["earnCount", "active", "issuedOn", "issueStatus", "lastUpdatedOn"])
)


def issued(state: RecordState) -> bool:
    return state.issued_on is not None or state.issue_status not in (None, "REVOKED")


@given(OPERATIONS, st.none() | STATES, st.none() | STATES, FIELDS)
def test_every_change_has_exactly_the_kind_the_contract_gives(
    operation: str,
    before: RecordState | None,
    after: RecordState | None,
    changed: frozenset[str],
) -> None:
    kind = classify(operation, before, after, changed)
    assert kind is classify(operation, before, after, changed)  # a function of its inputs
    if operation == "delete" or after is None:
        assert kind is ChangeKind.REMOVED
        return
    if before is not None:
        # The record's previous state is known: each rule reads as the contract says it.
        if before.active and not after.active:
            assert kind is ChangeKind.REMOVED  # active became false
        elif after.earn_count > before.earn_count:
            assert kind is ChangeKind.EARNED  # earnCount went up
        elif issued(after) and (after.issued_on, after.issue_status) != (
            before.issued_on,
            before.issue_status,
        ):
            assert kind is ChangeKind.ISSUED  # issuedOn or issueStatus set
        else:
            assert kind is ChangeKind.UPDATED
    elif operation in ("insert", "replace"):
        # Nothing before it: an insert counts from nothing (earnCount 0, active).
        if not after.active:
            assert kind is ChangeKind.REMOVED
        elif after.earn_count >= 1:
            assert kind is ChangeKind.EARNED  # inserted with earnCount >= 1
        elif issued(after):
            assert kind is ChangeKind.ISSUED
        else:
            assert kind is ChangeKind.UPDATED
    else:
        # An update of a record the hub never saw: only what the update set says anything.
        if "active" in changed and not after.active:
            assert kind is ChangeKind.REMOVED
        elif "earnCount" in changed and after.earn_count >= 1:
            assert kind is ChangeKind.EARNED
        elif changed & {"issuedOn", "issueStatus"} and issued(after):
            assert kind is ChangeKind.ISSUED
        else:
            assert kind is ChangeKind.UPDATED


def test_a_revocation_is_no_issue() -> None:
    before = RecordState(1, True, None, "ISSUED")
    after = RecordState(1, True, None, "REVOKED")
    assert classify("update", before, after, frozenset({"issueStatus"})) is ChangeKind.UPDATED


@given(
    st.fixed_dictionaries(
        {"earnCount": st.integers(0, 9), "active": st.booleans(), "issuedOn": DATES}
    ),
    st.fixed_dictionaries(
        {"earnCount": st.integers(0, 9), "active": st.booleans(), "issuedOn": DATES}
    ),
    FIELDS,
)
def test_an_update_is_read_from_the_event_where_the_looked_up_document_is_newer(
    at_event: dict[str, Any], later: dict[str, Any], updated: frozenset[str]
) -> None:
    """`fullDocument` is read at delivery, perhaps after later writes: the fields the update
    set come from the event itself."""
    set_fields = {name: at_event[name] for name in updated if name in at_event}
    event = {
        "operationType": "update",
        "documentKey": {"_id": ObjectId()},
        "fullDocument": {"orgId": 1, "customerId": 2, **later},
        "updateDescription": {"updatedFields": set_fields, "removedFields": []},
    }
    after = record_after(event, None)
    assert after is not None
    for name in ("earnCount", "active", "issuedOn"):
        assert after[name] == set_fields.get(name, later[name])
    assert changed_fields(event) == frozenset(set_fields)


def test_a_delete_has_no_document_after_it() -> None:
    event = {"operationType": "delete", "documentKey": {"_id": ObjectId()}}
    assert record_after(event, RecordState(1, True, None, None)) is None


def test_an_update_of_a_record_gone_since_is_built_from_what_was_known() -> None:
    before = RecordState(2, True, None, None)
    event = {
        "operationType": "update",
        "documentKey": {"_id": ObjectId()},
        "fullDocument": None,
        "updateDescription": {"updatedFields": {"earnCount": 3}, "removedFields": []},
    }
    after = record_after(event, before)
    assert after is not None and after["earnCount"] == 3 and after["active"] is True
    assert record_after(event, None) is None


def _kind_of_update(
    before: RecordState, updated: dict[str, Any], looked_up: dict[str, Any] | None
) -> ChangeKind:
    """What the hub makes of an update whose `fullDocument` was looked up as `looked_up`."""
    event = {
        "operationType": "update",
        "documentKey": {"_id": ObjectId()},
        "fullDocument": looked_up,
        "updateDescription": {"updatedFields": updated, "removedFields": []},
    }
    after = record_after(event, before)
    return classify("update", before, state_after(event, before, after), changed_fields(event))


def test_an_increment_looked_up_after_a_later_deactivation_is_earned() -> None:
    """Under load the stream delivers `$inc earnCount` after the record was also deactivated:
    the increment is EARNED (the deactivation, next, is REMOVED), not REMOVED."""
    before = RecordState(1, True, None, None, badge_meta_id="b")
    later = {"orgId": 1, "customerId": 2, "badgeMetaId": "b", "earnCount": 2, "active": False}
    assert _kind_of_update(before, {"earnCount": 2}, later) is ChangeKind.EARNED


def test_a_deactivation_looked_up_after_a_later_increment_is_removed() -> None:
    before = RecordState(1, True, None, None, badge_meta_id="b")
    later = {"orgId": 1, "customerId": 2, "badgeMetaId": "b", "earnCount": 2, "active": False}
    assert _kind_of_update(before, {"active": False}, later) is ChangeKind.REMOVED


def test_an_update_of_a_record_deleted_since_keeps_its_badge() -> None:
    before = RecordState(1, False, None, None, badge_meta_id="b")
    event = {
        "operationType": "update",
        "documentKey": {"_id": ObjectId()},
        "fullDocument": None,
        "updateDescription": {"updatedFields": {"earnCount": 2}, "removedFields": []},
    }
    state = state_after(event, before, record_after(event, before))
    assert state == RecordState(2, False, None, None, badge_meta_id="b")
    assert _kind_of_update(before, {"earnCount": 2}, None) is ChangeKind.EARNED


def test_changed_on_is_the_commit_time() -> None:
    wall = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert cluster_datetime({"wallTime": wall, "clusterTime": Timestamp(1, 1)}) == wall
    assert cluster_datetime({"clusterTime": Timestamp(1_700_000_000, 3)}) == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=UTC
    )
