"""The plan cache: compiled plans per (document, operation), in a bounded LRU.

A plan depends on the document and on the values of the variables its directives read
(`@skip(if: $x)` changes which fields are collected), so each operation keeps its plans per
value of those variables, a few at most. Plans are built on first use (`plan.compile_plan`);
a safelist's operations are built at start-up (`precompile`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

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
from graphql.execution.collect_fields import FragmentDetails, GroupedFieldSet, collect_fields
from graphql.execution.values import VariableValues

from gql_badges.graphql.plan import (
    Plan,
    PlannedRoot,
    compile_plan,
    directive_variables,
    has_other_directives,
)

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

    def plan(
        self, executor: Any, root_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> Plan | None:
        operation = executor.operation
        if operation.operation is not OperationType.QUERY or operation.loc is None:
            return None
        if executor.middleware_manager is not None and executor.middleware_manager.middlewares:
            return None  # an extension wraps every resolver: it must see them all
        key = (operation.loc.source.body, operation.loc.start)
        plans = self.operations.get(key)
        if plans is None:
            if has_other_directives(executor):
                self.operations[key] = plans = _OperationPlans((), _never())
            else:
                plans = _OperationPlans(directive_variables(executor))
                self.operations[key] = plans
        coerced = executor.variable_values.coerced
        variant = tuple(coerced.get(name, _MISSING) for name in plans.directive_variables)
        try:
            return plans.variants[variant]
        except KeyError:
            pass
        plan = compile_plan(executor, self.roots, root_type, fields)
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
        fragments = {
            d.name.value: FragmentDetails(d)
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        built = 0
        for operation in document.definitions:
            if not isinstance(operation, OperationDefinitionNode) or operation.loc is None:
                continue
            # What the compiler reads of an executor; no variables, since none is read here.
            executor = SimpleNamespace(
                schema=schema,
                operation=operation,
                fragments=fragments,
                fragment_definitions={name: f.definition for name, f in fragments.items()},
                variable_values=VariableValues({}, {}),
                hide_suggestions=False,
                middleware_manager=None,
            )
            root_type = schema.query_type
            if operation.operation is not OperationType.QUERY or root_type is None:
                continue
            if has_other_directives(executor) or directive_variables(executor):
                continue
            try:
                fields = collect_fields(
                    schema, fragments, executor.variable_values, root_type, operation
                ).grouped_field_set
            except GraphQLError:
                continue
            if self.plan(executor, root_type, fields) is not None:
                built += 1
        return built


def _never() -> LRUCache[tuple[Any, ...], Plan | None]:
    """Variants of an operation that is never planned: always None."""
    cache: LRUCache[tuple[Any, ...], Plan | None] = LRUCache(maxsize=1)
    cache[()] = None
    return cache


def plan_cache(schema: Any) -> PlanCache:
    """The plans of a schema made with `compiled_executor` (its stats, for tests and tools)."""
    cache = getattr(schema.execution_context_class, "plan_cache", None)
    if not isinstance(cache, PlanCache):
        raise LookupError("this schema executes without plans")
    return cache


__all__: Sequence[str] = ["PlanCache", "PlanStats", "plan_cache"]
