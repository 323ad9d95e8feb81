"""Runs the query layer's pipelines: the customer's context, then the page (2 or 3 round trips)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gql_badges.badges.model import Document, IdentifierType, SortField
from gql_badges.badges.query import (
    GROUP_KIND,
    IDENTIFIER_FIELDS,
    KIND,
    BadgeQuery,
    CustomerRef,
    badge_index,
    build_badge_pipeline,
    context_pipeline,
    customer_filter,
)
from gql_badges.db import BADGE_META, CUSTOMER_BADGES, CUSTOMERS, Database, identifier_index_name
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
        """The customer's records (and the org's groups): one round trip for a numeric id, two
        for another identifier (which must be resolved to the id first)."""
        if ref.kind is IdentifierType.ID:
            customer_id = int(ref.value)
        else:
            index = identifier_index_name(IDENTIFIER_FIELDS[ref.kind])
            match = customer_filter(org_id, ref)
            found = await self.database.find_one(CUSTOMERS, match, {"_id": 1}, hint=index)
            if found is None:
                raise CustomerNotFound()
            customer_id = found["_id"]
        check_customer = ref.kind is IdentifierType.ID
        pipeline = context_pipeline(org_id, customer_id, check_customer, with_groups)
        records: dict[object, Document] = {}
        groups: dict[object, Document] = {}
        exists = not check_customer
        for document in await self.database.aggregate(CUSTOMER_BADGES, pipeline):
            kind = document.pop(KIND, None)
            if kind is None:
                records[document["badgeMetaId"]] = document
            elif kind == GROUP_KIND:
                groups[document["_id"]] = document
            else:  # the customer's marker
                exists = True
        if not exists:
            raise CustomerNotFound()
        return CustomerContext(customer_id=customer_id, records=records, groups=groups)

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
        (result,) = await self.database.aggregate(BADGE_META, pipeline, hint=badge_index(query))
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
