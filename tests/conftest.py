"""Fixtures: a real MongoDB-wire server over TCP, the app on the default driver, per-test orgs.

The server is the embedded SecantusDB (started here, in memory) unless GQL_BADGES_MONGODB_URI
names a real mongod. Each test works in orgs of its own, so tests never see each other's data.
Helpers that are not fixtures are in `tests/support/`: import them from there, never from here.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from argon2.profiles import CHEAPEST
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from gql_badges.app import create_app
from gql_badges.auth import hashing
from gql_badges.demo import demo_documents
from gql_badges.demo.handles import ORG_A_CLIENT, ORG_B_CLIENT
from gql_badges.loading import validate_documents, write_documents
from gql_badges.services import Services
from gql_badges.settings import Driver, Settings
from gql_badges.storage.client import Database
from gql_badges.storage.collections import Document
from gql_badges.storage.embedded import EmbeddedServer
from tests.support import basic_auth, drop_quietly, make_settings, new_org_id

# In CI a failure is reported as found, unshrunk: shrinking a database-backed example can take
# minutes. Locally, shrink to the smallest failing example.
hypothesis_settings.register_profile(
    "ci", phases=[Phase.explicit, Phase.reuse, Phase.generate], print_blob=True
)
# Deeper runs than the suite's (a nightly job, a change to the rules): four times the examples,
# the database-backed properties' budgets included (`tests.support.database_examples`).
hypothesis_settings.register_profile("thorough", max_examples=400)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`@pytest.mark.every_driver`: the test runs once per driver, on `services` (and `database`,
    `client`, `demo` over it) of that driver; tests of the module that need none run once."""
    marked = metafunc.definition.get_closest_marker("every_driver") is not None
    if marked and "services" in metafunc.fixturenames:
        drivers = list(Driver)
        metafunc.parametrize("services", drivers, indirect=True, ids=[d.value for d in drivers])


@pytest.fixture(autouse=True)
def alone_when_marked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """`@pytest.mark.alone`: the test's wall-clock budget is tight, so no other xdist worker
    runs a test meanwhile (it holds a lock of the run exclusively, every other test holds it
    shared). Such tests are also in the xdist group `timing`, so they wait for each other on
    one worker instead of each stopping the other workers in turn."""
    if "PYTEST_XDIST_WORKER" not in os.environ:  # one process: nothing runs beside a test
        yield
        return
    alone = request.node.get_closest_marker("alone") is not None
    # The run's own directory, above each worker's: one lock per run, never shared with others.
    path = tmp_path_factory.getbasetemp().parent / "alone.lock"
    with path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        yield


@pytest.fixture(scope="session", autouse=True)
def cheap_hashing() -> Iterator[None]:
    """Argon2's cheapest parameters for every hash this process makes (and so every one it
    verifies): microseconds instead of half a second each. Where the cost of a hash is the
    subject, ask for `production_hashing`; gateway processes started by tests hash as shipped."""
    with hashing.profile(CHEAPEST):
        yield


@pytest.fixture
def production_hashing() -> Iterator[None]:
    """The gateway's own Argon2 parameters for this test (hashes it makes cost as in production)."""
    with hashing.profile(hashing.PRODUCTION):
        yield


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uri = os.environ.get("GQL_BADGES_MONGODB_URI")
    if uri:
        yield uri
        return
    server = EmbeddedServer(Path(tmp_path_factory.mktemp("secantus")), in_memory=True)
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
async def services(request: pytest.FixtureRequest, mongo_uri: str) -> AsyncIterator[Services]:
    """The gateway's services over a database of the session's own, on the default driver.

    Everything above the storage layer runs once, on the driver production uses; a storage
    test (and one end-to-end pass) is marked `every_driver` to run once per driver.
    """
    default: Driver = Settings.model_fields["driver"].default
    services = Services.create(make_settings(getattr(request, "param", default)), mongo_uri)
    await services.database.ensure_indexes()
    yield services
    # pytest ends this fixture whenever a worker moves between drivers, not only at the end.
    # A real mongod keeps what is not dropped, so drop it, waiting for the drop to finish; the
    # embedded in-memory server vanishes with the run, and a drop there would go on after its
    # client gave up and stall the next services' first commands (seen: createIndexes
    # "operation cancelled" in the next test).
    if os.environ.get("GQL_BADGES_MONGODB_URI"):
        await drop_quietly(services.database)
    if services.hub is not None:
        await services.hub.close()
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


@pytest.fixture
def org_id() -> int:
    return new_org_id()


# --- the demo data set, loaded once per services -----------------------------------------


@pytest.fixture(scope="session")
async def demo(services: Services) -> dict[str, list[Document]]:
    """The demo data set in the session's database; returns the documents written."""
    documents = validate_documents(demo_documents())
    await write_documents(services.database, documents)
    return documents


@pytest.fixture(scope="session")
def org_a_auth() -> dict[str, str]:
    return basic_auth(*ORG_A_CLIENT.credentials)


@pytest.fixture(scope="session")
def org_b_auth() -> dict[str, str]:
    return basic_auth(*ORG_B_CLIENT.credentials)
