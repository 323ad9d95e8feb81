"""The command line: `gql-badges load | export-schema | indexes | serve`.

Run as a user runs it (a process of its own) where the process is the subject: serving, signals,
the shipped hashing cost. What a command says and writes is checked with the command called in
this process (`cli_in_process`), which answers the same without starting an interpreter.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from pymongo.database import Database as MongoDatabase

from gql_badges.demo import ORG_B
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.storage.collections import Document
from gql_badges.storage.embedded import RUNTIME_FILE, EmbeddedServer
from tests.support import (
    ROOT,
    basic_auth,
    cli_in_process,
    gateway_env,
    good_file,
    good_file_beside_the_demo,
    pid_running,
    run_cli,
    serve_embedded,
    wait_until,
)

GOOD_FILE = good_file()


@pytest.fixture
def cli_env(mongo_uri: str, tmp_path: Path) -> dict[str, str]:
    database = f"cli_{tmp_path.name[-20:]}".replace("-", "_")
    return gateway_env(
        GQL_BADGES_MONGODB_URI=mongo_uri,
        GQL_BADGES_DATABASE=database,
        GQL_BADGES_DATA_DIR=str(tmp_path / "data"),
    )


def collection_counts(env: dict[str, str]) -> dict[str, int]:
    client: MongoClient[Document]
    with MongoClient(env["GQL_BADGES_MONGODB_URI"]) as client:
        db: MongoDatabase[Document] = client[env["GQL_BADGES_DATABASE"]]
        return {name: db[name].count_documents({}) for name in GOOD_FILE}


def test_export_schema_matches_the_committed_sdl() -> None:
    result = cli_in_process(["export-schema"], dict(os.environ))
    assert result.returncode == 0
    assert result.stdout == (ROOT / "schema.graphql").read_text(), (
        "schema.graphql drifted from the code: run `gql-badges export-schema > schema.graphql`"
    )


def test_load_upserts_and_hashes(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(GOOD_FILE))
    # A second load upserts the same documents again: the last one as a process of its own, so
    # the hashes stored are the shipped command's.
    for run in (cli_in_process, run_cli):
        result = run(["load", str(path)], cli_env)
        assert result.returncode == 0, result.stderr
        assert "Loaded 1 badge_groups, 1 badge_meta" in result.stdout
        database = cli_env["GQL_BADGES_DATABASE"]
        assert f"into database {database!r} at mongodb://" in result.stdout  # where it went
    assert collection_counts(cli_env) == dict.fromkeys(GOOD_FILE, 1)
    client: MongoClient[Document]
    with MongoClient(cli_env["GQL_BADGES_MONGODB_URI"], tz_aware=True) as client:
        db: MongoDatabase[Document] = client[cli_env["GQL_BADGES_DATABASE"]]
        stored = db.api_clients.find_one({"username": "u7"})
        assert stored is not None
        assert "password" not in stored and "secret" not in stored
        # The command as shipped hashes at the production cost (the tests' cheap profile is theirs).
        assert stored["passwordHash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        customer = db.customers.find_raw_batches({}).next()
        assert isinstance(customer, bytes)  # pymongo's types call a raw batch a document
        assert b"\x12_id\x00" in customer  # BSON type 0x12: the customer id is an int64
        badge = db.badge_meta.find_one({})
        assert badge is not None
        assert badge["expiresOn"].microsecond == 500_000


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f["badge_meta"][0].update(earnType="SOMETIMES"), "badge_meta[0].earnType"),
        (lambda f: f["badge_meta"][0].pop("startOn"), "badge_meta[0].startOn"),
        (
            lambda f: f["badge_meta"][0].update(badgeGroupId=f["badge_groups"][0]["_id"]["$oid"]),
            "badge_meta[0].badgeGroupId: Value error, expected an ObjectId",
        ),
        (lambda f: f["customers"].append({"_id": "90000001", "orgId": 7}), "customers[1]._id"),
        (lambda f: f["customer_badges"][0].update(earnCount=-1), "customer_badges[0].earnCount"),
        (
            lambda f: f["badge_meta"][0]["ownership"]["claims"][0].update(ownerType="Nobody"),
            "badge_meta[0].ownership.claims[0].ownerType",
        ),
        (lambda f: f.update(rewards=[]), "rewards: unknown collection"),
        (lambda f: f["api_clients"][0].pop("password"), "api_clients[0].password"),
    ],
)
def test_a_bad_document_is_named_and_nothing_is_written(
    cli_env: dict[str, str],
    tmp_path: Path,
    mutate: Callable[[dict[str, Any]], object],
    message: str,
) -> None:
    content = good_file()
    mutate(content)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    result = cli_in_process(["load", str(path)], cli_env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert collection_counts(cli_env) == dict.fromkeys(GOOD_FILE, 0)


def test_invalid_json_names_the_position(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"badge_meta": [\n  {"_id": }\n]}')
    result = cli_in_process(["load", str(path)], cli_env)
    assert result.returncode == 1
    assert "line 2, column" in result.stderr


@pytest.mark.slow  # a gateway process on an embedded database
def test_serve_on_the_embedded_database(tmp_path: Path) -> None:
    """`gql-badges serve` with no URI: embedded database, demo data, GraphiQL; `load` finds it;
    Ctrl-C stops both, and the data survives for the next start."""
    data_dir = tmp_path / "data"
    server, base, env = serve_embedded(data_dir, tmp_path / "serve.log")
    try:
        output = (tmp_path / "serve.log").read_text()
        assert ORG_B_CLIENT.password in output  # the demo credentials are printed
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        response = httpx.post(
            f"{base}/graphql",
            json={
                "query": f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}, badgeType: EARNED) '
                "{ pagination { total } } }"
            },
            headers=basic_auth(*ORG_B_CLIENT.credentials),
        )
        assert response.json() == {"data": {"customerBadges": {"pagination": {"total": 4}}}}

        # `load` reaches the server that `serve` started, through the runtime file.
        runtime = json.loads((data_dir / RUNTIME_FILE).read_text())
        path = tmp_path / "good.json"
        path.write_text(good_file_beside_the_demo())
        loaded = run_cli(["load", str(path)], env)
        assert loaded.returncode == 0, loaded.stderr
        db_pid = runtime["pid"]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
    assert server.returncode in (0, 130)
    wait_until(lambda: not pid_running(db_pid), 30, "the embedded database to stop")
    assert not (data_dir / RUNTIME_FILE).exists()

    # The files survive: a new embedded server over the same directory has both data sets.
    client: MongoClient[Document]
    with EmbeddedServer(data_dir) as embedded, MongoClient(embedded.uri) as client:
        db: MongoDatabase[Document] = client["badges"]
        assert db.badge_meta.count_documents({"orgId": 7}) == 1
        assert db.badge_meta.count_documents({"orgId": ORG_B}) > 0


# Token requests sent at once: each waits for its own Argon2 check (one at a time, about half a
# second each), so after the first answer three are still in flight when SIGTERM arrives.
IN_FLIGHT = 4


@pytest.mark.slow  # a gateway process on an embedded database
def test_sigterm_lets_requests_in_flight_finish(tmp_path: Path) -> None:
    """SIGTERM while requests are being answered: each still gets its answer, the process exits
    cleanly, the embedded database stops, and its data is there on the next start."""
    import asyncio

    data_dir = tmp_path / "data"
    server, base, _ = serve_embedded(data_dir, tmp_path / "serve.log", "--no-access-log")
    try:
        db_pid = json.loads((data_dir / RUNTIME_FILE).read_text())["pid"]

        async def in_flight() -> list[int]:
            # Token generation verifies an Argon2 hash (the shipped cost, in this process of its
            # own): slow enough to still be running when the signal arrives.
            body = {"key": ORG_B_CLIENT.key, "secret": ORG_B_CLIENT.secret}
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                requests = [
                    asyncio.create_task(client.post("/v3/oauth/token/generate", json=body))
                    for _ in range(IN_FLIGHT)
                ]
                # The first answer means the gateway is working through them: one check at a
                # time (GQL_BADGES_LOGIN_MAX_CONCURRENT=1), so the others are still in flight,
                # read while the first was hashed. A connection not read yet would be closed.
                await asyncio.wait(requests, return_when=asyncio.FIRST_COMPLETED)
                server.send_signal(signal.SIGTERM)
                return [(await request).status_code for request in requests]

        assert asyncio.run(in_flight()) == [200] * IN_FLIGHT
        assert server.wait(60) == 128 + signal.SIGTERM  # after a clean shutdown
    finally:
        if server.poll() is None:
            server.kill()
    wait_until(lambda: not pid_running(db_pid), 30, "the embedded database to stop")
    client: MongoClient[Document]
    with EmbeddedServer(data_dir) as embedded, MongoClient(embedded.uri) as client:
        assert client["badges"].badge_meta.count_documents({"orgId": ORG_B}) > 0


def test_indexes_check_and_create(cli_env: dict[str, str]) -> None:
    """The deploy pipeline's step: --check exits 1 naming what is missing, --create builds."""
    missing = cli_in_process(["indexes", "--check"], cli_env)
    assert missing.returncode == 1, missing.stderr
    assert "customers.orgId_email missing" in missing.stderr
    assert "gql-badges indexes --create" in missing.stderr
    created = cli_in_process(["indexes", "--create"], cli_env)
    assert created.returncode == 0, created.stderr
    present = cli_in_process(["indexes"], cli_env)  # --check is the default
    assert present.returncode == 0, present.stderr
    assert "indexes present" in present.stdout


def test_load_refuses_what_the_database_would_and_draws_no_bar_in_a_pipe(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(GOOD_FILE))
    assert cli_in_process(["load", str(path)], cli_env).returncode == 0
    content = good_file()
    content["customers"][0]["_id"] = 62090099  # another customer, the same email
    content["customer_badges"][0]["customerId"] = 62090099
    content["customer_badges"][0]["_id"] = {"$oid": "653dea07b3cda7078c7c6901"}
    path.write_text(json.dumps(content))
    result = cli_in_process(["load", str(path)], cli_env)
    assert result.returncode == 1
    assert "customers[0].email: 'a@example.com' is already used by" in result.stderr
    assert "Traceback" not in result.stderr and "\r" not in result.stdout
    assert collection_counts(cli_env)["customers"] == 1
