"""A document with several operations must name the one to run (GraphQL's GetOperation()).

Strawberry runs the first operation when no `operationName` is given; the GraphQL
specification makes that a request error, and running an operation the client did not choose
is worse than refusing. The schema's document guard (`limits.GuardedValidation`) asks just
before execution, in the hook it already runs there (a hook of its own would cost every
request an extension's set-up):

    refused = operation_name_refusal(execution_context)
    if refused is not None:
        execution_context.result = refused  # answers instead
"""

from __future__ import annotations

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.types import ExecutionContext, ExecutionResult

from gql_badges.graphql._internals import provided_operation_name

OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
MESSAGE = "`operationName` is required unless the document holds exactly one operation"


def operation_name_refusal(context: ExecutionContext) -> ExecutionResult | None:
    """The answer to a request that names no operation of a document holding several, unless
    something has answered already; None when the operation to run is known."""
    document = context.graphql_document
    # The name the request gave (`operation_name` falls back to the first operation's).
    provided = provided_operation_name(context)
    if document is None or provided is not None or context.result is not None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) <= 1:
        return None
    error = GraphQLError(MESSAGE, extensions={"code": OPERATION_RESOLUTION_FAILURE})
    return ExecutionResult(data=None, errors=[error])


__all__ = ["MESSAGE", "OPERATION_RESOLUTION_FAILURE", "operation_name_refusal"]
