"""The MongoDB pipeline that answers a `BadgeQuery`.

Nothing here does I/O: `build_badge_pipeline` turns a request, the customer's own records and the
org's groups into an aggregation over `badge_meta` that filters, sorts and pages in MongoDB.
The customer's records are few (one per badge at most), so rules that depend on them become
`_id` sets and small literal look-up tables instead of a per-badge join.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId

from gql_badges.badges.request import BadgeFilter, BadgeQuery, CustomerRef, DateBound
from gql_badges.badges.rules import (
    GROUP_FIELDS,
    RECORD_FIELDS,
    SORT_KEYS,
    SortOn,
    SortSource,
    customer_state,
    stored_date,
)
from gql_badges.enums import (
    BadgeAction,
    BadgeStatus,
    BadgeType,
    ConstraintType,
    CustomerSortOn,
    DateOperator,
    EarnType,
    IdentifierType,
    SortOrder,
)
from gql_badges.storage.collections import (
    BADGE_GROUPS,
    CUSTOMERS,
    BadgeGroup,
    BadgeRecord,
    Document,
)
from gql_badges.storage.indexes import lookup_filter

# The customers field each identifier is stored in (a customer has several card numbers).
IDENTIFIER_FIELDS = {
    IdentifierType.EMAIL: "email",
    IdentifierType.MOBILE: "mobile",
    IdentifierType.EXTERNAL_ID: "externalId",
    IdentifierType.CARD_NUMBER: "cardNumbers",
}


def customer_filter(org_id: int, ref: CustomerRef) -> Document:
    """The `customers` filter for a reference; always scoped by org.

    An identifier's predicate implies its partial index's filter, so MongoDB can use it.
    """
    if ref.kind is IdentifierType.ID:
        return {"_id": ref.value, "orgId": org_id}
    return {"orgId": org_id, **lookup_filter(CUSTOMERS, IDENTIFIER_FIELDS[ref.kind], ref.value)}


# Where a document of `customer_pipeline` comes from: set to FROM_GROUPS on the org's groups,
# absent on the customer.
ORIGIN = "_gqlBadgesOrigin"
FROM_GROUPS = "group"


def customer_pipeline(org_id: int, ref: CustomerRef, with_groups: bool) -> list[Document]:
    """On `customers`: the customer's id and, in the same round trip, the org's groups.

    Both are equality matches on an indexed prefix. (A `$lookup` or `$unionWith` of the
    customer's records would be one round trip less, but the embedded server runs those
    sub-pipelines without indexes; `records_filter` is fetched beside this instead.)
    """
    pipeline: list[Document] = [
        {"$match": customer_filter(org_id, ref)},
        {"$limit": 1},
        {"$project": {"_id": 1}},
    ]
    if with_groups:
        groups = [
            {"$match": {"orgId": org_id}},
            {"$project": dict.fromkeys(GROUP_FIELDS, 1)},
            {"$set": {ORIGIN: FROM_GROUPS}},
        ]
        pipeline.append({"$unionWith": {"coll": BADGE_GROUPS, "pipeline": groups}})
    return pipeline


def records_filter(org_id: int, customer_id: int) -> Document:
    return {"orgId": org_id, "customerId": customer_id}


RECORD_PROJECTION = {"_id": 0, **dict.fromkeys(RECORD_FIELDS, 1)}


# --- filters --------------------------------------------------------------------------------


def _not_expired(now: datetime) -> Document:
    # `$not` also admits a missing expiresOn, which never expires (see model.badge_status).
    return {"expiresOn": {"$not": {"$lte": now}}}


def _status_clause(status: BadgeStatus, now: datetime) -> Document:
    match status:
        case BadgeStatus.UPCOMING:
            # A badge that starts after it expires is EXPIRED once expired (model.badge_status).
            return {"startOn": {"$gt": now}, **_not_expired(now)}
        case BadgeStatus.LIVE:
            return {"startOn": {"$not": {"$gt": now}}, **_not_expired(now)}
        case BadgeStatus.EXPIRED:
            return {"expiresOn": {"$lte": now}}


def _within_customer_limit(earn_count: int | float) -> Document:
    """No CUSTOMER_BADGE_FIXED_VALUE limit at or below `earn_count`: the customer may earn more."""
    return {
        "customerConstraints": {
            "$not": {
                "$elemMatch": {
                    "constraintType": ConstraintType.CUSTOMER_BADGE_FIXED_VALUE.value,
                    "maxEarnLimit": {"$lte": earn_count},
                }
            }
        }
    }


def _badge_type_clauses(
    badge_filter: BadgeFilter, records: Sequence[BadgeRecord], now: datetime
) -> list[Document]:
    states = [(record["badgeMetaId"], customer_state(record, now)) for record in records]
    match badge_filter.badge_type:
        case BadgeType.AVAILABLE_TO_ISSUE:
            return [
                {"earnType": EarnType.EARN.value, "active": True},
                _not_expired(now),
                {"_id": {"$nin": [badge_id for badge_id, state in states if state.blocks_issue]}},
            ]
        case BadgeType.AVAILABLE:
            by_count: dict[int | float, list[ObjectId]] = defaultdict(list)
            for badge_id, state in states:
                if state.earn_count != 0:
                    by_count[state.earn_count].append(badge_id)
            counted = [badge_id for ids in by_count.values() for badge_id in ids]
            within_limit = [{"_id": {"$nin": counted}, **_within_customer_limit(0)}]
            within_limit += [
                {"_id": {"$in": ids}, **_within_customer_limit(count)}
                for count, ids in sorted(by_count.items())
            ]
            return [
                {"earnType": EarnType.ISSUE_EARN.value, "active": True},
                _not_expired(now),
                {"$or": within_limit} if len(within_limit) > 1 else within_limit[0],
            ]
        case BadgeType.EARNED:
            include_expired = badge_filter.include_expired
            earned = [badge_id for badge_id, state in states if state.is_earned(include_expired)]
            return [{"_id": {"$in": earned}}]
        case BadgeType.EXPIRED:
            return [_status_clause(BadgeStatus.EXPIRED, now)]


def _date_clause(field_name: str, bound: DateBound) -> Document:
    operator = "$lt" if bound.operator is DateOperator.LESS_THAN else "$gt"
    return {field_name: {operator: bound.value}}


def badge_match(
    org_id: int, badge_filter: BadgeFilter, records: Sequence[BadgeRecord], now: datetime
) -> Document:
    """The `badge_meta` filter: the org, the badgeType rule, and every optional filter (AND)."""
    clauses: list[Document] = [{"orgId": org_id}]
    clauses += _badge_type_clauses(badge_filter, records, now)
    if badge_filter.name is not None:
        clauses.append({"name": {"$regex": re.escape(badge_filter.name), "$options": "i"}})
    if badge_filter.action is BadgeAction.ACTIVATED:
        clauses.append({"active": True})
    elif badge_filter.action is not None:
        clauses.append({"active": {"$ne": True}})
    if badge_filter.badge_status is not None:
        clauses.append(_status_clause(badge_filter.badge_status, now))
    if badge_filter.owner is not None:
        clauses.append({"ownership.restrictedToOwners": badge_filter.owner.value})
    if badge_filter.claimed_by is not None:
        claim = {"ownerType": badge_filter.claimed_by.value, "isActive": True}
        clauses.append({"ownership.claims": {"$elemMatch": claim}})
    if badge_filter.start_on is not None:
        clauses.append(_date_clause("startOn", badge_filter.start_on))
    if badge_filter.expires_on is not None:
        clauses.append(_date_clause("expiresOn", badge_filter.expires_on))
    if badge_filter.group_id is not None:
        clauses.append({"badgeGroupId": badge_filter.group_id})
    return {"$and": clauses}


# --- sorting --------------------------------------------------------------------------------


def _lookup(keys: Sequence[Any], values: Sequence[Any], key_expression: str) -> Document:
    """A literal table look-up: `values[keys.index(key)]`, or null when the key is absent."""
    # $indexOfArray answers -1 for a missing key, and $arrayElemAt -1 is the trailing null.
    return {
        "$arrayElemAt": [
            {"$literal": [*values, None]},
            {"$indexOfArray": [{"$literal": list(keys)}, key_expression]},
        ]
    }


def _is_null(expression: Any) -> Document:
    return {"$cond": [{"$eq": [{"$ifNull": [expression, None]}, None]}, 1, 0]}


class _SortBuilder:
    """Collects the helper fields and sort keys of one order (null keys last, ids ascending)."""

    def __init__(self) -> None:
        self.stages: list[Document] = []
        self.helpers: dict[str, Any] = {}
        self.keys: dict[str, int] = {}
        self.added: list[str] = []

    def helper(self, expression: Any) -> str:
        name = f"_s{len(self.helpers)}"
        self.helpers[name] = expression
        return name

    def by(self, path: str, direction: int, nullable: bool = True) -> None:
        """Sort on a stored field. Descending already puts nulls last; ascending needs a flag."""
        if nullable and direction == 1:
            self.keys[self.helper(_is_null(f"${path}"))] = 1
        self.keys[path] = direction

    def by_expression(self, expression: Any, direction: int) -> None:
        # Helpers of one $set stage cannot read each other: the null flag repeats the expression.
        name = self.helper(expression)
        if direction == 1:
            self.keys[self.helper(_is_null(expression))] = 1
        self.keys[name] = direction

    def flush(self) -> None:
        """Helpers computed so far become a stage, so later helpers may read them."""
        if self.helpers:
            self.stages.append({"$set": self.helpers})
            self.added += self.helpers
            self.helpers = {}

    def build(self) -> tuple[list[Document], list[str]]:
        self.keys["_id"] = 1
        self.flush()
        self.stages.append({"$sort": self.keys})
        return self.stages, self.added


def _rank_order(builder: _SortBuilder, groups: Sequence[BadgeGroup]) -> None:
    """Grouped badges first; groups by rank (unranked last), name, id; then badgeRank, expiresOn."""
    group_ids = [group["_id"] for group in groups]
    position = "_groupIndex"
    builder.helpers[position] = {"$indexOfArray": [{"$literal": group_ids}, "$badgeGroupId"]}
    builder.flush()
    index = f"${position}"

    def group_value(key: str) -> Document:
        values = [group.get(key) for group in groups]
        return {"$arrayElemAt": [{"$literal": [*values, None]}, index]}

    builder.keys[builder.helper({"$cond": [{"$eq": [index, -1]}, 1, 0]})] = 1
    builder.by_expression(group_value("rank"), 1)
    builder.by_expression(group_value("name"), 1)
    builder.by_expression(group_value("_id"), 1)
    builder.by("badgeRank", 1)
    builder.by("expiresOn", -1)


def sort_stages(
    sort: SortOn, order: SortOrder, records: Sequence[BadgeRecord], groups: Sequence[BadgeGroup]
) -> tuple[list[Document], list[str]]:
    """The stages that order the badges, and the helper fields they add (to drop afterwards)."""
    builder = _SortBuilder()
    if sort is CustomerSortOn.RANK:
        _rank_order(builder, groups)
    else:
        source, key = SORT_KEYS[sort]
        direction = 1 if order is SortOrder.ASC else -1
        if source is SortSource.BADGE:
            builder.by(key, direction)
        else:
            badge_ids = [record["badgeMetaId"] for record in records]
            # A record's key that is not a date sorts as absent, as the rules read it.
            values = [stored_date(record.get(key)) for record in records]
            builder.by_expression(_lookup(badge_ids, values, "$_id"), direction)
    return builder.build()


# --- the whole pipeline ---------------------------------------------------------------------


# The number of all matches, set on every badge of the page by the page's own aggregation.
TOTAL = "_gqlBadgesTotal"


@dataclass(frozen=True, slots=True)
class PagePipelines:
    """The page with its total, and the count alone for when the page cannot carry it.

    `page` sets TOTAL (all matches) on every badge it returns: one scan of the org's matches
    answers both, where a second aggregation would read them again. (`$facet` would also be one
    aggregation, but its output is a single document, capped at 16 MiB.) A page past the last
    has no badge to carry the total, so `count` is sent only then.
    """

    page: list[Document]
    count: list[Document]


def _with_total(sort: Document) -> Document:
    """Order the matches by `sort` and set TOTAL on each, in one `$setWindowFields`.

    The stage sorts by `sortBy` and returns the documents in that order: MongoDB runs it as a
    `$sort` followed by the window; its window over the whole partition counts every match.
    (MongoDB 5.0 or later; the explicit window says "the whole partition" on every server.)
    """
    window = {"documents": ["unbounded", "unbounded"]}
    return {
        "$setWindowFields": {"sortBy": sort, "output": {TOTAL: {"$count": {}, "window": window}}}
    }


def build_badge_pipeline(
    org_id: int,
    query: BadgeQuery,
    records: Sequence[BadgeRecord],
    groups: Sequence[BadgeGroup],
    now: datetime,
    projection: Iterable[str] | None = None,
) -> PagePipelines:
    """Filter, sort and page `badge_meta`, and count the matches.

    The page yields its badges, each with TOTAL; the count one `{"n": N}` (or nothing when
    none match). `projection` names the `badge_meta` fields to read besides `_id` and `orgId`
    (None: all).
    """
    stages, helpers = sort_stages(query.sort, query.order, records, groups)
    *helper_stages, sort = stages
    page: list[Document] = [
        *helper_stages,
        _with_total(sort["$sort"]),
        {"$skip": query.page * query.size},
        {"$limit": query.size},
    ]
    if projection is not None:
        page.append({"$project": dict.fromkeys(sorted({"_id", "orgId", TOTAL, *projection}), 1)})
    elif helpers:
        page.append({"$unset": helpers})
    # The org alone first: every planner takes an orgId index for it (MongoDB merges the two
    # stages; the embedded server plans only a first $match that an index covers whole).
    match = [
        {"$match": {"orgId": org_id}},
        {"$match": badge_match(org_id, query.filter, records, now)},
    ]
    return PagePipelines(page=[*match, *page], count=[*match, {"$count": "n"}])
