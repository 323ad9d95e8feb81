"""The schema: two root fields mirroring the two REST URIs, over the one query layer."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gql_badges.auth import Authenticator, Caller
from gql_badges.badges import requests
from gql_badges.badges.model import IdentifierType
from gql_badges.badges.projection import ALL_FIELDS, needs_groups, stored_fields
from gql_badges.badges.query import MAX_PAGE_SIZE, BadgeQuery
from gql_badges.badges.repository import BadgePage as BadgePageResult
from gql_badges.badges.repository import BadgeRepository
from gql_badges.errors import INTERNAL_ERROR_MESSAGE, GatewayError, InvalidParameter
from gql_badges.graphql.limits import QUERY_TOO_COMPLEX, QueryLimits, cost_limit, shape_rule
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
    _caller: Caller | None = None

    async def caller(self) -> Caller:
        if self._caller is None:
            self._caller = await self.authenticator.authenticate(self.headers)
        return self._caller


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
    """The fields selected on the page's items (fragments expanded)."""
    for page in info.selected_fields:
        for selection in page.selections:
            if isinstance(selection, SelectedField) and selection.name == list_field:
                return _field_names(selection.selections)
            if isinstance(selection, FragmentSpread | InlineFragment):
                nested = _field_names(selection.selections)
                if list_field in nested:
                    return set(ALL_FIELDS)  # rare shape: read everything
    return set()


async def _fetch(info: Info, query: BadgeQuery, list_field: str) -> BadgePageResult:
    context: GraphQLContext = info.context
    caller = await context.caller()
    selected = _item_fields(info, list_field)
    return await context.repository.badge_page(
        caller.org_id,
        query,
        context.now,
        projection=stored_fields(selected),
        with_groups=needs_groups(selected),
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
        query = requests.customer_badges_query(
            customer.to_ref(),
            badge_type,
            include_expired,
            group_id,
            sort_on,
            limit,
            page,
            max_size=info.context.max_page_size,
        )
        result = await _fetch(info, query, "badges")
        now = info.context.now
        return BadgePage(
            badges=[to_badge(row, now) for row in result.rows], pagination=to_pagination(result)
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
            max_size=info.context.max_page_size,
        )
        result = await _fetch(info, query, "customerBadges")
        now = info.context.now
        return CustomerBadgePage(
            customer_badges=[to_customer_badge(row, now) for row in result.rows],
            pagination=to_pagination(result),
        )


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected failures (bad input, not found, auth) are answers: logged without traceback."""
        for error in errors:
            if error.original_error is None and "tokens. Parsing aborted" in error.message:
                # graphql-core's token limit: give it the same shape as the other limits.
                error.extensions = {"code": QUERY_TOO_COMPLEX, "limit": "maxTokens"}
            original = error.original_error
            if original is None or isinstance(original, GatewayError):
                logger.debug("GraphQL error: %s", error.message)
                continue
            if error.path is None:  # raised before execution: a variable that did not coerce
                error.extensions = {"code": "BAD_USER_INPUT", "capillaryCode": 400}
                logger.debug("GraphQL input error: %s", error.message)
                continue
            # Unexpected: the details go to the log only, under an id the caller can quote.
            request_id = observed.request_id()
            logger.error("unexpected error (request %s)", request_id, exc_info=error.original_error)
            error.message = INTERNAL_ERROR_MESSAGE
            error.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        errors_seen(errors)  # metrics and the access log, once the codes are final


def create_schema(
    limits: QueryLimits | None = None,
    largest_page: int = MAX_PAGE_SIZE,
    max_tokens: int = 5_000,
    introspection: bool = True,
) -> strawberry.Schema:
    """The schema, refusing documents over `limits` (and `max_tokens` while parsing)."""
    limits = limits or QueryLimits()
    rule = shape_rule(limits)  # one class for the schema: ValidationCache keys on it

    class ShapeLimits(AddValidationRules):
        def __init__(self) -> None:
            super().__init__([rule])

    extensions: list[Any] = [
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        ParserCache,
        ValidationCache,
        ShapeLimits,
        cost_limit(limits, largest_page),
        OperationObserver,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return GatewaySchema(
        query=Query,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        extensions=extensions,
    )


def export_sdl() -> str:
    return create_schema().as_str() + "\n"


__all__: list[Any] = ["GraphQLContext", "create_schema", "export_sdl"]
