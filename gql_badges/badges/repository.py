"""Runs the query layer's pipelines: one round trip for the customer, one for the page."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gql_badges.badges.model import Document, SortField
from gql_badges.badges.query import BadgeQuery, CustomerRef, build_badge_pipeline, customer_filter
from gql_badges.db import BADGE_GROUPS, BADGE_META, CUSTOMER_BADGES, CUSTOMERS, Database
from gql_badges.errors import CustomerNotFound


@dataclass(frozen=True, slots=True)
class CustomerContext:
    """The customer, their records keyed by badgeMetaId, and (when asked for) the org's groups."""

    customer_id: int
    records: dict[object, Document]
    groups: dict[object, Document]


@dataclass(frozen=True, slots=True)
class BadgeRow:
    """One badge of a page, with the customer's record of it and its group (each or None)."""

    badge: Document
    record: Document | None
    group: Document | None


@dataclass(frozen=True, slots=True)
class BadgePage:
    rows: list[BadgeRow]
    page: int
    requested_size: int
    total: int
    now: datetime
    warnings: list[str] = field(default_factory=list)

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.requested_size)


class BadgeRepository:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def customer_context(
        self, org_id: int, ref: CustomerRef, with_groups: bool
    ) -> CustomerContext:
        """The customer with their records (and the org's groups) in one aggregation."""
        pipeline: list[Document] = [
            {"$match": customer_filter(org_id, ref)},
            {"$limit": 1},
            {"$project": {"_id": 1}},
            {
                "$lookup": {
                    "from": CUSTOMER_BADGES,
                    "localField": "_id",
                    "foreignField": "customerId",
                    "pipeline": [{"$match": {"orgId": org_id}}],
                    "as": "records",
                }
            },
        ]
        if with_groups:
            groups_of_org = [{"$match": {"orgId": org_id}}]
            pipeline.append(
                {"$lookup": {"from": BADGE_GROUPS, "pipeline": groups_of_org, "as": "groups"}}
            )
        found = await self.database.aggregate(CUSTOMERS, pipeline)
        if not found:
            raise CustomerNotFound()
        customer = found[0]
        return CustomerContext(
            customer_id=customer["_id"],
            records={record["badgeMetaId"]: record for record in customer["records"]},
            groups={group["_id"]: group for group in customer.get("groups", ())},
        )

    async def badge_page(
        self,
        org_id: int,
        query: BadgeQuery,
        now: datetime,
        projection: Iterable[str] | None = None,
        with_groups: bool = True,
    ) -> BadgePage:
        """The page of badges `query` asks for, in two round trips whatever the page size."""
        with_groups = with_groups or query.sort is SortField.RANK
        context = await self.customer_context(org_id, query.customer, with_groups)
        records: Sequence[Document] = list(context.records.values())
        pipeline = build_badge_pipeline(
            org_id, query, records, list(context.groups.values()), now, projection
        )
        (result,) = await self.database.aggregate(BADGE_META, pipeline)
        total = result["total"][0]["n"] if result["total"] else 0
        rows = [
            BadgeRow(
                badge=badge,
                record=context.records.get(badge["_id"]),
                group=context.groups.get(badge.get("badgeGroupId")),
            )
            for badge in result["items"]
        ]
        return BadgePage(
            rows=rows, page=query.page, requested_size=query.size, total=total, now=now
        )
