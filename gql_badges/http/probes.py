"""The operational endpoints: liveness, readiness and (when on) the Prometheus metrics."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gql_badges.http.responses import JSONBody
from gql_badges.observability.metrics import Metrics
from gql_badges.storage.client import Database


async def healthz(request: Request) -> Response:
    return JSONBody({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when a server the read preference admits answers; missing indexes, and
    subscriptions a standalone MongoDB cannot serve (no change streams), are listed in
    `degraded` (still 200: the gateway answers queries, some look-ups more slowly)."""
    database: Database = request.app.state.services.database
    if not await database.ping():
        return JSONBody({"status": "database unreachable"}, status_code=503)
    if database.index_problems is None:
        await database.prepare_indexes()
    degraded = [problem.as_dict() for problem in database.index_problems or ()]
    hub = request.app.state.services.hub
    if hub is not None and (reason := await hub.check_support()) is not None:
        degraded.append({"feature": "subscriptions", "reason": reason})  # queries still work
    return JSONBody({"status": "degraded" if degraded else "ready", "degraded": degraded})


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics | None = request.app.state.services.metrics
    if metrics is None:  # services made with metrics off
        raise HTTPException(404, "Not Found")
    return await metrics.endpoint(request)
