"""Fixtures: a real MongoDB-wire server over TCP, the app per driver, and per-test orgs.

The server is the embedded SecantusDB (started here, in memory) unless GQL_BADGES_MONGODB_URI
names a real mongod. Each test works in orgs of its own, so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings
from pymongo.errors import PyMongoError

from gql_badges.app import create_app
from gql_badges.services import Services
from gql_badges.settings import Driver, Settings
from gql_badges.storage.client import Database
from gql_badges.storage.embedded import EmbeddedServer

DRIVERS = [Driver.MOTOR, Driver.PYMONGO]

# In CI a failure is reported as found, unshrunk: shrinking a database-backed example can take
# minutes. Locally, shrink to the smallest failing example.
hypothesis_settings.register_profile(
    "ci", phases=[Phase.explicit, Phase.reuse, Phase.generate], print_blob=True
)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
_org_ids = itertools.count(1_000_000)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uri = os.environ.get("GQL_BADGES_MONGODB_URI")
    if uri:
        yield uri
        return
    server = EmbeddedServer(Path(tmp_path_factory.mktemp("secantus")), in_memory=True)
    yield server.start()
    server.stop()


async def drop_quietly(database: Database) -> None:
    """Drop a test's own database, best effort: the embedded server drops one at a time and a
    large one can take longer than the client waits, which is no failure of the test."""
    with contextlib.suppress(PyMongoError):
        await database.drop()


def make_settings(driver: Driver, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database": f"gql_badges_test_{uuid.uuid4().hex[:8]}",
        "driver": driver,
        "jwt_secret": "test-secret-" + "x" * 32,
        "db_timeout_ms": 10_000,
        # Tests share one app per driver: no test's bad logins may spend another's attempts.
        "login_attempts_burst": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=DRIVERS, ids=[d.value for d in DRIVERS])
async def services(request: pytest.FixtureRequest, mongo_uri: str) -> AsyncIterator[Services]:
    """The gateway's services for one driver, over a database of the session's own."""
    services = Services.create(make_settings(request.param), mongo_uri)
    await services.database.ensure_indexes()
    yield services
    # Clean-up only (an in-memory server vanishes anyway); at session end PyMongo's async client
    # may see the operation cancelled, which must not fail the run.
    with contextlib.suppress(PyMongoError):
        await services.database.drop()
    await services.database.close()


@pytest.fixture(scope="session")
def database(services: Services) -> Database:
    return services.database


@pytest.fixture(scope="session")
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the real ASGI app."""
    app = create_app(services.settings, services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def new_org_id() -> int:
    return next(_org_ids)


@pytest.fixture
def org_id() -> int:
    return new_org_id()


# --- the demo data set, loaded once per driver session -----------------------------------------


def basic_auth(username: str, password: str) -> dict[str, str]:
    from base64 import b64encode

    from gql_badges.auth.hashing import md5_hex

    token = b64encode(f"{username}:{md5_hex(password)}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture(scope="session")
async def demo(services: Services) -> dict[str, object]:
    """The demo data set in the session's database; returns the documents written."""
    from gql_badges.demo import demo_documents
    from gql_badges.storage.loading import validate_documents, write_documents

    documents = validate_documents(demo_documents())
    await write_documents(services.database, documents)
    return documents


@pytest.fixture(scope="session")
def org_a_auth() -> dict[str, str]:
    return basic_auth("demo.100458", "demo-password-100458")


@pytest.fixture(scope="session")
def org_b_auth() -> dict[str, str]:
    return basic_auth("demo.100606", "demo-password-100606")


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    headers: dict[str, str] | None = None,
    **variables: object,
) -> dict:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return response.json()
