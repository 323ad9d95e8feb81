"""Persisted operations through HTTP: Apollo's APQ protocol, and the safelist mode."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.demo.handles import SWATI
from gql_badges.graphql.persisted import REGISTERED_DOCUMENTS, sha256_hex
from gql_badges.graphql.schema import create_schema
from gql_badges.services import Services
from tests.support import cli_in_process, error_code, make_settings

pytestmark = pytest.mark.usefixtures("demo")

QUERY = """query Earned($id: ID!) { customerBadges(customer: {id: $id}, badgeType: EARNED) {
  pagination { total } } }"""
VARIABLES = {"id": SWATI.key}


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_apq_registers_then_runs_by_hash(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    digest = sha256_hex(QUERY)
    by_hash = {"variables": VARIABLES, "extensions": apq(digest)}
    missing = (await client.post("/graphql", json=by_hash, headers=org_b_auth)).json()
    assert error_code(missing) == "PERSISTED_QUERY_NOT_FOUND"
    assert missing["errors"][0]["message"] == "PersistedQueryNotFound"  # what Apollo Client reads

    registered = await client.post("/graphql", json=by_hash | {"query": QUERY}, headers=org_b_auth)
    assert registered.json()["data"]["customerBadges"]["pagination"]["total"] == 4

    again = (await client.post("/graphql", json=by_hash, headers=org_b_auth)).json()
    assert again == registered.json()


async def test_apq_over_get_is_private_to_the_caller(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    query = QUERY.replace("Earned", "EarnedOverGet")
    params = {
        "variables": json.dumps(VARIABLES),
        "extensions": json.dumps(apq(sha256_hex(query))),
    }
    headers = org_b_auth | {"Accept": "application/json"}
    missing = await client.get("/graphql", params=params, headers=headers)
    assert error_code(missing.json()) == "PERSISTED_QUERY_NOT_FOUND"
    await client.post(
        "/graphql",
        json={"query": query, "variables": VARIABLES, "extensions": apq(sha256_hex(query))},
        headers=org_b_auth,
    )
    response = await client.get("/graphql", params=params, headers=headers)
    assert response.json()["data"]["customerBadges"]["pagination"]["total"] == 4
    assert response.headers["Cache-Control"] == "private"
    assert "Authorization" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("extensions", "code"),
    [
        (apq("0" * 64), "BAD_REQUEST"),  # a hash that is not the document's
        (
            {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
            "PERSISTED_QUERY_NOT_SUPPORTED",
        ),
        ({"persistedQuery": {"version": 1, "sha256Hash": "not-hex"}}, "BAD_REQUEST"),
        ({"persistedQuery": "yes"}, "PERSISTED_QUERY_NOT_SUPPORTED"),
    ],
)
async def test_apq_refuses_what_it_cannot_trust(
    client: httpx.AsyncClient, org_b_auth: dict[str, str], extensions: dict[str, Any], code: str
) -> None:
    body = {"query": QUERY, "variables": VARIABLES, "extensions": extensions}
    answer = (await client.post("/graphql", json=body, headers=org_b_auth)).json()
    assert error_code(answer) == code
    assert answer.get("data") is None


async def test_a_mismatched_hash_registers_nothing(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    query = QUERY.replace("Earned", "NeverRegistered")
    wrong = sha256_hex(query + " ")
    await client.post("/graphql", json={"query": query, "extensions": apq(wrong)})
    answer = (await client.post("/graphql", json={"extensions": apq(wrong)})).json()
    assert error_code(answer) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.slow  # a thousand documents registered
async def test_registered_documents_are_bounded() -> None:
    schema = create_schema()
    for n in range(REGISTERED_DOCUMENTS + 10):
        query = f"{{ a{n}: __typename }}"
        result = await schema.execute(query, operation_extensions=apq(sha256_hex(query)))
        assert result.errors is None
    newest = "{ a1009: __typename }"
    assert (await schema.execute(None, operation_extensions=apq(sha256_hex(newest)))).data
    oldest = "{ a0: __typename }"
    result = await schema.execute(None, operation_extensions=apq(sha256_hex(oldest)))
    assert (
        result.errors and (result.errors[0].extensions or {})["code"] == "PERSISTED_QUERY_NOT_FOUND"
    )


def manifest_of(directory: Path) -> dict[str, Any]:
    result = cli_in_process(["persisted-manifest", str(directory)], dict(os.environ))
    assert result.returncode == 0, result.stderr
    manifest: dict[str, Any] = json.loads(result.stdout)
    return manifest


async def test_the_safelist_runs_only_listed_operations(
    services: Services, tmp_path: Path, org_b_auth: dict[str, str]
) -> None:
    operations = tmp_path / "operations"
    operations.mkdir()
    (operations / "earned.graphql").write_text(QUERY.replace("pagination { total }", "...Page"))
    (operations / "fragments.graphql").write_text(
        "fragment Page on BadgePage { pagination { total } }"
    )
    manifest = manifest_of(operations)
    (entry,) = manifest["operations"]
    assert entry["name"] == "Earned" and entry["type"] == "query"
    assert entry["id"] == sha256_hex(entry["body"]) and "fragment Page" in entry["body"]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))

    settings = make_settings(services.settings.driver, persisted_operations=path)
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:

        async def send(body: dict[str, Any]) -> dict[str, Any]:
            answer: dict[str, Any] = (
                await client.post("/graphql", json=body, headers=org_b_auth)
            ).json()
            return answer

        by_id = await send({"variables": VARIABLES, "extensions": apq(entry["id"])})
        assert by_id["data"]["customerBadges"]["pagination"]["total"] == 4
        by_body = await send({"query": entry["body"], "variables": VARIABLES})
        assert by_body == by_id
        unlisted = await send({"query": QUERY, "variables": VARIABLES})
        assert error_code(unlisted) == "PERSISTED_QUERY_NOT_IN_LIST"
        registering = await send({"query": QUERY, "extensions": apq(sha256_hex(QUERY))})
        assert error_code(registering) == "PERSISTED_QUERY_NOT_IN_LIST"  # no APQ around it
        # A safelisted operation is named in the metrics (others are "other").
        scrape = (await client.get("/metrics")).text
        assert 'gql_badges_graphql_operations_total{operation="Earned",outcome="ok"}' in scrape


def test_a_bad_manifest_stops_the_gateway_at_start_up(services: Services, tmp_path: Path) -> None:
    from gql_badges.graphql.manifest import ManifestError

    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": "x", "name": "Bad", "type": "query", "body": "{ nope }"}],
            }
        )
    )
    settings = make_settings(services.settings.driver, persisted_operations=path)
    with pytest.raises(ManifestError, match=r"operations\[0\] \(Bad\): Cannot query field 'nope'"):
        create_app(settings, services=services)
