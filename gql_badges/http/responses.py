"""JSON responses of the REST side: the legacy envelope, and errors mapped to it exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from gql_badges.errors import INTERNAL_ERROR_MESSAGE, GatewayError, response_headers
from gql_badges.stored_json import dumps

WarningEntry = dict[str, Any]


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)  # stored values passed through in their JSON form


def envelope(data: Any, warnings: list[WarningEntry] | None = None) -> JSONBody:
    return JSONBody({"data": data, "errors": [], "warnings": warnings or []})


def error_envelope(
    code: int | None,
    message: str,
    reference: str | None,
    status: int,
    headers: Mapping[str, str] | None = None,
    details: str | None = None,
) -> JSONBody:
    """The legacy error envelope: one error, no data; `details` (how to fix it) when known."""
    error = {"code": code, "message": message, "reference": reference}
    if details is not None:
        error["details"] = details
    body = {"data": None, "errors": [error], "warnings": []}
    return JSONBody(body, status_code=status, headers=headers)


def error_response(error: GatewayError) -> JSONBody:
    return error_envelope(
        error.capillary_code,
        error.message,
        error.reference,
        error.http_status,
        response_headers(error),
        error.details,
    )


def internal_error_response(request_id: str) -> JSONBody:
    """An unexpected failure: no details, only an id that finds them in the log."""
    return error_envelope(500, INTERNAL_ERROR_MESSAGE, request_id, 500)
