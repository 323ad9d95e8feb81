"""The schema: two root fields mirroring the two REST URIs, over the one query layer."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLEnumType, GraphQLError
from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gql_badges.auth import Authenticator, Caller
from gql_badges.badges import model, requests
from gql_badges.badges.model import IdentifierType
from gql_badges.badges.projection import needs_groups, stored_fields
from gql_badges.badges.query import MAX_PAGE_SIZE, BadgeQuery
from gql_badges.badges.repository import BadgePage as BadgePageResult
from gql_badges.badges.repository import BadgeRepository
from gql_badges.errors import INTERNAL_ERROR_MESSAGE, GatewayError, InvalidParameter
from gql_badges.graphql.compiled import PlanCache, PlannedRoot, compiled_executor
from gql_badges.graphql.limits import QUERY_TOO_COMPLEX, QueryLimits, guarded_validation
from gql_badges.graphql.operation import OperationNameRequired
from gql_badges.graphql.persisted import Documents, Safelist, load_manifest, persisted_queries
from gql_badges.graphql.scalars import SCALAR_MAP
from gql_badges.graphql.types import (
    BadgeAction,
    BadgePage,
    BadgeStatus,
    BadgeType,
    CustomerBadgePage,
    CustomerSortOn,
    DateOperator,
    ManagementSortOn,
    Owner,
    SortOrder,
    to_badge,
    to_customer_badge,
    to_pagination,
)
from gql_badges.observability import context as observed
from gql_badges.observability.graphql import OperationObserver, errors_seen

logger = logging.getLogger(__name__)


@dataclass
class GraphQLContext:
    """Built once per request by the ASGI view."""

    headers: dict[str, str]
    authenticator: Authenticator
    repository: BadgeRepository
    now: datetime
    max_page_size: int
    address: str | None = None  # the client's, for the limit on failed logins
    _caller: asyncio.Task[Caller] | None = None

    async def caller(self) -> Caller:
        """Who is calling, authenticated once per request however many fields ask.

        The outcome is shared, failure included: thirty aliases with a wrong password cost one
        verification, not thirty.
        """
        if self._caller is None:
            self._caller = asyncio.ensure_future(
                self.authenticator.authenticate(self.headers, self.address)
            )
        return await asyncio.shield(self._caller)


@strawberry.input(one_of=True, description="Exactly one way of naming the customer.")
class CustomerRef:
    id: strawberry.ID | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    mobile: str | None = strawberry.UNSET
    external_id: str | None = strawberry.UNSET
    card_number: str | None = strawberry.UNSET

    def to_ref(self) -> requests.CustomerRef:
        for kind, value in (
            (IdentifierType.ID, self.id),
            (IdentifierType.EMAIL, self.email),
            (IdentifierType.MOBILE, self.mobile),
            (IdentifierType.EXTERNAL_ID, self.external_id),
            (IdentifierType.CARD_NUMBER, self.card_number),
        ):
            if value is not strawberry.UNSET and value is not None:
                return requests.customer_ref(kind, str(value), reference="customer")
        raise InvalidParameter(reference="customer")


def _field_names(selections: Iterable[Selection]) -> set[str]:
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            names |= _field_names(selection.selections)
    return names


def _item_fields(info: Info, list_field: str) -> set[str]:
    """The fields selected on the page's items, by every selection of the list: under aliases
    (`a: badges { name } b: badges { tags }`) and in fragments on the page, expanded."""
    names: set[str] = set()

    def collect(selections: Iterable[Selection]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name == list_field:
                    names.update(_field_names(selection.selections))
            elif isinstance(selection, FragmentSpread | InlineFragment):
                collect(selection.selections)

    for page in info.selected_fields:
        collect(page.selections)
    return names


@dataclass(frozen=True, slots=True)
class ItemSelection:
    """What a page's items need read, from the item fields selected: computed once per
    selection (once per compiled plan), not per item."""

    projection: frozenset[str]
    with_groups: bool

    @classmethod
    def of(cls, item_fields: Iterable[str]) -> ItemSelection:
        names = frozenset(item_fields)
        return cls(frozenset(stored_fields(names)), needs_groups(names))


async def _fetch(
    context: GraphQLContext, query: BadgeQuery, items: ItemSelection
) -> BadgePageResult:
    caller = await context.caller()
    return await context.repository.badge_page(
        caller.org_id,
        query,
        context.now,
        projection=items.projection,
        with_groups=items.with_groups,
    )


# The two root fields' work, from their arguments (as the resolvers receive them) to the page
# objects. The resolvers call these, and so does a compiled plan (`graphql/compiled.py`),
# which knows the selected item fields from the document.


async def customer_badges_page(
    context: GraphQLContext,
    items: ItemSelection,
    *,
    customer: CustomerRef,
    badge_type: model.BadgeType | None,
    include_expired: bool | None,
    group_id: str | None,
    sort_on: model.CustomerSortOn | None,
    limit: int | None,
    page: int | None,
) -> BadgePage:
    query = requests.customer_badges_query(
        customer.to_ref(),
        badge_type,
        include_expired,
        group_id,
        sort_on,
        limit,
        page,
        max_size=context.max_page_size,
    )
    result = await _fetch(context, query, items)
    now = context.now
    return BadgePage(
        badges=[to_badge(row, now) for row in result.rows], pagination=to_pagination(result)
    )


async def badge_management_page(
    context: GraphQLContext,
    items: ItemSelection,
    *,
    customer: CustomerRef,
    page: int | None,
    size: int | None,
    sort_on: model.ManagementSortOn | None,
    order: model.SortOrder | None,
    name: str | None,
    badge_type: model.BadgeType | None,
    action: model.BadgeAction | None,
    badge_status: model.BadgeStatus | None,
    owner: model.Owner | None,
    claimed_by: model.Owner | None,
    start_on: datetime | None,
    start_on_operator: model.DateOperator | None,
    expires_on: datetime | None,
    expires_on_operator: model.DateOperator | None,
    group_id: str | None,
) -> CustomerBadgePage:
    query = requests.management_query(
        customer.to_ref(),
        page=page,
        size=size,
        sort_on=sort_on,
        order=order,
        name=name,
        badge_type=badge_type,
        action=action,
        badge_status=badge_status,
        owner=owner,
        claimed_by=claimed_by,
        start_on=start_on,
        start_on_operator=start_on_operator,
        expires_on=expires_on,
        expires_on_operator=expires_on_operator,
        group_id=group_id,
        max_size=context.max_page_size,
    )
    result = await _fetch(context, query, items)
    now = context.now
    return CustomerBadgePage(
        customer_badges=[to_customer_badge(row, now) for row in result.rows],
        pagination=to_pagination(result),
    )


@strawberry.type
class Query:
    @strawberry.field(description="Badges of a customer, as GET /badges/customer/{customerId}.")
    async def customer_badges(
        self,
        info: Info,
        customer: CustomerRef,
        badge_type: BadgeType | None = BadgeType.AVAILABLE_TO_ISSUE,  # type: ignore[valid-type]
        include_expired: bool | None = False,
        group_id: strawberry.ID | None = None,
        sort_on: CustomerSortOn | None = None,  # type: ignore[valid-type]
        limit: int | None = 10,
        page: int | None = 0,
    ) -> BadgePage:
        return await customer_badges_page(
            info.context,
            ItemSelection.of(_item_fields(info, "badges")),
            customer=customer,
            badge_type=badge_type,
            include_expired=include_expired,
            group_id=group_id,
            sort_on=sort_on,
            limit=limit,
            page=page,
        )

    @strawberry.field(description="Badges of a customer, as GET /badges/management/{customerId}.")
    async def badge_management(
        self,
        info: Info,
        customer: CustomerRef,
        page: int | None = 0,
        size: int | None = 10,
        sort_on: ManagementSortOn | None = ManagementSortOn.EXPIRES_ON,  # type: ignore[valid-type]
        order: SortOrder | None = SortOrder.DESC,  # type: ignore[valid-type]
        name: str | None = None,
        badge_type: BadgeType | None = BadgeType.AVAILABLE_TO_ISSUE,  # type: ignore[valid-type]
        action: BadgeAction | None = None,  # type: ignore[valid-type]
        badge_status: BadgeStatus | None = None,  # type: ignore[valid-type]
        owner: Owner | None = None,  # type: ignore[valid-type]
        claimed_by: Owner | None = None,  # type: ignore[valid-type]
        start_on: datetime | None = None,
        start_on_operator: DateOperator | None = None,  # type: ignore[valid-type]
        expires_on: datetime | None = None,
        expires_on_operator: DateOperator | None = None,  # type: ignore[valid-type]
        group_id: strawberry.ID | None = None,
    ) -> CustomerBadgePage:
        return await badge_management_page(
            info.context,
            ItemSelection.of(_item_fields(info, "customerBadges")),
            customer=customer,
            page=page,
            size=size,
            sort_on=sort_on,
            order=order,
            name=name,
            badge_type=badge_type,
            action=action,
            badge_status=badge_status,
            owner=owner,
            claimed_by=claimed_by,
            start_on=start_on,
            start_on_operator=start_on_operator,
            expires_on=expires_on,
            expires_on_operator=expires_on_operator,
            group_id=group_id,
        )


# The root fields a compiled plan runs, by the functions their resolvers call.
PLANNED_ROOTS = {
    "customerBadges": PlannedRoot(customer_badges_page, "badges", ItemSelection.of),
    "badgeManagement": PlannedRoot(badge_management_page, "customerBadges", ItemSelection.of),
}


# graphql-core's own guards, which say only what happened: named like our limits instead.
_GRAPHQL_CORE_REFUSALS = {
    "Validation aborted.": "maxValidationWork",
    "Too many validation errors, error limit reached. Validation aborted.": "maxValidationErrors",
    "Maximum introspection depth exceeded": "maxIntrospectionDepth",
}
_SUGGESTION = re.compile(r" ?Did you mean .*$", re.DOTALL)
# graphql-core's words for a value outside an enum, in a literal or in a variable.
_BAD_ENUM = re.compile(r"in '(\w+)' enum|Enum '(\w+)' cannot represent")


class GatewaySchema(strawberry.Schema):
    suggestions: bool = True  # off with introspection: errors name nothing of the schema

    def _enum_details(self, error: GraphQLError) -> None:
        """A bad enum value also lists the allowed ones (graphql-core suggests only the closest)."""
        match = _BAD_ENUM.search(error.message)
        enum = self._schema.get_type(match.group(1) or match.group(2)) if match else None
        if isinstance(enum, GraphQLEnumType):
            allowed = "allowed values: " + ", ".join(enum.values)
            error.extensions = {**(error.extensions or {}), "details": allowed}

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected failures (bad input, not found, auth) are answers: logged without traceback."""
        for error in errors:
            self._classify(error)
            if self.suggestions:
                self._enum_details(error)
            else:
                error.message = _SUGGESTION.sub("", error.message)
        errors_seen(errors)  # metrics and the access log, once the codes are final

    def _classify(self, error: GraphQLError) -> None:
        original = error.original_error
        if original is None:
            limit = _GRAPHQL_CORE_REFUSALS.get(error.message)
            if limit is None and "tokens. Parsing aborted" in error.message:
                limit = "maxTokens"  # graphql-core's token limit
            if limit is None and "nested too deeply" in error.message:
                limit = "maxDepth"  # graphql-core's parser, before any of our limits
            if limit is not None:
                error.extensions = {"code": QUERY_TOO_COMPLEX, "limit": limit}
            logger.debug("GraphQL error: %s", error.message)
            return
        if isinstance(original, GatewayError):
            logger.debug("GraphQL error: %s", error.message)
            return
        if isinstance(original, RecursionError):  # nesting deeper than the parser can follow
            error.message = "Query refused: the document nests too deeply"
            error.extensions = {"code": QUERY_TOO_COMPLEX, "limit": "maxDepth"}
            return
        if error.path is None:  # raised before execution: a variable that did not coerce
            error.extensions = (error.extensions or {}) | {
                "code": "BAD_USER_INPUT",
                "capillaryCode": 400,
            }
            logger.debug("GraphQL input error: %s", error.message)
            return
        # Unexpected: the details go to the log only, under an id the caller can quote.
        request_id = observed.request_id()
        logger.error("unexpected error (request %s)", request_id, exc_info=original)
        error.message = INTERNAL_ERROR_MESSAGE
        error.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}


def create_schema(
    limits: QueryLimits | None = None,
    largest_page: int = MAX_PAGE_SIZE,
    max_tokens: int = 2_500,
    introspection: bool = True,
    safelist: Safelist | None = None,
    documents: Documents | None = None,
    compiled: bool = True,
) -> strawberry.Schema:
    """The schema, refusing documents over `limits` (and `max_tokens` while parsing).

    Persisted queries (APQ) are always on; with a `safelist`, only the operations it lists run.
    With `compiled`, queries over the two root fields run from plans (`graphql/compiled.py`).
    """
    limits = limits or QueryLimits()
    extensions: list[Any] = [
        persisted_queries(safelist, documents),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: ParserCache(maxsize=256),
        guarded_validation(limits, largest_page, suggestions=introspection),
        OperationNameRequired,
        OperationObserver,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    plans = PlanCache(PLANNED_ROOTS) if compiled else None
    schema = GatewaySchema(
        query=Query,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        extensions=extensions,
        execution_context_class=compiled_executor(plans) if plans is not None else None,
    )
    schema.suggestions = introspection
    if plans is not None and safelist is not None:
        # The listed operations are the only ones that run: their plans are built now, not by
        # their first request.
        for body in safelist.by_body:
            plans.precompile(schema._schema, body)
    return schema


def load_safelist(manifest: Path) -> Safelist:
    """The operations of a persisted-query manifest, each checked against the schema."""
    bare = GatewaySchema(
        query=Query, config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP)
    )
    return load_manifest(manifest, bare._schema)


def export_sdl() -> str:
    return create_schema().as_str() + "\n"


__all__: list[Any] = ["GraphQLContext", "create_schema", "export_sdl"]
