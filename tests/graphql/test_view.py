"""GraphQL over HTTP through the real app: media types, status codes, and errors in one shape."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from gql_badges.app import create_app
from gql_badges.demo.handles import ORG_B_CLIENT, SWATI
from gql_badges.services import Services
from tests.support import basic_header

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
AS_GRAPHQL_RESPONSE = {"Accept": GRAPHQL_RESPONSE}
AS_JSON = {"Accept": JSON}
TYPENAME = {"query": "{ __typename }"}
TYPENAME_BYTES = b'{"query": "{ __typename }"}'
PAGE = f'{{ customerBadges(customer: {{id: "{SWATI.key}"}}) {{ pagination {{ total }} }} }}'


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def only_error(response: httpx.Response) -> dict[str, Any]:
    """The single error of a GraphQL-shaped error answer: JSON, no `data`, a code."""
    assert media_type(response) in (JSON, GRAPHQL_RESPONSE), response.headers
    body = response.json()
    assert "data" not in body, body
    (error,) = body["errors"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["extensions"]["code"], str)
    found: dict[str, Any] = error
    return found


async def post(client: httpx.AsyncClient, body: object, accept: dict[str, str]) -> httpx.Response:
    """POST `body` as JSON (even a bare `null`, which httpx's `json=None` would not send)."""
    headers = accept | {"Content-Type": JSON}
    return await client.post("/graphql", content=json.dumps(body), headers=headers)


# --- media types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, JSON),  # httpx sends Accept: */*
        ({"Accept": "*/*"}, JSON),
        (AS_JSON, JSON),
        (AS_GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        ({"Accept": f"{GRAPHQL_RESPONSE}, {JSON}"}, GRAPHQL_RESPONSE),
        ({"Accept": f"{JSON};q=0.9, {GRAPHQL_RESPONSE}"}, GRAPHQL_RESPONSE),
        ({"Accept": f"{GRAPHQL_RESPONSE};q=0.5, {JSON}"}, JSON),
    ],
)
async def test_the_response_media_type_follows_accept(
    client: httpx.AsyncClient, headers: dict[str, str], expected: str
) -> None:
    response = await client.post("/graphql", json=TYPENAME, headers=headers)
    assert response.status_code == 200
    assert media_type(response) == expected
    assert "charset=utf-8" in response.headers["content-type"]
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_no_acceptable_media_type_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=TYPENAME, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    error = only_error(response)
    assert error["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert GRAPHQL_RESPONSE in error["message"]
    assert media_type(response) == JSON


async def test_get_runs_queries_in_both_media_types(client: httpx.AsyncClient) -> None:
    for accept, expected in ((AS_JSON, JSON), (AS_GRAPHQL_RESPONSE, GRAPHQL_RESPONSE)):
        response = await client.get("/graphql", params=TYPENAME, headers=accept)
        assert response.status_code == 200
        assert media_type(response) == expected
        assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_browser_still_gets_graphiql(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


# --- request errors: 400 with application/graphql-response+json, 200 with application/json -----

REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param(
        {"query": "mutation { __typename }"}, "GRAPHQL_VALIDATION_FAILED", id="no-mutations"
    ),
    pytest.param(
        {"query": "query Q($n: String!) { __type(name: $n) { name } }", "variables": {"n": 5}},
        "BAD_USER_INPUT",
        id="variable-coercion",
    ),
    pytest.param(
        {"query": "query A { __typename } query B { __typename }"},
        "OPERATION_RESOLUTION_FAILURE",
        id="several-operations-no-name",
    ),
    pytest.param(
        {"query": "query A { __typename }", "operationName": "B"},
        "OPERATION_RESOLUTION_FAILURE",
        id="unknown-operation-name",
    ),
]


@pytest.mark.parametrize(("body", "code"), REQUEST_ERRORS)
@pytest.mark.parametrize(
    ("accept", "status", "answered_as"),
    [(AS_GRAPHQL_RESPONSE, 400, GRAPHQL_RESPONSE), (AS_JSON, 200, JSON)],
    ids=["graphql-response-400", "json-200"],
)
async def test_request_errors_by_accepted_type(
    client: httpx.AsyncClient,
    body: dict[str, Any],
    code: str,
    accept: dict[str, str],
    status: int,
    answered_as: str,
) -> None:
    """A request error is a 400 in the GraphQL response type, a 200 in plain JSON."""
    response = await post(client, body, accept)
    assert response.status_code == status
    assert media_type(response) == answered_as
    assert only_error(response)["extensions"]["code"] == code


async def test_several_operations_need_an_operation_name(client: httpx.AsyncClient) -> None:
    document = "query A { a: __typename } query B { b: __typename }"
    missing = await post(client, {"query": document}, AS_GRAPHQL_RESPONSE)
    assert "operationName" in only_error(missing)["message"]
    chosen = await post(client, {"query": document, "operationName": "B"}, AS_GRAPHQL_RESPONSE)
    assert chosen.status_code == 200
    assert chosen.json() == {"data": {"b": "Query"}}


async def test_a_query_over_the_token_limit_is_a_request_error(client: httpx.AsyncClient) -> None:
    document = "{ " + " ".join(f"a{i}: __typename" for i in range(3000)) + " }"
    response = await post(client, {"query": document}, AS_GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert only_error(response)["extensions"]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.usefixtures("demo")
async def test_field_errors_are_partial_results_with_200(client: httpx.AsyncClient) -> None:
    """No credentials: the field fails (data null), but the request executed: 200, with data."""
    response = await post(client, {"query": PAGE}, AS_GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["customerBadges"]


@pytest.mark.usefixtures("demo")
async def test_data_with_the_graphql_response_type(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    response = await post(client, {"query": PAGE}, AS_GRAPHQL_RESPONSE | org_b_auth)
    assert response.status_code == 200
    assert response.json()["data"]["customerBadges"]["pagination"]["total"] >= 1


# --- requests that are not well-formed: 400 in either type --------------------------------------


@pytest.mark.parametrize("body", ["a string", 42, True, None, [], [TYPENAME]])
@pytest.mark.parametrize("accept", [AS_JSON, AS_GRAPHQL_RESPONSE], ids=["json", "graphql-response"])
async def test_a_json_body_that_is_not_an_object_is_400(
    client: httpx.AsyncClient, body: object, accept: dict[str, str]
) -> None:
    """These answered 500 (Strawberry called .get on them); an array was a plain-text 400."""
    response = await post(client, body, accept)
    assert response.status_code == 400
    assert media_type(response) == accept["Accept"]
    error = only_error(response)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "JSON object" in error["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"query": 42}, "`query`"),
        ({"query": ["{ __typename }"]}, "`query`"),
        ({"query": "{ __typename }", "variables": "{}"}, "`variables`"),
        ({"query": "{ __typename }", "variables": [1]}, "`variables`"),
        ({"query": "{ __typename }", "extensions": 1}, "`extensions`"),
        ({"query": "{ __typename }", "operationName": {"a": 1}}, "`operationName`"),
        ({"qeury": "{ __typename }"}, "`query`"),
        ({}, "`query`"),
    ],
)
async def test_mistyped_or_missing_parameters_are_400(
    client: httpx.AsyncClient, body: dict[str, Any], named: str
) -> None:
    for accept in (AS_JSON, AS_GRAPHQL_RESPONSE):
        response = await post(client, body, accept)
        assert response.status_code == 400, response.text
        error = only_error(response)
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert named in error["message"]


async def test_null_parameters_mean_absent(client: httpx.AsyncClient) -> None:
    body = TYPENAME | {"variables": None, "operationName": None, "extensions": None}
    response = await post(client, body, AS_GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "body", [b"", b'{"query": ', b'{"query": "{ __typename }", "x": "\xff"}'], ids=repr
)
async def test_bad_json_is_400_in_the_graphql_shape(client: httpx.AsyncClient, body: bytes) -> None:
    headers = AS_GRAPHQL_RESPONSE | {"Content-Type": JSON}
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400
    assert media_type(response) == GRAPHQL_RESPONSE
    assert only_error(response)["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_other_post_media_types_are_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = await client.post("/graphql", content=TYPENAME_BYTES, headers=headers)
    assert response.status_code == 415
    assert only_error(response)["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_json_with_a_utf8_charset_is_accepted(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json; charset=UTF-8"}
    response = await client.post("/graphql", content=TYPENAME_BYTES, headers=headers)
    assert response.status_code == 200


async def test_get_parameters_are_checked_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }", "variables": "{"})
    assert response.status_code == 400
    assert "`variables`" in only_error(response)["message"]
    response = await client.get("/graphql", params={"query": "{ __typename }", "variables": "[]"})
    assert response.status_code == 400
    no_query = await client.get("/graphql", headers=AS_JSON)  # was a plain-text 400
    assert no_query.status_code == 400
    assert only_error(no_query)["extensions"]["code"] == "BAD_REQUEST"


# --- methods ------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["mutation { __typename }", "subscription { __typename }"])
@pytest.mark.parametrize("accept", [AS_JSON, AS_GRAPHQL_RESPONSE], ids=["json", "graphql-response"])
async def test_mutations_and_subscriptions_over_get_are_405(
    client: httpx.AsyncClient, operation: str, accept: dict[str, str]
) -> None:
    response = await client.get("/graphql", params={"query": operation}, headers=accept)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert media_type(response) == accept["Accept"]
    error = only_error(response)
    assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    kind = operation.split()[0] + "s"
    assert f"GET requests cannot run {kind}" in error["message"]
    if kind == "subscriptions":  # where they are served
        assert "text/event-stream" in error["message"] and "WebSocket" in error["message"]


@pytest.mark.parametrize("accept", [AS_JSON, AS_GRAPHQL_RESPONSE], ids=["json", "graphql-response"])
async def test_a_subscription_asking_for_one_json_answer_is_406(
    client: httpx.AsyncClient, accept: dict[str, str]
) -> None:
    """GraphiQL sends a subscription as a plain POST when its parse of the editor lags the
    text (it decides the transport by that parse, 100 ms after the last keystroke). Its events
    cannot be one JSON answer: a clear 406 naming the transports that carry them. Before, the
    subscription ran as a query and failed as INTERNAL_SERVER_ERROR, with a traceback in the
    log."""
    document = 'subscription { badgeChanged(customer: {id: "1"}) { kind } }'
    response = await client.post("/graphql", json={"query": document}, headers=accept)
    assert response.status_code == 406
    assert media_type(response) == accept["Accept"]
    error = only_error(response)
    assert error["extensions"]["code"] == "NOT_ACCEPTABLE"
    assert "text/event-stream" in error["message"] and "WebSocket" in error["message"]


AS_EVENT_STREAM = {"Accept": "text/event-stream"}


@pytest.mark.parametrize(
    ("request_args", "status", "code", "says"),
    [
        ({"content": b"{bad", "headers": {"Content-Type": JSON}}, 400, "BAD_REQUEST", "valid JSON"),
        ({"json": [1]}, 400, "BAD_REQUEST", "not an array"),
        ({"json": {"query": 5}}, 400, "BAD_REQUEST", "`query` must be a string"),
        ({"json": {"query": "{ __typename }", "variables": []}}, 400, "BAD_REQUEST", "`variables`"),
        (
            {"content": b'{"query": "{ __typename }"}', "headers": {"Content-Type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "application/json",
        ),
        ({"method": "GET", "params": {"query": "{ __typename }", "variables": "{x"}}, 400,
         "BAD_REQUEST", "`variables` is not valid JSON"),
        ({"method": "PUT"}, 405, "METHOD_NOT_ALLOWED", "not PUT"),
    ],
    ids=["not-json", "array", "query-number", "variables-array", "text-plain", "get-variables",
         "put"],
)  # fmt: skip
async def test_a_malformed_event_stream_request_is_refused_in_the_graphql_shape(
    client: httpx.AsyncClient, request_args: dict[str, Any], status: int, code: str, says: str
) -> None:
    """graphql-sse requests go to Strawberry, which answered these in plain text ("Unable to
    parse request body as JSON", "Batching is not enabled", ...). Now, as on the JSON path:
    JSON in the GraphQL shape, the same status and code."""
    arguments = dict(request_args)
    method = arguments.pop("method", "POST")
    headers = {**AS_EVENT_STREAM, **arguments.pop("headers", {})}
    response = await client.request(method, "/graphql", headers=headers, **arguments)
    assert response.status_code == status
    assert media_type(response) == JSON
    error = only_error(response)
    assert error["extensions"]["code"] == code
    assert says in error["message"]


async def test_a_well_formed_event_stream_request_still_streams(
    client: httpx.AsyncClient,
) -> None:
    """The body read to check the request is handed on to Strawberry as it came."""
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers=AS_EVENT_STREAM
    )
    assert response.status_code == 200
    assert media_type(response) == "text/event-stream"
    assert 'data: {"data":{"__typename":"Query"}}' in response.text
    assert "event: complete" in response.text


@pytest.mark.usefixtures("demo")
async def test_an_event_stream_with_wrong_credentials_is_401_before_any_stream(
    client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    """As on the JSON path (and as a WebSocket closes 4403 before its ack): credentials present
    but wrong are refused before anything runs. Before, the stream started (200) and carried
    the error, or for `{ __typename }` answered as if nothing were wrong."""
    wrong = basic_header(f"{ORG_B_CLIENT.credentials[0]}:{'0' * 32}")
    for document in ("{ __typename }", PAGE):
        response = await client.post(
            "/graphql", json={"query": document}, headers=AS_EVENT_STREAM | wrong
        )
        assert response.status_code == 401
        assert "www-authenticate" in response.headers
        assert only_error(response)["extensions"]["code"] == "UNAUTHENTICATED"
    # Right ones: the stream runs with the caller they name (checked once, then reused).
    response = await client.post(
        "/graphql", json={"query": PAGE}, headers=AS_EVENT_STREAM | org_b_auth
    )
    assert response.status_code == 200
    assert '"pagination":{"total":' in response.text, response.text


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def test_other_methods_are_405_in_the_graphql_shape(
    client: httpx.AsyncClient, method: str
) -> None:
    """Were a 405 in the REST envelope."""
    response = await client.request(method, "/graphql", headers=AS_GRAPHQL_RESPONSE)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert only_error(response)["extensions"]["code"] == "METHOD_NOT_ALLOWED"


# --- the unexpected ------------------------------------------------------------------------------


async def test_an_unexpected_failure_is_a_500_in_the_graphql_shape(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_clock() -> datetime:
        raise RuntimeError("secret internals: mongodb://admin:hunter2@db")

    app = create_app(services.settings, services=dataclasses.replace(services, clock=broken_clock))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await post(client, TYPENAME, AS_GRAPHQL_RESPONSE)
    assert response.status_code == 500
    error = only_error(response)
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in response.text
    assert error["extensions"]["requestId"] in caplog.text and "hunter2" in caplog.text
