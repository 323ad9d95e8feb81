"""What the tests (and the benchmark) share: headers and tokens, settings, free ports, the
gateway served in a thread or as a process, and URL paths from the app's named routes.

Plain functions and classes. The pytest fixtures built on them are in `conftest.py`, which
nothing imports: pytest loads it, so a helper there would be two modules' worth of state.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from base64 import b64encode
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, cast

import httpx
import jwt
import uvicorn
from argon2 import PasswordHasher, profiles
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from pymongo import InsertOne
from pymongo.errors import PyMongoError
from starlette.applications import Starlette
from starlette.routing import Router

from gql_badges import cli
from gql_badges.auth.hashing import md5_hex
from gql_badges.demo import demo_documents
from gql_badges.loading import validate_documents, write_documents
from gql_badges.rest.routes import rest_routes
from gql_badges.services import Services
from gql_badges.settings import Driver, Settings
from gql_badges.storage.client import Database
from gql_badges.storage.collections import API_CLIENTS, BadgeMeta, BadgeRecord

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CLI = [sys.executable, "-m", "gql_badges.cli"]
TEST_JWT_SECRET = "test-secret-" + "x" * 32


def fixture_json(name: str) -> Any:
    """A JSON file of `tests/fixtures/`, parsed afresh (callers may change what they get)."""
    return json.loads((FIXTURES / name).read_text())


# --- credentials ----------------------------------------------------------------------------


def basic_header(credentials: str) -> dict[str, str]:
    """`Authorization: Basic` of `credentials` exactly as given (for malformed ones too)."""
    return {"Authorization": "Basic " + b64encode(credentials.encode()).decode()}


def basic_auth(username: str, password: str) -> dict[str, str]:
    """The legacy Basic scheme: the username and the MD5 of the password."""
    return basic_header(f"{username}:{md5_hex(password)}")


def jwt_token(
    org_id: int,
    client_id: str,
    *,
    secret: str | None = TEST_JWT_SECRET,
    issued_at: int | None = None,
    ttl: int | None = 300,
    algorithm: str = "HS256",
) -> str:
    """An OAuth access token as the gateway issues them (`ttl=None`: without `exp`)."""
    now = int(time.time()) if issued_at is None else issued_at
    claims: dict[str, object] = {"org_id": org_id, "client_id": client_id, "iat": now}
    if ttl is not None:
        claims["exp"] = now + ttl
    return jwt.encode(claims, secret, algorithm=algorithm)


def oauth_header(token: str) -> dict[str, str]:
    return {"X-CAP-API-OAUTH-TOKEN": token}


# --- settings and databases -----------------------------------------------------------------

# Each pytest-xdist worker (`gw0`, `gw1`, ...) counts in a range of its own, so org ids stay unique
# even when the workers share one server (GQL_BADGES_MONGODB_URI).
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_org_ids = itertools.count(1_000_000 + 10_000_000 * _worker)


def new_org_id() -> int:
    """An org no other test uses, so tests never see each other's data."""
    return next(_org_ids)


def make_settings(driver: Driver, **overrides: Any) -> Settings:
    """Settings for a test's own database (a fresh name each call)."""
    values: dict[str, Any] = {
        "database": f"gql_badges_test_{uuid.uuid4().hex[:8]}",
        "driver": driver,
        "jwt_secret": TEST_JWT_SECRET,
        "db_timeout_ms": 10_000,
        # Tests share one app per driver: no test's bad logins may spend another's attempts.
        "login_attempts_burst": 1_000_000,
        "login_address_burst": 1_000_000,
        "login_username_burst": 1_000_000,
    }
    values.update(overrides)
    return Settings(**values)


async def drop_quietly(database: Database, uri: str | None = None) -> None:
    """Drop a test's own database, waiting for the server to finish (up to two minutes); over
    `uri` when given (the server itself, when `database` reached it through a proxy).

    The embedded server drops one database at a time and goes on dropping after a client stops
    waiting, so a drop given up on would stall the next test's commands instead. A drop that
    still fails is no failure of the test: the data directory is temporary.
    """
    patient = Database(database.settings, uri or database.uri, loading=True)  # no socket timeout
    try:
        with contextlib.suppress(PyMongoError, TimeoutError):
            await asyncio.wait_for(patient.drop(), timeout=120)
    finally:
        await patient.close()
    database.index_problems = None  # its indexes are gone (or may be): a write makes them again


async def load_demo(mongo_uri: str, database_name: str) -> None:
    """The demo data set in a database of its own, for gateways started as processes."""
    database = Database(Settings(database=database_name, driver=Driver.PYMONGO), mongo_uri)
    try:
        await database.ensure_indexes()
        await write_documents(database, validate_documents(demo_documents()))
    finally:
        await database.close()


def good_file() -> dict[str, list[dict[str, Any]]]:
    """A load file with one document of each collection, in org 7 (`fixtures/good_file.json`)."""
    content: dict[str, list[dict[str, Any]]] = fixture_json("good_file.json")
    return content


def good_file_beside_the_demo() -> str:
    """The good file with ids of its own: the demo data holds its ids in org B (on purpose:
    the loader refuses to move a stored document to another org), so beside the demo data it
    needs others."""
    content = good_file()
    customer_id = content["customers"][0]["_id"]
    text = json.dumps(content).replace(str(customer_id), str(customer_id + 10_000_000))
    return text.replace('"$oid": "6', '"$oid": "7')


# --- requests -------------------------------------------------------------------------------


@cache
def _router() -> Router:
    return Router(routes=rest_routes())


def url_path(name: str, **path_params: object) -> str:
    """The path of the REST route named `name` (`customer_badges`, `badge_management`)."""
    return str(_router().url_path_for(name, **path_params))


def _prefix(name: str) -> str:
    return url_path(name, customerId="_").removesuffix("_")


# The legacy URIs up to their `{customerId}`: `CUSTOMER + SWATI.key`.
CUSTOMER = _prefix("customer_badges")
MANAGEMENT = _prefix("badge_management")


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    headers: Mapping[str, str] | None = None,
    **variables: object,
) -> dict[str, Any]:
    """POST a GraphQL document; asserts HTTP 200 and returns the body."""
    return await graphql_answer(client, query, headers, 200, **variables)


async def graphql_answer(
    client: httpx.AsyncClient,
    query: str,
    headers: Mapping[str, str] | None,
    status: int,
    **variables: object,
) -> dict[str, Any]:
    """POST a GraphQL document; asserts the HTTP status and returns the body."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def get(
    client: httpx.AsyncClient,
    path: str,
    headers: Mapping[str, str],
    params: Mapping[str, str | int | float | bool | None] | list[tuple[str, str]] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    """GET a legacy URI; asserts the status and JSON, returns the body."""
    pairs: list[tuple[str, str | int | float | bool | None]] | None = None
    if params is not None:
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    response = await client.get(path, params=pairs, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


# --- serving --------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port free now (another process may take it before it is used)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pid_running(pid: int) -> bool:
    """Whether process `pid` runs; a zombie (exited, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _port_of(server: uvicorn.Server) -> int:
    return int(server.servers[0].sockets[0].getsockname()[1])


@contextlib.contextmanager
def served_in_thread(app: Starlette, timeout: float = 30) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port, in a thread with its own event loop (so
    the app must open its own database client); yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout, "uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{_port_of(server)}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextlib.asynccontextmanager
async def served_in_loop(app: Starlette) -> AsyncIterator[str]:
    """`app` under uvicorn on a free loopback port, in this event loop (for an app given the
    session's services: their database client is bound to this loop); yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(600):  # up to 30 s on a loaded machine
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    try:
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{_port_of(server)}"
    finally:
        server.should_exit = True
        await task


def run_cli(
    args: list[str], env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`gql-badges ARGS` as a user runs it, from the repository's root; output captured."""
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def cli_in_process(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """What `run_cli` returns, from `gql-badges ARGS` called in this process (no interpreter to
    start): for checks of what a command says, writes and exits with. Where the process itself
    is the subject (signals, locks, the shipped hashing cost), use `run_cli`.

    The environment is `env` for the call; root logging, which the command configures, is put
    back afterwards.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            returncode = cli.main(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        root.handlers[:] = handlers
        root.setLevel(level)
    return subprocess.CompletedProcess(args, returncode, stdout.getvalue(), stderr.getvalue())


def serve_embedded(
    data_dir: Path, log_path: Path, *options: str
) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    """`gql-badges serve` on the embedded database in `data_dir` (a `GatewayProcess`), once it
    answers /readyz, its output in `log_path`: the process, its base URL and its environment.
    The caller stops it."""
    gateway = GatewayProcess.embedded(data_dir, log_path, *options).start(timeout=90)
    assert gateway.process is not None
    return gateway.process, gateway.base, gateway.env


def gateway_env(**variables: str) -> dict[str, str]:
    """This process's environment without any gateway or OpenTelemetry setting, plus these."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("GQL_BADGES_", "OTEL_"))}
    return inherited | variables


class GatewayProcess:
    """`gql-badges serve` as a real process on a free port: the one way tests start a gateway.

    Against a given MongoDB URI and database (indexes not created: the tests' database has
    them), or, made by `embedded()`, on the embedded database of a data dir (the demo data
    loaded on first start). `start()` returns once it answers /readyz; `stop()` sends SIGTERM
    and waits. Its stdout and stderr go to files in `log_dir` (`log()` reads stderr), or both to
    one file (`output`).
    """

    def __init__(
        self,
        mongo_uri: str,
        database: str,
        log_dir: Path,
        *options: str,
        **env: str,
    ) -> None:
        variables = {
            "GQL_BADGES_MONGODB_URI": mongo_uri,
            "GQL_BADGES_DATABASE": database,
            "GQL_BADGES_CREATE_INDEXES": "false",
        }
        self._configure(log_dir, None, options, variables | env)

    @classmethod
    def embedded(cls, data_dir: Path, output: Path, *options: str, **env: str) -> GatewayProcess:
        """A gateway on the embedded database in `data_dir`, stdout and stderr in `output`."""
        gateway = cls.__new__(cls)
        gateway._configure(
            output.parent, output, options, {"GQL_BADGES_DATA_DIR": str(data_dir)} | env
        )
        return gateway

    def _configure(
        self, log_dir: Path, output: Path | None, options: tuple[str, ...], env: dict[str, str]
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.options = options
        self.stdout_path = output or log_dir / f"gateway-{self.port}.out"
        self.stderr_path = output or log_dir / f"gateway-{self.port}.err"
        secret = {"GQL_BADGES_JWT_SECRET": "gateway-process-secret-" + "j" * 24}
        self.env = gateway_env(**(secret | env))  # a secret given in `env` wins
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> GatewayProcess:
        return self.launch().wait_ready(timeout)

    def launch(self) -> GatewayProcess:
        """Start the process without waiting (several start side by side, then wait_ready)."""
        stdout = self.stdout_path.open("wb")
        stderr = subprocess.STDOUT if self.stderr_path == self.stdout_path else None
        self.process = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port), *self.options],
            env=self.env,
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr if stderr is not None else self.stderr_path.open("wb"),
        )
        return self

    def ready(self) -> bool:
        """Whether it answers /readyz now (raises if the process has exited)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the gateway exited with {self.process.returncode}")
        try:
            return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60) -> GatewayProcess:
        assert self.process is not None
        try:
            wait_until(self.ready, timeout, "the gateway to be ready")
        except AssertionError as error:
            self.process.kill()
            raise AssertionError(f"{error}: {self.log()[-2000:]}") from None
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.stderr_path.read_text()


# --- the app in process ---------------------------------------------------------------------


def asgi_client(app: Starlette) -> httpx.AsyncClient:
    """HTTP to `app` in this process, through its ASGI interface (no socket)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


def rate_limited(services: Services, burst: int) -> Services:
    """Services over the session's database that let a client `burst` requests, then answer
    429 for about a hundred seconds (the rate refills one request each 100 s)."""
    settings = make_settings(
        services.settings.driver,
        database=services.settings.database,
        rate_limit_per_second=0.01,
        rate_limit_burst=burst,
    )
    return Services.create(settings, services.database.uri)


def error_code(body: Mapping[str, Any]) -> str:
    """The `extensions.code` of the first error of a GraphQL answer."""
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def stored_badge(fields: Mapping[str, object]) -> BadgeMeta:
    """A badge_meta document as a projected read returns it: only the fields given."""
    return cast(BadgeMeta, dict(fields))


def stored_record(fields: Mapping[str, object] | None) -> BadgeRecord | None:
    """A customer_badges record as a projected read returns it (None: no record)."""
    return None if fields is None else cast(BadgeRecord, dict(fields))


async def seed_org(
    services: Services, org_id: int, docs: Mapping[str, list[Any]]
) -> dict[str, str]:
    """Write an org's documents and an API client of its own; the client's OAuth header."""
    await write_documents(services.database, dict(docs))
    client = {"orgId": org_id, "username": f"u{org_id}", "password": "p", "key": f"k{org_id}"}
    await write_documents(services.database, {"api_clients": [client]})
    secret = services.settings.jwt_secret.get_secret_value()
    return oauth_header(jwt_token(org_id, f"k{org_id}", secret=secret, ttl=600))


# Argon2's cheapest profile: for tests of what surrounds a password check, not of its cost.
_CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


async def seed_cheap_client(database: Database) -> tuple[str, str]:
    """An active API client of an org of its own, whose password is cheap to check (the login
    limits are under test, not the hash): its username and password."""
    org_id = new_org_id()
    username, password = f"cheap.{org_id}.{uuid.uuid4().hex[:8]}", f"password-{org_id}"
    client = {
        "orgId": org_id,
        "username": username,
        "passwordHash": _CHEAP_HASHER.hash(md5_hex(password)),
        "active": True,
    }
    await database.bulk_write(API_CLIENTS, [InsertOne(client)], session=None)
    return username, password


def database_examples(max_examples: int) -> settings:
    """Hypothesis settings for a property that writes to the real database: no deadline (a
    round trip is slow and uneven), and function-scoped fixtures (the database is shared).

    `max_examples` is the budget under Hypothesis's default of 100 examples a test, kept small
    because each example costs database round trips; a profile with another budget scales it
    alike (`./dev test --hypothesis-profile=thorough`: 400, so four times as many).
    """
    scale = settings().max_examples / 100  # a new settings object: the loaded profile's budget
    return settings(
        max_examples=max(1, round(max_examples * scale)),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


OrgData = Callable[[int], SearchStrategy[dict[str, list[Any]]]]


async def draw_seeded_org(
    services: Services, data: st.DataObject, org_data: OrgData
) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """A new org's generated documents, written with a client of its own; its OAuth header."""
    org_id = new_org_id()
    docs = data.draw(org_data(org_id), label="data")
    return docs, await seed_org(services, org_id, docs)
