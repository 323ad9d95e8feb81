"""The raw baseline: a minimal Starlette route that runs the gateway's MongoDB queries.

It sends the very pipelines the REST shim sends (built by the same pure query functions) through
the bare driver and returns the documents as JSON: no authentication, no validation, no
rendering. Run as `uvicorn bench.baseline:app`, configured by the gateway's own variables.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gql_badges.badges.items import Endpoint, rest_fields
from gql_badges.badges.pipeline import (
    GROUP_KIND,
    KIND,
    RECORD_PROJECTION,
    build_badge_pipeline,
    customer_pipeline,
    records_filter,
)
from gql_badges.badges.projection import needs_groups, stored_fields
from gql_badges.badges.request import BadgeQuery, CustomerRef
from gql_badges.badges.rules import IdentifierType

ORG_ID = int(os.environ.get("BENCH_ORG_ID", "900001"))
# What the REST customer URI reads, so both send the same queries.
_REST_FIELDS = [field.name for field in rest_fields(Endpoint.CUSTOMER)]
PROJECTION = stored_fields(_REST_FIELDS)
WITH_GROUPS = needs_groups(_REST_FIELDS)
_state: dict[str, Any] = {}


def _client() -> Any:
    uri = os.environ["GQL_BADGES_MONGODB_URI"]
    if os.environ.get("GQL_BADGES_DRIVER", "motor") == "pymongo":
        from pymongo import AsyncMongoClient

        return AsyncMongoClient(uri, tz_aware=True)
    from motor.motor_asyncio import AsyncIOMotorClient

    return AsyncIOMotorClient(uri, tz_aware=True)


async def _aggregate(collection: Any, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cursor = collection.aggregate(pipeline)
    if _state["pymongo"]:
        cursor = await cursor
    return list(await cursor.to_list(None))


async def _find(collection: Any, filter: dict[str, Any]) -> list[dict[str, Any]]:
    return list(await collection.find(filter, RECORD_PROJECTION).to_list(None))


async def raw(request: Request) -> Response:
    db = _state["db"]
    ref = CustomerRef(IdentifierType.ID, int(request.path_params["customerId"]))
    query = BadgeQuery(customer=ref, size=int(request.query_params.get("limit", "10")))
    customer, records = await asyncio.gather(
        _aggregate(db.customers, customer_pipeline(ORG_ID, ref, WITH_GROUPS)),
        _find(db.customer_badges, records_filter(ORG_ID, ref.value)),
    )
    groups = [doc for doc in customer if doc.get(KIND) == GROUP_KIND]
    pipelines = build_badge_pipeline(ORG_ID, query, records, groups, datetime.now(UTC), PROJECTION)
    items, total = await asyncio.gather(
        _aggregate(db.badge_meta, pipelines.page), _aggregate(db.badge_meta, pipelines.count)
    )
    body = {"items": items, "total": total}
    return Response(orjson.dumps(body, default=str), media_type="application/json")


async def healthz(request: Request) -> Response:
    return Response(b"{}", media_type="application/json")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client = _client()
    _state.update(
        client=client,
        db=client[os.environ.get("GQL_BADGES_DATABASE", "badges")],
        pymongo=os.environ.get("GQL_BADGES_DRIVER", "motor") == "pymongo",
    )
    yield
    closed = client.close()
    if closed is not None:
        await closed


app = Starlette(
    routes=[Route("/raw/{customerId}", raw), Route("/healthz", healthz)], lifespan=lifespan
)
