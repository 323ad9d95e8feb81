"""Fixtures of the live-badge tests: a real `gql-badges serve` process over the session's
database server, a database of its own, and the loyalty platform's writer beside it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from gql_badges.settings import Driver, Settings
from gql_badges.storage.client import Database
from tests.live.harness import LiveGateway, Platform, install_npm_clients, missing_node_tools
from tests.support import GatewayProcess, drop_quietly


@pytest.fixture(scope="session")
def subscribe_script() -> Path:
    """The npm clients' script, installed; skipped locally without node or npm, never in CI."""
    missing = missing_node_tools()
    if missing:
        reason = f"{' and '.join(missing)} not installed (Debian: nodejs, npm)"
        if os.environ.get("CI"):
            pytest.fail(f"the npm subscription clients must run in CI: {reason}")
        pytest.skip(reason)
    return install_npm_clients()


@pytest.fixture(scope="module")
async def live_gateway(
    mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveGateway]:
    """The gateway as a process (its own change stream, its own event loop), over a database
    of this module's own; orgs come from `create_live_org`."""
    name = f"gql_badges_live_{uuid.uuid4().hex[:8]}"
    database = Database(Settings(database=name, driver=Driver.PYMONGO), mongo_uri)
    await database.ensure_indexes()
    gateway = GatewayProcess(
        mongo_uri,
        name,
        tmp_path_factory.mktemp("live-gateway"),
        # One API client per org holds every socket of test_many (500), and opens them at once:
        # the request rate limit is not under test here.
        GQL_BADGES_LIVE_MAX_CONNECTIONS_PER_CLIENT="1000",
        GQL_BADGES_RATE_LIMIT_PER_SECOND="0",
    )
    await asyncio.to_thread(gateway.start)
    writer: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:
        yield LiveGateway(
            base=gateway.base,
            jwt_secret=gateway.env["GQL_BADGES_JWT_SECRET"],
            database=database,
            platform=Platform(writer[name]["customer_badges"]),
            process=gateway,
        )
    finally:
        await asyncio.to_thread(gateway.stop)
        await writer.close()
        await drop_quietly(database)
        await database.close()
