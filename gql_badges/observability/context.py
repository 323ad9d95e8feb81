"""What one request has done so far, reachable from anywhere below the middleware.

The request's record lives in a context variable: the MongoDB command listener (which motor
calls from its worker threads, in a copy of the caller's context), the GraphQL extension and
the error mappers add to it; the middleware writes the access line and the metrics from it.
Outside a request (start-up, the CLI) there is no record and every hook does nothing.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gql_badges.errors import Forbidden, GatewayError, RateLimited, Unauthenticated

if TYPE_CHECKING:
    from gql_badges.observability.metrics import Metrics
    from gql_badges.observability.tracing import Tracing


# An inbound X-Request-Id is kept only when it is this: no spaces, quotes or control characters
# can reach a log line or a header through it.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


@dataclass(slots=True)
class RequestRecord:
    method: str
    headers: list[tuple[bytes, bytes]]
    path: str = ""
    metrics: Metrics | None = None
    tracing: Tracing | None = None
    trace_id: str | None = None
    org_id: int | None = None
    operation: str | None = None
    graphql_outcome: str | None = None
    limit: str | None = None  # the limit that refused the request, if one did
    # One entry per MongoDB command, its duration in seconds. Appending is atomic, which
    # matters because motor reports commands from its worker threads, two at a time when the
    # repository runs its queries side by side.
    db_durations: list[float] = field(default_factory=list)
    _request_id: str | None = None
    _auth_counted: bool = False
    _limit_counted: bool = False

    @property
    def request_id(self) -> str:
        """The id the `X-Request-Id` header, an error answer and the log lines share: the
        caller's own `X-Request-Id` when it is well formed (a proxy's or a frontend's id then
        finds this request), else the trace id when tracing is on, else a random one."""
        if self._request_id is None:
            inbound = self.header(b"x-request-id")
            if inbound is not None and _REQUEST_ID.fullmatch(inbound):
                self._request_id = inbound.decode("ascii")
            else:
                self._request_id = self.trace_id or os.urandom(8).hex()
        return self._request_id

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


TOKEN_PATH = "/oauth/token/generate"
_current: ContextVar[RequestRecord | None] = ContextVar("gql_badges_request", default=None)


def current() -> RequestRecord | None:
    return _current.get()


def request_id() -> str:
    """The current request's id, or a fresh one outside a request."""
    record = _current.get()
    return record.request_id if record is not None else os.urandom(8).hex()


def caller_known(org_id: int) -> None:
    record = _current.get()
    if record is not None:
        record.org_id = org_id


def _auth_scheme(record: RequestRecord) -> str:
    if record.path.endswith(TOKEN_PATH):
        return "client_secret"  # an OAuth client's key and secret, exchanged for a token
    if record.header(b"x-cap-api-oauth-token") is not None:
        return "oauth"
    authorization = (record.header(b"authorization") or b"").strip().lower()
    if authorization.startswith(b"basic"):
        return "basic"
    if authorization.startswith(b"bearer"):
        return "bearer"
    return "none"


def gateway_error(error: GatewayError) -> None:
    """Count an expected failure where it is mapped to an answer (REST handler, GraphQL)."""
    record = _current.get()
    if record is None:
        return
    if isinstance(error, RateLimited):
        record.limit = error.limit
    if record.metrics is None:
        return
    # GraphQL asks for the caller once per root field: count a request's failure once.
    if isinstance(error, Unauthenticated | Forbidden) and not record._auth_counted:
        record._auth_counted = True
        reason = error.reason if isinstance(error, Unauthenticated) else "inactive_client"
        record.metrics.auth_failures.labels(_auth_scheme(record), reason).inc()
    elif isinstance(error, RateLimited) and not record._limit_counted:
        record._limit_counted = True
        record.metrics.rate_limited.inc()
        if error.limit.startswith("login_"):  # a login refused before its secret was checked
            record.metrics.auth_failures.labels(_auth_scheme(record), "throttled").inc()


def query_refused(limit: str) -> None:
    record = _current.get()
    if record is not None:
        record.limit = limit
        if record.metrics is not None:
            record.metrics.query_refused.labels(limit).inc()


def limiter_fallback() -> None:
    record = _current.get()
    if record is not None and record.metrics is not None:
        record.metrics.limiter_fallbacks.inc()


def _set(record: RequestRecord) -> Token[RequestRecord | None]:
    return _current.set(record)


def _reset(token: Token[RequestRecord | None]) -> None:
    _current.reset(token)
