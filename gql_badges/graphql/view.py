"""GraphQL over HTTP, as the GraphQL-over-HTTP specification (the 2024+ draft) says.

One request, in order:

1. a method other than GET or POST: 405 (`Allow: GET, POST`);
2. a browser's GET without a query: the GraphiQL page;
3. the response's media type, from `Accept`: `application/graphql-response+json` or
   `application/json` (the default, for a missing header or `*/*`); neither: 406;
4. the request parameters: a POST body must be `application/json` (else 415) holding a JSON
   object; `query` a string, `operationName` a string, `variables` and `extensions` objects
   (each may be null or absent); else 400;
5. credentials: a request that carries any must carry right ones, whatever it asks for
   (even `{ __typename }`): else 401 `UNAUTHENTICATED` (403 `FORBIDDEN` for an inactive client,
   429 `RATE_LIMITED` over a limit), counted as a failed login. A request without any runs, and
   only the fields that read data fail (the public schema: introspection, `__typename`);
6. execution: a mutation or subscription over GET is 405 (`Allow: POST`), and a subscription
   over a POST that asks for one JSON answer 406 (its events come over a WebSocket or as
   `text/event-stream`); a document with several operations and no `operationName` is a
   request error, like a document that does not parse or validate, or variables that do not
   coerce.

A request error (nothing was executed) answers without a `data` entry: 400 with
`application/graphql-response+json`, 200 with `application/json`, as legacy clients expect.
Field errors are partial results: 200 with either type. Every error is JSON in the GraphQL shape
`{"errors": [{"message": ..., "extensions": {"code": ...}}]}`, never plain text.

Strawberry's own `run` answers in one media type, with 200 for request errors and plain text
for malformed requests, so this view runs the HTTP side itself and keeps Strawberry's hooks for
the rest (`get_context`, `render_graphql_ide`, `process_result`, `schema.execute`). An event
stream (graphql-sse, `Accept: text/event-stream`) is Strawberry's to serve, once steps 1 and 4
found the request well formed: refused, it is refused in the same shape as any other.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from gql_badges.auth.credentials import Caller, presents_credentials
from gql_badges.errors import (
    INTERNAL_ERROR_MESSAGE,
    GatewayError,
    RateLimited,
    response_headers,
)
from gql_badges.graphiql import graphiql_page
from gql_badges.graphql._accept import GRAPHQL_RESPONSE_JSON, JSON, content_type, negotiate
from gql_badges.graphql._internals import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
    OperationType,
    PreExecutionError,
    UnsetType,
)
from gql_badges.graphql.context import GraphQLContext
from gql_badges.graphql.live import LiveConnection, token_expiry
from gql_badges.graphql.operation import MESSAGE as OPERATION_NAME_REQUIRED
from gql_badges.graphql.operation import OPERATION_RESOLUTION_FAILURE
from gql_badges.graphql.subscriptions import (
    GOING_AWAY,
    TOO_MANY_CONNECTIONS,
    LiveSockets,
    LiveTransportWSHandler,
    LiveWebSocketAdapter,
)
from gql_badges.observability import context as observed
from gql_badges.stored_json import dumps

if TYPE_CHECKING:
    from gql_badges.services import Services

logger = logging.getLogger(__name__)

GRAPHQL_PATH = "/graphql"

# Codes of the errors this module answers itself (the schema's carry their own).
BAD_REQUEST = "BAD_REQUEST"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

# GET is safe: it may only read. A subscription is a stream of events, which one JSON answer
# cannot carry: it is served over a WebSocket and as `text/event-stream` (SSE requests never
# reach this table), not as one answer over either method (nor as Strawberry's multipart
# protocol, which this gateway does not serve).
_ALLOWED_OVER = {
    "GET": {OperationType.QUERY},
    "POST": {OperationType.QUERY, OperationType.MUTATION},
}
SUBSCRIPTION_TRANSPORTS = (
    "A subscription is a stream of events: send it over a WebSocket to /graphql "
    "(graphql-transport-ws), or as a POST with `Accept: text/event-stream` (graphql-sse)"
)


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8"


def error_body(message: str, code: str, **extensions: object) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def error_response(
    status: int,
    message: str,
    code: str,
    *,
    media_type: str = JSON,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, object] | None = None,
) -> Response:
    """A request refused before execution, in the GraphQL shape (no `data` entry)."""
    return Response(
        orjson.dumps(error_body(message, code, **(extensions or {}))),
        status_code=status,
        headers=headers,
        media_type=_content_type(media_type),
    )


class Refusal(Exception):
    """A request this endpoint will not execute, with the status and code it answers."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers
        self.extensions = {k: v for k, v in (extensions or {}).items() if k != "code"}

    @classmethod
    def of(cls, error: GatewayError) -> Refusal:
        """A gateway error answered before execution, with its own status and extensions."""
        return cls(
            error.http_status,
            error.message,
            error.graphql_code,
            response_headers(error),
            error.extensions,
        )

    def response(self, media_type: str) -> Response:
        return error_response(
            self.status,
            self.message,
            self.code,
            media_type=media_type,
            headers=self.headers,
            extensions=self.extensions,
        )


def _bad_request(message: str) -> Refusal:
    return Refusal(400, message, BAD_REQUEST)


def _kind(value: object) -> str:
    """How a JSON value is named in an error message."""
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return names.get(type(value), "a value")


def _request_data(params: Mapping[str, object]) -> GraphQLRequestData:
    """The GraphQL-over-HTTP request parameters, checked for their types (null means absent)."""
    query = params.get("query")
    if query is not None and not isinstance(query, str):
        raise _bad_request(f"`query` must be a string, not {_kind(query)}")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _bad_request(f"`operationName` must be a string, not {_kind(operation_name)}")
    checked: dict[str, dict[str, Any] | None] = {}
    for name in ("variables", "extensions"):
        value = params.get(name)
        if value is not None and not isinstance(value, dict):
            raise _bad_request(f"`{name}` must be an object, not {_kind(value)}")
        checked[name] = value
    return GraphQLRequestData(
        query=query,
        variables=checked["variables"],
        # An empty operationName means none (the spec says so for GET; JSON alike).
        operation_name=operation_name or None,
        extensions=checked["extensions"],
    )


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: the errors were raised before any field ran (none has a path)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _request_error_code(error: GraphQLError, result: ExecutionResult) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    if isinstance(result, PreExecutionError):
        return VALIDATION_FAILED
    return BAD_USER_INPUT  # raised by execution before any field: variables that did not coerce


def _as_request_error(body: dict[str, Any], result: ExecutionResult) -> set[str]:
    """Shape `body` as a request error: no `data` entry, a code on each error; the codes."""
    del body["data"]  # nothing was executed, so there is no data at all, not even null
    codes = set()
    for formatted, error in zip(body["errors"], result.errors or (), strict=True):
        extensions = formatted.setdefault("extensions", {})
        codes.add(extensions.setdefault("code", _request_error_code(error, result)))
    return codes


def _check_method(request: Request) -> None:
    if request.method not in _ALLOWED_OVER:
        raise Refusal(
            405,
            f"GraphQL is served over GET and POST, not {request.method}",
            "METHOD_NOT_ALLOWED",
            {"Allow": "GET, POST"},
        )


def _replaying(body: bytes, receive: Receive) -> Receive:
    """`receive`, with the request's body (already read) received again first."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _wants_event_stream(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept":
            return b"text/event-stream" in value.lower()
    return False


class GraphQLView(GraphQL[GraphQLContext, None]):
    """The `/graphql` endpoint: GET and POST, both response media types, GraphiQL for browsers;
    subscriptions over WebSocket (graphql-transport-ws) and server-sent events (graphql-sse,
    `Accept: text/event-stream`), which Strawberry serves (`graphql/subscriptions.py`)."""

    graphql_transport_ws_handler_class = LiveTransportWSHandler
    websocket_adapter_class = LiveWebSocketAdapter
    live_sockets = LiveSockets()  # the app's own, with its settings, replaces this default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            websocket = WebSocket(scope, receive=receive, send=send)
            if self.live_sockets.draining:  # stopping: clients go to another replica
                await websocket.close(GOING_AWAY)
                return
            self.live_sockets.add(websocket)
            try:
                await self.run(websocket)
            finally:
                self.live_sockets.discard(websocket)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if _wants_event_stream(scope):
            await self._event_stream(request, send)
            return
        try:
            response = await self._answer(request)
        except Refusal as refusal:
            response = refusal.response(request.state.media_type)
        await response(scope, receive, send)

    async def _event_stream(self, request: Request, send: Send) -> None:
        """graphql-sse, which Strawberry serves once the request is well formed. What it would
        refuse in plain text (a method other than GET and POST, a body that is not a JSON
        object, parameters of the wrong type) is refused here as on the JSON path: in the
        GraphQL shape, with the same status and code. So are credentials present but wrong
        (401, 403, 429), before a stream starts rather than as an error inside a 200 stream,
        and a stream over the API client's live connections (429, its WebSockets and streams
        counted together). The body read for that is handed on, and the context with its caller
        (`get_context`)."""
        client: tuple[int, str] | None = None
        try:
            _check_method(request)
            _request_data(await self._parameters(request))
            context = self.context_for(request)
            if presents_credentials(context.headers):
                caller = await self._authenticate(context)
                key = (caller.org_id, caller.client)
                if not self.live_sockets.claim(key):
                    raise Refusal(429, TOO_MANY_CONNECTIONS, RateLimited.graphql_code)
                client = key
        except Refusal as refusal:
            await refusal.response(JSON)(request.scope, request.receive, send)
            return
        request.state.graphql_context = context
        body = await request.body() if request.method == "POST" else b""
        try:
            await super().__call__(request.scope, _replaying(body, request.receive), send)
        finally:
            if client is not None:
                self.live_sockets.release(client)

    async def _answer(self, request: Request) -> Response:
        request.state.media_type = JSON  # until the Accept header says otherwise
        _check_method(request)
        adapter = self.request_adapter_class(request)
        if self.graphql_ide and self.should_render_graphql_ide(adapter):
            return await self.render_graphql_ide(request)
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            raise Refusal(
                406,
                f"Acceptable media types: {GRAPHQL_RESPONSE_JSON}, {JSON}",
                "NOT_ACCEPTABLE",
            )
        request.state.media_type = media_type
        data = _request_data(await self._parameters(request))
        try:
            return await self._execute(request, data, media_type)
        except Refusal:
            raise
        except Exception as exc:
            # Not expected: the details go to the log only, under an id the caller can quote.
            request_id = observed.request_id()
            logger.error("unexpected error (request %s)", request_id, exc_info=exc)
            body = error_body(INTERNAL_ERROR_MESSAGE, INTERNAL_SERVER_ERROR, requestId=request_id)
            return Response(orjson.dumps(body), 500, media_type=_content_type(media_type))

    async def _parameters(self, request: Request) -> Mapping[str, object]:
        if request.method == "GET":
            params: dict[str, object] = dict(request.query_params)
            for name in ("variables", "extensions"):
                text = params.get(name)
                if isinstance(text, str) and text:
                    params[name] = self._decode(text, f"`{name}` is not valid JSON")
            return params
        media_type, options = content_type(request.headers.get("content-type", ""))
        charset = options.get("charset", "utf-8").lower()
        if media_type != JSON or charset not in ("utf-8", "utf8"):
            shown = request.headers.get("content-type") or "none"
            raise Refusal(
                415,
                f"A POST body must be {JSON} in UTF-8 (Content-Type: {shown})",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        body = self._decode(await request.body(), "The request body is not valid JSON")
        if not isinstance(body, dict):
            raise _bad_request(
                f"The request body must be a JSON object with a `query`, not {_kind(body)}"
            )
        return body

    def _decode(self, data: str | bytes, message: str) -> object:
        try:
            return self.decode_json(data)
        except orjson.JSONDecodeError:
            raise _bad_request(message) from None

    async def _execute(
        self, request: Request, data: GraphQLRequestData, media_type: str
    ) -> Response:
        context = self.context_for(request)
        if presents_credentials(context.headers):
            await self._authenticate(context)
        try:
            result = await self.schema.execute(
                data.query,
                variable_values=data.variables,
                context_value=context,
                operation_name=data.operation_name,
                allowed_operation_types=_ALLOWED_OVER[request.method],
                operation_extensions=data.extensions,
            )
        except MissingQueryError:
            raise _bad_request("No GraphQL `query` in the request") from None
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                if request.method == "POST":
                    raise Refusal(406, SUBSCRIPTION_TRANSPORTS, "NOT_ACCEPTABLE") from None
                message = f"GET requests cannot run subscriptions. {SUBSCRIPTION_TRANSPORTS}"
            else:
                message = "GET requests cannot run mutations (this schema has none): use POST"
            raise Refusal(405, message, "METHOD_NOT_ALLOWED", {"Allow": "POST"}) from None
        except CannotGetOperationTypeError as exc:
            message = (
                OPERATION_NAME_REQUIRED
                if exc.operation_name is None
                else f"No operation named {exc.operation_name!r} in the document"
            )
            error = GraphQLError(message, extensions={"code": OPERATION_RESOLUTION_FAILURE})
            result = PreExecutionError(data=None, errors=[error])

        body: dict[str, Any] = dict(await self.process_result(request, result))
        status = 200
        if _is_request_error(result):
            codes = _as_request_error(body, result)
            if media_type == GRAPHQL_RESPONSE_JSON:
                status = 500 if INTERNAL_SERVER_ERROR in codes else 400
        headers = {}
        if request.method == "GET":
            # A GET answer (persisted queries make GETs cacheable) is one caller's data: shared
            # caches must neither keep it nor hand it to a caller with other credentials.
            headers = {"Cache-Control": "private", "Vary": "Authorization, X-CAP-API-OAUTH-TOKEN"}
        return Response(
            self.encode_json(body),
            status_code=status,
            headers=headers,
            media_type=_content_type(media_type),
        )

    async def _authenticate(self, context: GraphQLContext) -> Caller:
        """Credentials present are checked before anything runs; the resolvers reuse the
        caller. Wrong ones are refused even when no field needs them, so a client learns that
        its credentials are broken and the login limits see every failure. The caller."""
        try:
            return await context.caller()
        except GatewayError as error:
            observed.gateway_error(error)
            raise Refusal.of(error) from None

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GraphQLContext:
        """The context of a WebSocket or an event stream (plain requests use `context_for`;
        an event stream's was made, its credentials checked, by `_event_stream`)."""
        made = getattr(request.state, "graphql_context", None)
        context = made if isinstance(made, GraphQLContext) else self.context_for(request)
        services: Services = request.app.state.services
        if services.hub is not None:
            websocket = isinstance(request, WebSocket)
            context.live = LiveConnection(
                hub=services.hub,
                transport="websocket" if websocket else "sse",
                clock=services.clock,
                metrics=services.metrics,
                recheck_seconds=services.settings.live_recheck_seconds,
                rechecks=self.live_sockets.rechecks,
                # A WebSocket's credentials come later, in its connection_init.
                expires_at=None if websocket else token_expiry(context.headers),
            )
        return context

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        await self.live_sockets.authenticate(context)  # or close with the code it raises
        acknowledged: UnsetType = strawberry.UNSET  # an ack without a payload
        return acknowledged

    def context_for(self, request: Request | WebSocket) -> GraphQLContext:
        """The request's context: its headers, services, clock and client address."""
        services: Services = request.app.state.services
        return GraphQLContext(
            headers=dict(request.headers),
            authenticator=services.authenticator,
            repository=services.repository,
            now=services.clock(),
            max_page_size=services.settings.max_page_size,
            address=request.client.host if request.client else None,
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # Without the IDE a browser's GET is an API request like any other, not a 404; a GET
        # naming a persisted query is an API call, whatever its Accept says.
        return (
            self.graphql_ide is not None
            and request.method == "GET"  # a POST never is (asked first: it costs nothing)
            and "extensions" not in request.query_params
            and super().should_render_graphql_ide(request)
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page()

    def encode_json(self, data: object) -> bytes:
        return dumps(data)  # JSON fields hold stored values: written as REST writes them

    def decode_json(self, data: str | bytes) -> object:
        # orjson's error (bad JSON, or bytes that are not UTF-8) is a json.JSONDecodeError.
        return orjson.loads(data)


__all__ = ["GRAPHQL_PATH", "GraphQLView", "error_response"]
