"""Runs the query layer's queries: the customer's context, then the page and its count."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from gql_badges.badges.pipeline import (
    FROM_GROUPS,
    ORIGIN,
    RECORD_PROJECTION,
    TOTAL,
    build_badge_pipeline,
    customer_pipeline,
    records_filter,
)
from gql_badges.badges.request import BadgeQuery, CustomerRef
from gql_badges.enums import CustomerSortOn, IdentifierType
from gql_badges.errors import CustomerNotFound
from gql_badges.storage.client import Database
from gql_badges.storage.collections import (
    BADGE_GROUPS,
    BADGE_META,
    CUSTOMER_BADGES,
    CUSTOMERS,
    BadgeGroup,
    BadgeMeta,
    BadgeRecord,
)


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """The customer, their records keyed by badgeMetaId, and (when asked for) the org's groups."""

    customer_id: int
    records: dict[object, BadgeRecord]
    groups: dict[object, BadgeGroup]


@dataclass(frozen=True, slots=True)
class BadgeRow:
    """One badge of a page, with the customer's record of it and its group (each or None)."""

    badge: BadgeMeta
    record: BadgeRecord | None
    group: BadgeGroup | None


@dataclass(frozen=True, slots=True)
class RowPage:
    """A page of rows as the repository returns it (the APIs' page types are built from it)."""

    rows: list[BadgeRow]
    page: int
    requested_size: int
    total: int
    now: datetime
    warnings: list[str] = field(default_factory=list)

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.requested_size)


# A first batch larger than any customer's records or org's groups: each is read whole in one
# reply (the server still stops a reply at 16 MiB and the driver then asks for the rest).
WHOLE = 1_000_000


class BadgeRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def customer_context(
        self, org_id: int, ref: CustomerRef, with_groups: bool
    ) -> CustomerContext:
        """The customer's records and (when needed) the org's groups, in two round trips: side
        by side for a numeric id, one after the other for an identifier (it gives the id)."""
        customer = self.database.aggregate(
            CUSTOMERS, customer_pipeline(org_id, ref, with_groups), batch_size=WHOLE
        )
        if ref.kind is IdentifierType.ID:
            customer_id = int(ref.value)
            found, records = await asyncio.gather(customer, self._records(org_id, customer_id))
            if not any(ORIGIN not in document for document in found):
                raise CustomerNotFound()
        else:
            found = await customer
            ids = [document["_id"] for document in found if ORIGIN not in document]
            if not ids:
                raise CustomerNotFound()
            customer_id = ids[0]
            records = await self._records(org_id, customer_id)
        groups = [document for document in found if document.get(ORIGIN) == FROM_GROUPS]
        for group in groups:
            del group[ORIGIN]
        # What the pipelines and the projection asked for: these shapes, perhaps projected.
        return CustomerContext(
            customer_id=customer_id,
            records={record["badgeMetaId"]: record for record in records},
            groups={group["_id"]: cast(BadgeGroup, group) for group in groups},
        )

    async def customer_id(self, org_id: int, ref: CustomerRef) -> int:
        """The customer's id within `org_id`; CustomerNotFound outside it."""
        found = await self.database.aggregate(CUSTOMERS, customer_pipeline(org_id, ref, False))
        if not found:
            raise CustomerNotFound()
        customer_id: int = found[0]["_id"]
        return customer_id

    async def records_with_ids(self, org_id: int, customer_id: int) -> list[BadgeRecord]:
        """The customer's records with their `_id`s: a live subscription routes deletes, which
        carry only the `_id`, by them."""
        projection = {**RECORD_PROJECTION, "_id": 1}
        found = await self.database.find(
            CUSTOMER_BADGES, records_filter(org_id, customer_id), projection
        )
        return cast(list[BadgeRecord], found)

    async def badge_row(self, org_id: int, record: BadgeRecord) -> BadgeRow | None:
        """A row of `record`'s badge, as a page holds it (None when the badge is not in the
        org): what a live event shows of the badge right after the record changed."""
        badge = await self.database.find_one(
            BADGE_META, {"_id": record.get("badgeMetaId"), "orgId": org_id}
        )
        if badge is None:
            return None
        group = None
        if badge.get("badgeGroupId") is not None:
            group = await self.database.find_one(
                BADGE_GROUPS, {"_id": badge["badgeGroupId"], "orgId": org_id}
            )
        return BadgeRow(
            badge=cast(BadgeMeta, badge), record=record, group=cast(BadgeGroup | None, group)
        )

    async def _records(self, org_id: int, customer_id: int) -> list[BadgeRecord]:
        match = records_filter(org_id, customer_id)
        found = await self.database.find(
            CUSTOMER_BADGES, match, RECORD_PROJECTION, batch_size=WHOLE
        )
        return cast(list[BadgeRecord], found)

    async def badge_page(
        self,
        org_id: int,
        query: BadgeQuery,
        now: datetime,
        projection: Iterable[str] | None = None,
        with_groups: bool = True,
    ) -> RowPage:
        """The page of badges `query` asks for, whatever the page size: three commands, in two
        steps (a numeric id) or three (an identifier, which gives the id first); a fourth, the
        count alone, only for a page past the last."""
        with_groups = with_groups or query.sort is CustomerSortOn.RANK
        context = await self.customer_context(org_id, query.customer, with_groups)
        records = list(context.records.values())
        pipelines = build_badge_pipeline(
            org_id, query, records, list(context.groups.values()), now, projection
        )
        # One more than the page: the server then sees the cursor end within the first batch
        # and closes it (a batch filled exactly leaves it open, and the driver would send a
        # `getMore` that finds nothing).
        badges = await self.database.aggregate(
            BADGE_META, pipelines.page, batch_size=query.size + 1
        )
        if badges:
            total = badges[0][TOTAL]
        elif query.page == 0:
            total = 0
        else:
            counted = await self.database.aggregate(BADGE_META, pipelines.count)
            total = counted[0]["n"] if counted else 0
        records_by_badge, groups = context.records, context.groups
        rows = []
        for badge in badges:
            del badge[TOTAL]
            rows.append(
                BadgeRow(
                    badge=cast(BadgeMeta, badge),
                    record=records_by_badge.get(badge["_id"]),
                    group=groups.get(badge.get("badgeGroupId")),
                )
            )
        return RowPage(rows=rows, page=query.page, requested_size=query.size, total=total, now=now)
