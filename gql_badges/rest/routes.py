"""The two legacy URIs, answered from the same query layer as GraphQL.

A request goes: authenticate → parse the path, header and query string into one `BadgeQuery`
→ the repository → the renderer. Failures are `GatewayError`s, mapped by the app's handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gql_badges.badges.items import Endpoint, rest_fields
from gql_badges.badges.projection import needs_groups, stored_fields
from gql_badges.badges.repository import RowPage
from gql_badges.badges.request import BadgeQuery, customer_badges_query, management_query
from gql_badges.http.responses import envelope
from gql_badges.rest.params import (
    CUSTOMER_IDENTIFIER_HEADER,
    CUSTOMER_PARAMS,
    MANAGEMENT_PARAMS,
    Param,
    parse_params,
    path_customer,
)
from gql_badges.rest.render import render_customer_page, render_management_page

CUSTOMER_PATH = "/api_gateway/v1/badges/customer/{customerId}"
MANAGEMENT_PATH = "/api_gateway/v1/badges/management/{customerId}"


def _endpoint(
    params: tuple[Param, ...],
    build_query: Callable[..., BadgeQuery],
    listed: Endpoint,
    render: Callable[[RowPage], dict[str, Any]],
) -> Callable[[Request], Any]:
    item_fields = [field.name for field in rest_fields(listed)]
    projection = stored_fields(item_fields)
    with_groups = needs_groups(item_fields)

    async def endpoint(request: Request) -> Response:
        services = request.app.state.services
        now = services.clock()
        address = request.client.host if request.client else None
        caller = await services.authenticator.authenticate(request.headers, address)
        customer = path_customer(
            request.path_params["customerId"], request.headers.get(CUSTOMER_IDENTIFIER_HEADER)
        )
        parsed = parse_params(request.query_params, params)
        query = build_query(customer, max_size=services.settings.max_page_size, **parsed.arguments)
        page = await services.repository.badge_page(
            caller.org_id, query, now, projection=projection, with_groups=with_groups
        )
        return envelope(render(page), parsed.warnings)

    return endpoint


customer_badges = _endpoint(
    CUSTOMER_PARAMS, customer_badges_query, Endpoint.CUSTOMER, render_customer_page
)
badge_management = _endpoint(
    MANAGEMENT_PARAMS, management_query, Endpoint.MANAGEMENT, render_management_page
)


def rest_routes() -> list[BaseRoute]:
    return [
        Route(CUSTOMER_PATH, customer_badges, methods=["GET"], name="customer_badges"),
        Route(MANAGEMENT_PATH, badge_management, methods=["GET"], name="badge_management"),
    ]
