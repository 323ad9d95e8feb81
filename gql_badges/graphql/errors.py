"""How the schema answers errors: codes for graphql-core's own refusals and for input that did
not coerce, allowed values for a bad enum, nothing of the schema when introspection is off, and
a logged `INTERNAL_SERVER_ERROR` with a request id for anything unexpected."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    VariableDefinitionNode,
    get_named_type,
    type_from_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gql_badges.errors import INTERNAL_ERROR_MESSAGE, QUERY_TOO_COMPLEX, GatewayError
from gql_badges.graphql._internals import (
    extensions_runner,
    graphql_schema,
    parser_limit,
    without_suggestions,
)
from gql_badges.graphql.rules import add_enum_details
from gql_badges.observability import context as observed
from gql_badges.observability.graphql import errors_seen

logger = logging.getLogger(__name__)


class GatewaySchema(strawberry.Schema):
    suggestions: bool = True  # off with introspection: errors name nothing of the schema
    # Whether the extensions' hooks are wrapped once per extension class (`_internals.py`):
    # only with the releases the fence knows; otherwise Strawberry's runner, which wraps them
    # on every request.
    hooks_once_per_class: bool = False

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> Any:
        if self.hooks_once_per_class:
            return extensions_runner(execution_context, extensions)
        return super().create_extensions_runner(execution_context, extensions)

    def _enum_details(self, error: GraphQLError, variables: dict[str, Any] | None) -> None:
        """A variable that is not a value of its enum also lists the allowed ones (graphql-core
        suggests only the closest). Literals get theirs during validation (`rules.py`)."""
        node = error.nodes[0] if error.nodes else None
        if error.path is not None or not isinstance(node, VariableDefinitionNode):
            return
        if (variables or {}).get(node.variable.name.value) is None:
            return  # a null for a non-null enum: no value to list the allowed ones against
        enum = get_named_type(type_from_ast(graphql_schema(self), node.type))
        if isinstance(enum, GraphQLEnumType):
            add_enum_details(error, enum)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected failures (bad input, not found, auth) are answers: logged without traceback."""
        variables = execution_context.variables if execution_context is not None else None
        for error in errors:
            self._classify(error)
            if self.suggestions:
                self._enum_details(error, variables)
            else:
                error.message = without_suggestions(error.message)
        errors_seen(errors)  # metrics and the access log, once the codes are final

    def _classify(self, error: GraphQLError) -> None:
        original = error.original_error
        if original is None:
            # graphql-core's parser limits, before any of ours; its validation's own guards are
            # named where validation runs (`limits.GuardedValidation`).
            limit = parser_limit(error)
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
