"""Authentication (Basic, OAuth) and tenancy, through the real app."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import httpx
import jwt
import pytest

from gql_badges.auth.hashing import md5_hex
from gql_badges.demo import GROUP_A, ORG_A, ORG_B
from gql_badges.demo.handles import INACTIVE_CLIENT, ORG_B_CLIENT, SWATI
from gql_badges.errors import Unauthenticated
from gql_badges.services import Services
from gql_badges.storage.client import Database
from gql_badges.storage.collections import Document
from tests.support import (
    basic_auth,
    basic_header,
    error_code,
    graphql,
    graphql_answer,
    jwt_token,
    oauth_header,
    seed_cheap_client,
)

pytestmark = pytest.mark.usefixtures("demo")

QUERY = """query($ref: CustomerRef!) { customerBadges(customer: $ref, badgeType: EARNED) {
  badges { name } pagination { total } } }"""


async def test_basic_auth_reads_the_callers_org(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    body = await graphql(client, QUERY, org_b_auth, ref=SWATI.ref)
    assert body["data"]["customerBadges"]["pagination"]["total"] == 4


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth(ORG_B_CLIENT.username, "wrong-password"),
        basic_auth("nobody", ORG_B_CLIENT.password),
        {"Authorization": "Basic not-base64!"},
        basic_header("no-colon"),
        {"Authorization": "Digest abc"},
        # The plain password instead of its MD5 is not accepted.
        basic_header(f"{ORG_B_CLIENT.username}:{ORG_B_CLIENT.password}"),
        {"Authorization": "Bearer not.a.token"},
        oauth_header("garbage"),
    ],
)
async def test_bad_credentials_are_unauthenticated(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """Credentials present but wrong: 401 before anything runs. None at all: the query runs
    (200) and the field that needs a caller fails."""
    body = await graphql_answer(client, QUERY, headers, 401 if headers else 200, ref=SWATI.ref)
    assert body.get("data") is None
    assert error_code(body) == "UNAUTHENTICATED"
    assert body["errors"][0]["extensions"]["capillaryCode"] == 401


async def test_inactive_client_is_forbidden(client: httpx.AsyncClient) -> None:
    inactive = basic_auth(*INACTIVE_CLIENT.credentials)
    body = await graphql_answer(client, QUERY, inactive, 403, ref=SWATI.ref)
    assert error_code(body) == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["capillaryCode"] == 4000


async def token(
    client: httpx.AsyncClient, key: str = ORG_B_CLIENT.key, secret: str = ORG_B_CLIENT.secret
) -> httpx.Response:
    return await client.post("/v3/oauth/token/generate", json={"key": key, "secret": secret})


async def test_oauth_token_flow(client: httpx.AsyncClient) -> None:
    response = await token(client)
    assert response.status_code == 200
    body = response.json()
    # The envelope of every other answer, not a one-off `"errors": null` (docs/semantics.md).
    assert set(body) == {"data", "errors", "warnings"}
    assert body["errors"] == [] and body["warnings"] == []
    assert body["data"]["ttlSeconds"] == 300
    access = body["data"]["accessToken"]
    claims = jwt.decode(access, options={"verify_signature": False})
    assert claims["org_id"] == ORG_B and claims["client_id"] == ORG_B_CLIENT.key
    assert claims["exp"] - claims["iat"] == 300
    for headers in (oauth_header(access), {"Authorization": f"Bearer {access}"}):
        result = await graphql(client, QUERY, headers, ref=SWATI.ref)
        assert result["data"]["customerBadges"]["pagination"]["total"] == 4


@pytest.mark.parametrize(
    ("body", "status", "error_code"),
    [
        ({"key": ORG_B_CLIENT.key, "secret": "wrong"}, 401, 401),
        ({"key": "no-such-key", "secret": ORG_B_CLIENT.secret}, 401, 401),
        ({"key": INACTIVE_CLIENT.key, "secret": INACTIVE_CLIENT.secret}, 403, 4000),
        ({"key": ORG_B_CLIENT.key}, 400, 400),
        ({"key": 1, "secret": []}, 400, 400),
        ([], 400, 400),
    ],
)
async def test_token_generation_failures(
    client: httpx.AsyncClient, body: object, status: int, error_code: int
) -> None:
    response = await client.post("/v3/oauth/token/generate", json=body)
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == error_code
    if status == 401:
        assert "WWW-Authenticate" in response.headers


async def test_bad_json_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/v3/oauth/token/generate", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 400


@pytest.mark.parametrize(
    "make_token",
    [
        # expired
        lambda now: jwt_token(ORG_B, ORG_B_CLIENT.key, issued_at=now - 600),
        # signed with another secret
        lambda now: jwt_token(ORG_B, ORG_B_CLIENT.key, secret="another-secret-" + "y" * 32),
        # alg none
        lambda now: jwt_token(ORG_B, ORG_B_CLIENT.key, secret=None, algorithm="none"),
        # a real client, another org's id: claims that do not match the client are refused
        lambda now: jwt_token(ORG_A, ORG_B_CLIENT.key),
        # no exp
        lambda now: jwt_token(ORG_B, ORG_B_CLIENT.key, ttl=None),
    ],
)
async def test_bad_tokens_are_refused(
    client: httpx.AsyncClient, make_token: Callable[[int], str]
) -> None:
    bad = make_token(int(time.time()))
    body = await graphql_answer(client, QUERY, oauth_header(bad), 401, ref=SWATI.ref)
    assert error_code(body) == "UNAUTHENTICATED"


async def test_tampered_token_is_refused(client: httpx.AsyncClient) -> None:
    access = (await token(client)).json()["data"]["accessToken"]
    header, _, signature = access.split(".")
    claims = jwt.decode(access, options={"verify_signature": False}) | {"org_id": ORG_A}
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    body = await graphql_answer(
        client,
        QUERY,
        {"Authorization": f"Bearer {header}.{forged_payload}.{signature}"},
        401,
        ref=SWATI.ref,
    )
    assert error_code(body) == "UNAUTHENTICATED"


# --- tenancy --------------------------------------------------------------------------------


async def test_another_orgs_customer_is_not_found(
    client: httpx.AsyncClient, org_a_auth: dict[str, str], org_b_auth: dict[str, str]
) -> None:
    """Org A cannot read Swati (org B) by any identifier, and the answer is plain not-found."""
    for ref in (
        SWATI.ref,
        {"email": SWATI.email},
        {"cardNumber": SWATI.card_numbers[0]},
        {"mobile": SWATI.mobile},
        {"externalId": SWATI.external_id},
    ):
        body = await graphql(client, QUERY, org_a_auth, ref=ref)
        assert body["data"] is None
        assert error_code(body) == "CUSTOMER_NOT_FOUND"
        missing = await graphql(client, QUERY, org_a_auth, ref={"id": "99999999"})
        assert body["errors"][0]["message"] == missing["errors"][0]["message"]
        assert body["errors"][0]["extensions"] == missing["errors"][0]["extensions"]


async def test_another_orgs_badges_and_groups_never_appear(
    client: httpx.AsyncClient, demo: dict[str, list[Document]], org_b_auth: dict[str, str]
) -> None:
    """Org B's queries return only org B's badges, whatever the type, sort or group filter."""
    org_a_ids = {str(b["_id"]) for b in demo["badge_meta"] if b["orgId"] == ORG_A}
    org_a_group = str(GROUP_A)
    query = """query($t: BadgeType, $s: CustomerSortOn, $g: ID, $c: ID!) {
      customerBadges(customer: {id: $c}, badgeType: $t, sortOn: $s, groupId: $g,
                     limit: 100, includeExpired: true) {
        badges { badgeMetaId badgeGroupName group { id } } } }"""
    for badge_type in ("AVAILABLE_TO_ISSUE", "AVAILABLE", "EARNED", "EXPIRED"):
        for sort in (None, "RANK"):
            for group in (None, org_a_group):
                body = await graphql(
                    client, query, org_b_auth, t=badge_type, s=sort, g=group, c=SWATI.key
                )
                badges = body["data"]["customerBadges"]["badges"]
                assert not {b["badgeMetaId"] for b in badges} & org_a_ids
                assert all(b["badgeGroupName"] != "Group" for b in badges)
                if group:
                    assert badges == []


async def test_a_badge_can_join_only_its_own_orgs_group(
    client: httpx.AsyncClient, database: Database, org_id: int
) -> None:
    """A badge pointing at another org's group is ungrouped: no name, no RANK preference."""
    from datetime import UTC, datetime, timedelta

    from bson import ObjectId

    from gql_badges.loading import validate_documents, write_documents

    now = datetime.now(UTC)
    foreign_group = GROUP_A  # org A's "Group"
    badge = {
        "_id": ObjectId(),
        "orgId": org_id,
        "name": "stray",
        "earnType": "EARN",
        "startOn": now - timedelta(days=1),
        "expiresOn": now + timedelta(days=1),
        "badgeGroupId": foreign_group,
        "ownership": {},
        "active": True,
    }
    docs = {
        "badge_meta": [badge],
        "customers": [{"_id": org_id * 10, "orgId": org_id}],
        "api_clients": [{"username": f"u{org_id}", "password": "pw", "orgId": org_id}],
    }
    await write_documents(database, validate_documents(docs))
    body = await graphql(
        client,
        """query($id: ID!) { customerBadges(customer: {id: $id}, sortOn: RANK) {
             badges { name badgeGroupId badgeGroupName group { name } } } }""",
        basic_auth(f"u{org_id}", "pw"),
        id=str(org_id * 10),
    )
    assert "errors" not in body, body
    assert body["data"]["customerBadges"]["badges"] == [
        {"name": "stray", "badgeGroupId": str(foreign_group), "badgeGroupName": None, "group": None}
    ]


async def test_passwords_and_secrets_are_stored_only_hashed(
    database: Database, demo: dict[str, list[Document]]
) -> None:
    stored = await database.find("api_clients", {})
    assert stored
    for client_doc in stored:
        assert "password" not in client_doc and "secret" not in client_doc
        assert client_doc["passwordHash"].startswith("$argon2")
        text = repr(client_doc)
        assert "demo-password" not in text and "demo-secret" not in text
        assert md5_hex(ORG_B_CLIENT.password) not in text


async def test_a_plain_mapping_in_any_case_authenticates_as_headers_do(
    services: Services,
) -> None:
    """`Authenticator.authenticate` takes any mapping (a WebSocket's `connection_init` payload
    is a JSON object, its keys in whatever case the client wrote) and the client's address."""
    username, password = await seed_cheap_client(services.database)
    authenticate = services.authenticator.authenticate
    basic = basic_auth(username, password)["Authorization"]
    caller = await authenticate({"Authorization": basic}, "127.0.0.9")
    assert caller.client == username
    assert await authenticate({"AUTHORIZATION": basic}, "127.0.0.9") == caller
    secret = services.settings.jwt_secret.get_secret_value()
    token = jwt_token(ORG_B, ORG_B_CLIENT.key, secret=secret)
    by_token = await authenticate({"X-Cap-Api-OAuth-Token": token}, None)
    assert (by_token.org_id, by_token.client) == (ORG_B, ORG_B_CLIENT.key)
    with pytest.raises(Unauthenticated) as refused:
        await authenticate({"Authorization": basic_auth(username, "wrong")["Authorization"]}, "x")
    assert refused.value.reason == "wrong_secret"
    with pytest.raises(Unauthenticated) as missing:
        await authenticate({}, "127.0.0.9")
    assert missing.value.reason == "missing"
