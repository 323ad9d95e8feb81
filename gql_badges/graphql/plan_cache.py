"""The plan cache: compiled plans per (document, operation), in a bounded LRU.

A plan depends on the document and on the values of the variables its directives read
(`@skip(if: $x)` changes which fields are collected), so each operation keeps its plans per
value of those variables, a few at most. Plans are built on first use (`plan.compile_plan`);
a safelist's operations are built at start-up (`precompile`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache
from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
)

from gql_badges.graphql import _internals as internals
from gql_badges.graphql._internals import GroupedFields, Operation
from gql_badges.graphql.plan import (
    Plan,
    PlannedRoot,
    compile_plan,
    directive_variables,
    has_other_directives,
)

if TYPE_CHECKING:
    import strawberry

_MISSING = object()  # a directive variable the request did not give
_PLAN_CACHE_SIZE = 256
_VARIANTS_PER_OPERATION = 16


@dataclass(slots=True)
class PlanStats:
    """What the plans have done, for tests and debugging (not timing)."""

    compiled: int = 0  # plans built
    planned: int = 0  # operations executed from a plan
    passed: int = 0  # operations left to graphql-core (not covered)
    given_up: int = 0  # root fields whose value graphql-core completed instead


@dataclass(slots=True)
class _OperationPlans:
    directive_variables: tuple[str, ...]
    variants: LRUCache[tuple[Any, ...], Plan | None] = field(
        default_factory=lambda: LRUCache(maxsize=_VARIANTS_PER_OPERATION)
    )


class PlanCache:
    """Plans per (document, operation), in a bounded LRU; variants per directive values."""

    def __init__(self, roots: Mapping[str, PlannedRoot], maxsize: int = _PLAN_CACHE_SIZE) -> None:
        self.roots = roots
        self.operations: LRUCache[tuple[str, int], _OperationPlans] = LRUCache(maxsize=maxsize)
        self.stats = PlanStats()
        # The schema the plans are for, once it is built (it is built with the executor that
        # uses this cache): its arguments' conversion is Strawberry's, per schema.
        self.schema: strawberry.Schema | None = None

    def plan(
        self, operation: Operation, root_type: GraphQLObjectType, fields: GroupedFields
    ) -> Plan | None:
        node = operation.operation
        if node.operation is not OperationType.QUERY or node.loc is None or self.schema is None:
            return None
        if operation.has_middleware:
            return None  # an extension wraps every resolver: it must see them all
        key = (node.loc.source.body, node.loc.start)
        plans = self.operations.get(key)
        if plans is None:
            if has_other_directives(operation):
                self.operations[key] = plans = _OperationPlans((), _never())
            else:
                plans = _OperationPlans(directive_variables(operation))
                self.operations[key] = plans
        values = operation.variables
        variant = tuple(values.get(name, _MISSING) for name in plans.directive_variables)
        try:
            return plans.variants[variant]
        except KeyError:
            pass
        plan = compile_plan(operation, self.schema, self.roots, root_type, fields)
        if plan is not None:
            self.stats.compiled += 1
        plans.variants[variant] = plan
        return plan

    def precompile(self, schema: GraphQLSchema, body: str) -> int:
        """Build the plans of `body`'s queries now (a safelist's, at start-up); the number built.

        Only operations whose directives read no variable: the others' plans depend on the
        request's values, and are built by their first request as usual.
        """
        document = parse(body)
        fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
        built = 0
        for node in document.definitions:
            if not isinstance(node, OperationDefinitionNode) or node.loc is None:
                continue
            operation = internals.operation_of_document(schema, node, fragments)
            root_type = schema.query_type
            if node.operation is not OperationType.QUERY or root_type is None:
                continue
            if has_other_directives(operation) or directive_variables(operation):
                continue
            try:
                fields = internals.collect_root_fields(operation, root_type)
            except GraphQLError:
                continue
            if self.plan(operation, root_type, fields) is not None:
                built += 1
        return built


def _never() -> LRUCache[tuple[Any, ...], Plan | None]:
    """Variants of an operation that is never planned: always None."""
    cache: LRUCache[tuple[Any, ...], Plan | None] = LRUCache(maxsize=1)
    cache[()] = None
    return cache


__all__: Sequence[str] = ["PlanCache", "PlanStats"]
