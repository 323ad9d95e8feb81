"""The OpenAPI 3.1 document of the REST side, built from the same parameter tables it parses.

Served at `GET /openapi.json`; the fuzz tests generate requests from it and check every
response against it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gql_badges import __version__
from gql_badges.badges.items import Endpoint, ItemField, Kind, rest_fields
from gql_badges.badges.request import MAX_PAGE_SIZE
from gql_badges.enums import IdentifierType
from gql_badges.http.responses import JSONBody
from gql_badges.rest.params import (
    CUSTOMER_IDENTIFIER_HEADER,
    CUSTOMER_PARAMS,
    MANAGEMENT_PARAMS,
    Param,
)
from gql_badges.rest.routes import CUSTOMER_PATH, MANAGEMENT_PATH

Schema = dict[str, Any]


def _nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


_INSTANT = _nullable("number", description="Epoch seconds (UTC); fractions are milliseconds.")
_ISO = _nullable("string", format="date-time", description="The same instant, ISO 8601 UTC.")
_OBJECTS = {"type": "array", "items": {"type": "object"}}
_OWNERSHIP = _nullable(
    "object",
    properties={
        "restrictedToOwners": {"type": "array", "items": {"type": "string"}},
        "claims": _OBJECTS,
    },
)
_IMAGES = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "name": _nullable("string"),
            "fileSvcHandle": _nullable("string"),
            "url": _nullable("string"),
            "tag": _nullable("string"),
        },
    },
}
# The shapes of the stored sub-documents and JSON fields, which REST passes through as stored.
_SHAPES: dict[str, Schema] = {
    "images": _IMAGES,
    "ownership": _OWNERSHIP,
    "tags": _nullable("array"),
    "customFields": _nullable("object"),
}
_SCALARS = {Kind.INT: "integer", Kind.TEXT: "string", Kind.BOOL: "boolean"}


def _field_schema(field: ItemField) -> Schema:
    """The schema of a non-instant item field, from its kind."""
    schema: Schema
    if field.name in _SHAPES:
        schema = _SHAPES[field.name]
    elif field.kind is Kind.ID:
        schema = {"type": "string", "pattern": "^[0-9a-f]{24}$"}
    elif field.kind is Kind.ENUM and field.enum is not None and not field.nullable:
        # Computed by the gateway, so always a member; a stored value passes through as stored.
        schema = {"type": "string", "enum": [member.value for member in field.enum]}
    elif field.kind is Kind.LIST:
        schema = _OBJECTS
    elif field.kind is Kind.OBJECT:
        schema = {"type": "object"}
    else:
        schema = {"type": _SCALARS.get(field.kind, "string")}
    if field.nullable and field.name not in _SHAPES:
        schema = {**schema, "type": [schema["type"], "null"]}
    if field.description is not None:
        schema = {**schema, "description": field.description}
    return schema


def _item_schema(endpoint: Endpoint) -> Schema:
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for field in rest_fields(endpoint):
        if field.kind is Kind.INSTANT:
            keys = {field.name: _INSTANT, field.name + "ISO": _ISO}
        else:
            keys = {field.name: _field_schema(field)}
        properties |= keys
        if not field.only_when_earned:
            required += keys
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_PAGINATION = {
    "type": "object",
    "properties": {
        "page": {"type": "integer"},
        "size": {"type": "integer", "description": "Items on this page."},
        "total": {"type": "integer"},
        "totalPages": {"type": "integer"},
    },
    "required": ["page", "size", "total", "totalPages"],
}
_MESSAGE = {
    "type": "object",
    "properties": {
        "code": {"type": ["integer", "null"]},
        "message": {"type": "string"},
        "reference": {"type": ["string", "null"]},
        "details": {
            "type": "string",
            "description": "How to put the error right (absent when there is nothing to add).",
        },
    },
    "required": ["code", "message", "reference"],
}
_MESSAGES = {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}


def _page_envelope(list_name: str, item: str) -> Schema:
    data = {
        "type": "object",
        "properties": {
            list_name: {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "pagination": {"$ref": "#/components/schemas/Pagination"},
        },
        "required": [list_name, "pagination"],
    }
    return {
        "type": "object",
        "properties": {"data": data, "errors": _MESSAGES, "warnings": _MESSAGES},
        "required": ["data", "errors", "warnings"],
    }


_ERROR_ENVELOPE = {
    "type": "object",
    "properties": {"data": {"type": "null"}, "errors": _MESSAGES, "warnings": _MESSAGES},
    "required": ["data", "errors", "warnings"],
}


def _param_schema(param: Param, max_page_size: int) -> Schema:
    if param.enum is not None:
        return {"type": "string", "enum": [member.value for member in param.enum]}
    match param.kind:
        case "integer":
            schema: Schema = {"type": "integer"}
            if param.minimum is not None:
                schema["minimum"] = param.minimum
            if param.page_size:
                schema["maximum"] = max_page_size
            return schema
        case "boolean":
            return {"type": "boolean"}
        case "date-time":
            return {"type": "string", "format": "date-time"}
        case "object-id":
            return {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}
    return {"type": "string"}


def _error(description: str, **headers: str) -> Schema:
    response: Schema = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


_ERRORS = {
    "400": _error("A bad parameter value (code 400) or identifier type (code 1028)."),
    "401": _error("No or wrong credentials.", **{"WWW-Authenticate": "The accepted schemes."}),
    "403": _error("The API client is inactive (code 4000)."),
    "404": _error("No such customer in the caller's org (code 1026)."),
    "429": _error("The client is over its rate limit.", **{"Retry-After": "Seconds to wait."}),
    "503": _error("The database is unreachable or too slow."),
}


def _operation(
    summary: str,
    params: tuple[Param, ...],
    list_name: str,
    item: str,
    operation_id: str,
    max_page_size: int,
) -> Schema:
    identifiers = [kind.value for kind in IdentifierType if kind is not IdentifierType.ID]
    parameters: list[Schema] = [
        {
            "name": "customerId",
            "in": "path",
            "required": True,
            "description": "The numeric customerId, or the identifier the header names.",
            "schema": {"type": "string", "minLength": 1},
            "example": "62090013",
        },
        {
            "name": CUSTOMER_IDENTIFIER_HEADER,
            "in": "header",
            "required": False,
            "description": "How to read {customerId}; any case.",
            "schema": {"type": "string", "enum": identifiers},
        },
    ]
    parameters += [
        {
            "name": param.name,
            "in": "query",
            "required": False,
            "description": param.description,
            "schema": _param_schema(param, max_page_size),
        }
        for param in params
    ]
    ok = {"application/json": {"schema": _page_envelope(list_name, item)}}
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": parameters,
            "responses": {"200": {"description": "A page of badges.", "content": ok}, **_ERRORS},
        }
    }


_TOKEN_REQUEST = {
    "type": "object",
    "properties": {"key": {"type": "string"}, "secret": {"type": "string"}},
    "required": ["key", "secret"],
}
_TOKEN_RESPONSE = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "properties": {
                "accessToken": {"type": "string"},
                "ttlSeconds": {"type": "integer"},
            },
            "required": ["accessToken", "ttlSeconds"],
        },
        "errors": _MESSAGES,
        "warnings": _MESSAGES,
    },
    "required": ["data", "errors", "warnings"],
}


@cache
def openapi_document(max_page_size: int = MAX_PAGE_SIZE) -> Schema:
    token_errors = {code: _ERRORS[code] for code in ("400", "401", "403", "429", "503")}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "gql-badges REST shim",
            "version": __version__,
            "description": "The two legacy badge URIs and OAuth token generation.",
        },
        "security": [{"basic": []}, {"bearer": []}, {"oauthToken": []}],
        "paths": {
            CUSTOMER_PATH: _operation(
                "Badges of a customer.",
                CUSTOMER_PARAMS,
                "badges",
                "Badge",
                "customerBadges",
                max_page_size,
            ),
            MANAGEMENT_PATH: _operation(
                "Badges of a customer, with management filters.",
                MANAGEMENT_PARAMS,
                "customerBadges",
                "CustomerBadge",
                "badgeManagement",
                max_page_size,
            ),
            "/v3/oauth/token/generate": {
                "post": {
                    "operationId": "generateToken",
                    "summary": "A 300-second HS256 token for an OAuth client's key and secret.",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _TOKEN_REQUEST}},
                    },
                    "responses": {
                        "200": {
                            "description": "The token.",
                            "content": {"application/json": {"schema": _TOKEN_RESPONSE}},
                        },
                        **token_errors,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "username:md5hex(password), base64-encoded.",
                },
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "oauthToken": {"type": "apiKey", "in": "header", "name": "X-CAP-API-OAUTH-TOKEN"},
            },
            "schemas": {
                "Badge": _item_schema(Endpoint.CUSTOMER),
                "CustomerBadge": _item_schema(Endpoint.MANAGEMENT),
                "Pagination": _PAGINATION,
                "Message": _MESSAGE,
                "Error": _ERROR_ENVELOPE,
            },
        },
    }


async def openapi(request: Request) -> Response:
    """GET /openapi.json: the two URIs and the token endpoint, with this gateway's page limit."""
    return JSONBody(openapi_document(request.app.state.services.settings.max_page_size))
