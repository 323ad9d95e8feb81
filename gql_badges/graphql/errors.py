"""How the schema answers errors: codes for graphql-core's own refusals and for input that did
not coerce, allowed values for a bad enum, nothing of the schema when introspection is off, and
a logged `INTERNAL_SERVER_ERROR` with a request id for anything unexpected."""

from __future__ import annotations

import logging
import re

import strawberry
from graphql import GraphQLEnumType, GraphQLError
from strawberry.types import ExecutionContext

from gql_badges.errors import INTERNAL_ERROR_MESSAGE, QUERY_TOO_COMPLEX, GatewayError
from gql_badges.observability import context as observed
from gql_badges.observability.graphql import errors_seen

logger = logging.getLogger(__name__)

# graphql-core's own guards, which say only what happened: named like our limits instead.
_GRAPHQL_CORE_REFUSALS = {
    "Validation aborted.": "maxValidationWork",
    "Too many validation errors, error limit reached. Validation aborted.": "maxValidationErrors",
    "Maximum introspection depth exceeded": "maxIntrospectionDepth",
}
_SUGGESTION = re.compile(r" ?Did you mean .*$", re.DOTALL)
# graphql-core's words for a value outside an enum, in a literal or in a variable.
_BAD_ENUM = re.compile(r"in '(\w+)' enum|Enum '(\w+)' cannot represent")


class GatewaySchema(strawberry.Schema):
    suggestions: bool = True  # off with introspection: errors name nothing of the schema

    def _enum_details(self, error: GraphQLError) -> None:
        """A bad enum value also lists the allowed ones (graphql-core suggests only the closest)."""
        match = _BAD_ENUM.search(error.message)
        enum = self._schema.get_type(match.group(1) or match.group(2)) if match else None
        if isinstance(enum, GraphQLEnumType):
            allowed = "allowed values: " + ", ".join(enum.values)
            error.extensions = {**(error.extensions or {}), "details": allowed}

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected failures (bad input, not found, auth) are answers: logged without traceback."""
        for error in errors:
            self._classify(error)
            if self.suggestions:
                self._enum_details(error)
            else:
                error.message = _SUGGESTION.sub("", error.message)
        errors_seen(errors)  # metrics and the access log, once the codes are final

    def _classify(self, error: GraphQLError) -> None:
        original = error.original_error
        if original is None:
            limit = _GRAPHQL_CORE_REFUSALS.get(error.message)
            if limit is None and "tokens. Parsing aborted" in error.message:
                limit = "maxTokens"  # graphql-core's token limit
            if limit is None and "nested too deeply" in error.message:
                limit = "maxDepth"  # graphql-core's parser, before any of our limits
            if limit is not None:
                error.extensions = {"code": QUERY_TOO_COMPLEX, "limit": limit}
            logger.debug("GraphQL error: %s", error.message)
            return
        if isinstance(original, GatewayError):
            logger.debug("GraphQL error: %s", error.message)
            return
        if isinstance(original, RecursionError):  # nesting deeper than the parser can follow
            error.message = "Query refused: the document nests too deeply"
            error.extensions = {"code": QUERY_TOO_COMPLEX, "limit": "maxDepth"}
            return
        if error.path is None:  # raised before execution: a variable that did not coerce
            error.extensions = (error.extensions or {}) | {
                "code": "BAD_USER_INPUT",
                "capillaryCode": 400,
            }
            logger.debug("GraphQL input error: %s", error.message)
            return
        # Unexpected: the details go to the log only, under an id the caller can quote.
        request_id = observed.request_id()
        logger.error("unexpected error (request %s)", request_id, exc_info=original)
        error.message = INTERNAL_ERROR_MESSAGE
        error.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
