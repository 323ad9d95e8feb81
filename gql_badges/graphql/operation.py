"""A document with several operations must name the one to run (GraphQL's GetOperation()).

Strawberry runs the first operation when no `operationName` is given; the GraphQL
specification makes that a request error, and running an operation the client did not choose
is worse than refusing. Registered as a schema extension:

    strawberry.Schema(query=Query, extensions=[OperationNameRequired])
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from gql_badges.graphql._internals import provided_operation_name

OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
MESSAGE = "`operationName` is required unless the document holds exactly one operation"


class OperationNameRequired(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # The name the request gave (`operation_name` falls back to the first operation's).
        provided = provided_operation_name(context)
        if document is not None and provided is None and context.result is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(MESSAGE, extensions={"code": OPERATION_RESOLUTION_FAILURE})
                context.result = ExecutionResult(data=None, errors=[error])  # answers instead
        yield


__all__ = ["OPERATION_RESOLUTION_FAILURE", "OperationNameRequired"]
