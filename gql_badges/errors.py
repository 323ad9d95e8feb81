"""The failures a caller can act on, each carrying how it is reported over HTTP and GraphQL.

They are raised anywhere below the edges and mapped to a response exactly once: by the REST
routes and by the GraphQL schema.
"""

from __future__ import annotations

from typing import Any, ClassVar

INTERNAL_ERROR_MESSAGE = "Internal server error"
# The GraphQL code of a document refused for its size or shape (`graphql.limits`); the
# metrics count these refusals by the limit they hit.
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


class GatewayError(Exception):
    """Base of every expected failure; never carries internals, only what the caller may see."""

    http_status: ClassVar[int] = 500
    capillary_code: ClassVar[int] = 500
    graphql_code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    default_message: ClassVar[str] = INTERNAL_ERROR_MESSAGE

    def __init__(
        self,
        message: str | None = None,
        *,
        reference: str | None = None,
        details: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.reference = reference
        # How to put it right. Legacy callers match on `message`, so that keeps its documented
        # wording and the hint travels beside it (REST `details`, GraphQL `extensions.details`).
        self.details = details
        super().__init__(self.message)

    @property
    def extensions(self) -> dict[str, Any]:
        """What graphql-core copies into the error's `extensions`."""
        extensions: dict[str, Any] = {
            "code": self.graphql_code,
            "capillaryCode": self.capillary_code,
        }
        if self.reference is not None:
            extensions["reference"] = self.reference
        if self.details is not None:
            extensions["details"] = self.details
        return extensions


class CustomerNotFound(GatewayError):
    http_status = 404
    capillary_code = 1026
    graphql_code = "CUSTOMER_NOT_FOUND"
    default_message = "Customer with the specified ID is not found"


class InvalidIdentifierType(GatewayError):
    http_status = 400
    capillary_code = 1028
    graphql_code = "BAD_USER_INPUT"
    default_message = "Invalid Customer Identifier type"


class InvalidParameter(GatewayError):
    """A bad number, boolean, date, ObjectId, or a value out of range."""

    http_status = 400
    capillary_code = 400
    graphql_code = "BAD_USER_INPUT"
    default_message = "Invalid value"


class InvalidEnumValue(InvalidParameter):
    default_message = "Invalid enum value"


class Unauthenticated(GatewayError):
    http_status = 401
    capillary_code = 401
    graphql_code = "UNAUTHENTICATED"
    default_message = "Unauthorized"

    def __init__(
        self, message: str | None = None, *, details: str | None = None, reason: str = "malformed"
    ) -> None:
        super().__init__(message, details=details)
        # For the metrics only (`missing`, `malformed`, `wrong_secret`, `unknown_client`,
        # `invalid_token`): never sent, since it would tell which usernames exist.
        self.reason = reason


class Forbidden(GatewayError):
    http_status = 403
    capillary_code = 4000
    graphql_code = "FORBIDDEN"
    default_message = "Not authorized. Access is denied!"


class RateLimited(GatewayError):
    http_status = 429
    capillary_code = 429
    graphql_code = "RATE_LIMITED"
    default_message = "Too many requests"

    def __init__(
        self, retry_after_seconds: int, message: str | None = None, *, limit: str = "client_rate"
    ) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        # Which limit refused: `client_rate`, or a login limit (`login_address`,
        # `login_username_address`, `login_username`); for the access log and the metrics.
        self.limit = limit

    @property
    def extensions(self) -> dict[str, Any]:
        return super().extensions | {"retryAfterSeconds": self.retry_after_seconds}


class DatabaseUnavailable(GatewayError):
    """Unreachable, too slow, or mid-failover: the same request may succeed a little later."""

    http_status = 503
    capillary_code = 503
    graphql_code = "SERVICE_UNAVAILABLE"
    default_message = "Service unavailable"

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    @property
    def extensions(self) -> dict[str, Any]:
        return super().extensions | {"retryAfterSeconds": self.retry_after_seconds}


def response_headers(error: GatewayError) -> dict[str, str]:
    """The HTTP headers an error's answer carries, on either API."""
    headers = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Basic realm="gql-badges", Bearer'
    if isinstance(error, RateLimited | DatabaseUnavailable):
        headers["Retry-After"] = str(error.retry_after_seconds)
    return headers


class ValueOutOfRange(GatewayError):
    """A stored integer the field's GraphQL type cannot carry (Int is 32-bit): that field is
    null with this error, the rest of the item is served. REST writes such a number as stored."""

    http_status = 500  # never answered over REST, which has no such limit
    capillary_code = 500
    graphql_code = "VALUE_OUT_OF_RANGE"

    def __init__(self, field: str) -> None:
        super().__init__(f"The stored value of {field} is outside the range of Int (32-bit)")

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.graphql_code}  # no legacy code: REST never answers it


class StoredValueInvalid(GatewayError):
    """A stored value not of its GraphQL field's type (a number in a String field, a string in
    a DateTime field, an image that is not an object): that field is null with this error, the
    rest of the item is served. REST writes such a value as stored."""

    http_status = 500  # never answered over REST, which passes stored values through
    capillary_code = 500
    graphql_code = "STORED_VALUE_INVALID"

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(f"The stored value of {field} is not {expected}")

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.graphql_code}  # no legacy code: REST never answers it
