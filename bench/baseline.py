"""The raw baseline: a minimal Starlette route that runs the gateway's MongoDB queries.

It builds the customer URI's query with the REST shim's own request builder and runs it through
the package's own `Database` and `BadgeRepository` (the customer's context, then the page and
its count), so it always sends exactly the pipelines and round trips the gateway sends. It
returns the documents read as JSON: no authentication, no validation of parameters, no
rendering. Run as `uvicorn bench.baseline:app`, configured by the gateway's own variables
(`GQL_BADGES_MONGODB_URI`, `GQL_BADGES_DATABASE`, `GQL_BADGES_DRIVER`, ...).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gql_badges.badges.items import Endpoint, rest_fields
from gql_badges.badges.projection import needs_groups, stored_fields
from gql_badges.badges.repository import BadgeRepository
from gql_badges.badges.request import CustomerRef, customer_badges_query
from gql_badges.enums import IdentifierType
from gql_badges.settings import Settings
from gql_badges.storage.client import Database

ORG_ID = int(os.environ.get("BENCH_ORG_ID", "900001"))
# What the REST customer URI reads (see gql_badges/rest/routes.py), so both send the same queries.
_REST_FIELDS = [field.name for field in rest_fields(Endpoint.CUSTOMER)]
PROJECTION = stored_fields(_REST_FIELDS)
WITH_GROUPS = needs_groups(_REST_FIELDS)


async def raw(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    repository: BadgeRepository = request.app.state.repository
    ref = CustomerRef(IdentifierType.ID, int(request.path_params["customerId"]))
    limit = int(request.query_params.get("limit", "10"))
    query = customer_badges_query(ref, limit=limit, max_size=settings.max_page_size)
    page = await repository.badge_page(
        ORG_ID, query, datetime.now(UTC), projection=PROJECTION, with_groups=WITH_GROUPS
    )
    body = {"items": [row.badge for row in page.rows], "total": page.total}
    return Response(orjson.dumps(body, default=str), media_type="application/json")


async def healthz(request: Request) -> Response:
    return Response(b"{}", media_type="application/json")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = Settings()
    uri = settings.mongodb_uri
    if uri is None:
        raise RuntimeError("the baseline needs GQL_BADGES_MONGODB_URI")
    database = Database(settings, uri)
    app.state.settings = settings
    app.state.repository = BadgeRepository(database)
    yield
    await database.close()


app = Starlette(
    routes=[Route("/raw/{customerId}", raw), Route("/healthz", healthz)], lifespan=lifespan
)
