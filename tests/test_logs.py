"""Logs of a real `gql-badges serve`: JSON lines with an access line per request, no secret."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from pathlib import Path

import httpx
import pytest

from gql_badges.auth import md5_hex
from gql_badges.observability import context
from gql_badges.observability.logs import JsonFormatter, TextFormatter
from tests.gateway_process import GatewayProcess, load_demo

USERNAME, PASSWORD = "demo.100606", "demo-password-100606"
KEY, SECRET = "demo-key-100606", "demo-secret-100606"
QUERY = 'query Earned { customerBadges(customer: {id: "62090013"}) { badges { name } } }'
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


async def test_json_access_lines_hold_the_fields_and_no_secret(
    mongo_uri: str, demo_database: str, tmp_path: Path
) -> None:
    gateway = GatewayProcess(mongo_uri, demo_database, tmp_path, GQL_BADGES_LOG_FORMAT="json")
    gateway.start()
    basic_value = base64.b64encode(f"{USERNAME}:{md5_hex(PASSWORD)}".encode()).decode()
    wrong_md5 = md5_hex("not-the-password")
    wrong_value = base64.b64encode(f"{USERNAME}:{wrong_md5}".encode()).decode()
    try:
        async with httpx.AsyncClient(base_url=gateway.base, timeout=30) as client:
            basic = {"Authorization": f"Basic {basic_value}"}
            answer = await client.post("/graphql", json={"query": QUERY}, headers=basic)
            assert answer.status_code == 200 and "errors" not in answer.json()
            wrong = {"Authorization": f"Basic {wrong_value}"}
            path = "/api_gateway/v1/badges/management/swati.jain@example.com"
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
            ).status_code == 200
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
    assert "swati.jain@example.com" not in log  # paths are logged as their route template

    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gql_badges.access"]
    assert len(access) >= 7  # the readiness probes, then the seven requests above
    for line in access:
        assert line.keys() >= ACCESS_FIELDS, line
    graphql = next(line for line in access if line["route"] == "/graphql")
    assert graphql["method"] == "POST" and graphql["status"] == 200
    assert graphql["org"] == 100606 and graphql["operation"] == "Earned"
    assert graphql["db_commands"] >= 3 and graphql["db_ms"] > 0 and graphql["duration_ms"] > 0
    management = [line for line in access if line["route"].startswith("/api_gateway")]
    assert [line["status"] for line in management] == [401, 200, 200]
    assert management[0]["org"] is None and management[1]["org"] == 100606
    assert management[0]["route"] == "/api_gateway/v1/badges/management/{customerId}"
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
