"""Logs of a real `gql-badges serve`: JSON lines with an access line per request, no secret."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import httpx
import pytest

from gql_badges.auth.hashing import md5_hex
from gql_badges.demo import ORG_B
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.observability import context
from gql_badges.observability.logs import JsonFormatter, TextFormatter
from tests.support import MANAGEMENT, GatewayProcess, basic_auth, load_demo

USERNAME, PASSWORD = ORG_B_CLIENT.username, ORG_B_CLIENT.password
KEY, SECRET = ORG_B_CLIENT.key, ORG_B_CLIENT.secret
QUERY = (
    f'query Earned {{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ badges {{ name }} }} }}'
)
ACCESS_FIELDS = {
    "time",
    "level",
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "org",
    "operation",
    "db_commands",
    "db_ms",
}


@pytest.fixture
async def demo_database(mongo_uri: str) -> str:
    name = f"logs_{uuid.uuid4().hex[:8]}"
    await load_demo(mongo_uri, name)
    return name


@pytest.mark.slow  # a gateway process
async def test_json_access_lines_hold_the_fields_and_no_secret(
    mongo_uri: str, demo_database: str, tmp_path: Path
) -> None:
    gateway = GatewayProcess(mongo_uri, demo_database, tmp_path, GQL_BADGES_LOG_FORMAT="json")
    gateway.start()
    basic = basic_auth(USERNAME, PASSWORD)
    wrong = basic_auth(USERNAME, "not-the-password")
    # What must never be logged: the header values, and the MD5s inside them.
    basic_value = basic["Authorization"].removeprefix("Basic ")
    wrong_value = wrong["Authorization"].removeprefix("Basic ")
    wrong_md5 = md5_hex("not-the-password")
    try:
        async with httpx.AsyncClient(base_url=gateway.base, timeout=30) as client:
            answer = await client.post("/graphql", json={"query": QUERY}, headers=basic)
            assert answer.status_code == 200 and "errors" not in answer.json()
            path = f"{MANAGEMENT}{SWATI.email}"
            email = {"X-CAP-CUSTOMER-IDENTIFIER": "email"}
            assert (await client.get(path, headers=wrong | email)).status_code == 401
            issued = await client.post(
                "/v3/oauth/token/generate", json={"key": KEY, "secret": SECRET}
            )
            token = issued.json()["data"]["accessToken"]
            bad = await client.post(
                "/v3/oauth/token/generate", json={"key": KEY, "secret": "nope-" + SECRET}
            )
            assert bad.status_code == 401
            for headers in ({"X-CAP-API-OAUTH-TOKEN": token}, {"Authorization": f"Bearer {token}"}):
                assert (await client.get(path, headers=headers | email)).status_code == 200
            assert (
                await client.post(
                    "/graphql", headers={"Authorization": f"Bearer {token}x"}, json={"query": QUERY}
                )
            ).status_code == 401
    finally:
        gateway.stop()
    log = gateway.log()

    for secret in (
        basic_value,
        wrong_value,
        md5_hex(PASSWORD),
        wrong_md5,
        PASSWORD,
        SECRET,
        token,
        gateway.env["GQL_BADGES_JWT_SECRET"],
    ):
        assert secret not in log, f"a secret is in the log: {secret[:12]}…"
    assert SWATI.email not in log  # paths are logged as their route template

    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gql_badges.access"]
    assert len(access) >= 7  # the readiness probes, then the seven requests above
    for line in access:
        assert line.keys() >= ACCESS_FIELDS, line
    graphql = next(line for line in access if line["route"] == "/graphql")
    assert graphql["method"] == "POST" and graphql["status"] == 200
    assert graphql["org"] == ORG_B and graphql["operation"] == "Earned"
    assert graphql["db_commands"] >= 3 and graphql["db_ms"] > 0 and graphql["duration_ms"] > 0
    management = [line for line in access if line["route"].startswith("/api_gateway")]
    assert [line["status"] for line in management] == [401, 200, 200]
    assert management[0]["org"] is None and management[1]["org"] == ORG_B
    assert management[0]["route"] == f"{MANAGEMENT}{{customerId}}"
    assert len({line["request_id"] for line in access}) == len(access)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # its own lines, as JSON


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("gql_badges.test", logging.WARNING, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_line_logged_during_a_request_carries_its_id() -> None:
    request = context.RequestRecord("GET", [])
    token = context._set(request)
    try:
        line = json.loads(JsonFormatter().format(_record("database slow")))
        text = TextFormatter().format(_record("database slow"))
    finally:
        context._reset(token)
    assert line["request_id"] == request.request_id and line["level"] == "WARNING"
    assert text.endswith(f"request_id={request.request_id}")
    outside = json.loads(JsonFormatter().format(_record("start-up")))
    assert "request_id" not in outside


def test_text_access_lines_show_their_fields() -> None:
    text = TextFormatter().format(
        _record("GET /healthz 200", fields={"route": "/healthz", "status": 200, "org": None})
    )
    assert "route='/healthz'" in text and "status=200" in text and "org" not in text
