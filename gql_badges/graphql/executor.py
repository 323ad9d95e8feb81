"""The compiled executor: graphql-core's executor, running the root fields from a plan.

Everything graphql-core decides is still decided by graphql-core, through its own functions
(reached through the fence, `_internals.py`):

- the variables are coerced as before (the executor is graphql-core's, built by graphql-core);
- the root fields are collected by graphql-core, and their plan is looked up
  (`plan_cache.py`); without one (introspection, anything else), graphql-core executes them;
- the root fields' arguments are coerced by `get_argument_values` and converted by Strawberry,
  then handed to the field's own resolver (`PlannedRoot.fetch`);
- a root field that fails is handled by graphql-core's `handle_field_error` (paths, locations,
  null propagation), and its errors reach `Schema.process_errors` as before;
- a value the plan gives up on is completed by graphql-core's `complete_value`.

    schema = strawberry.Schema(query=Query, execution_context_class=execution_context())
    run_compiled(schema, PlanCache(roots))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import Executor, GraphQLObjectType

from gql_badges.graphql import _internals as internals
from gql_badges.graphql._internals import (
    FieldGroup,
    GroupedFields,
    Path,
    RootExecution,
    gather_with_cancel,
)
from gql_badges.graphql.plan import Plan, RootField
from gql_badges.graphql.plan_cache import PlanCache, PlanStats

if TYPE_CHECKING:
    import strawberry


def execution_context() -> type[Executor[Any]]:
    """The executor class a schema that runs plans is built with (`run_compiled` gives it the
    plans); only when `_internals.compiled_execution_allowed()`."""
    return internals.fenced_executor()


class CompiledRootFields:
    """Runs an operation's root fields from its plan, or leaves them to graphql-core."""

    def __init__(self, plans: PlanCache) -> None:
        self.plans = plans

    def __call__(
        self, execution: RootExecution, root_type: GraphQLObjectType, fields: GroupedFields
    ) -> Any:
        plans = self.plans
        plan = plans.plan(execution.operation, root_type, fields)
        if plan is None:
            plans.stats.passed += 1
            return internals.NOT_RUN
        plans.stats.planned += 1
        return _execute_root(execution, plans.stats, plan, root_type, fields)


def run_compiled(schema: strawberry.Schema, plans: PlanCache) -> None:
    """Have `schema` (built with `execution_context()`) run the queries it can from `plans`."""
    plans.schema = schema
    internals.run_root_fields_with(internals.graphql_schema(schema), CompiledRootFields(plans))


def plan_cache(schema: strawberry.Schema) -> PlanCache:
    """The plans of a schema given to `run_compiled` (their stats, for tests and tools)."""
    runner = internals.root_fields_runner(internals.graphql_schema(schema))
    if not isinstance(runner, CompiledRootFields):
        raise LookupError("this schema executes without plans")
    return runner.plans


def _execute_root(
    execution: RootExecution,
    stats: PlanStats,
    plan: Plan,
    root_type: GraphQLObjectType,
    fields: GroupedFields,
) -> Any:
    """The root fields, as graphql-core's `execute_fields` runs them (concurrently, the first
    failure of a non-null field cancelling the others), each from its plan."""
    results: dict[str, Any] = {}
    awaitable_fields: list[str] = []
    try:
        for key, root in plan.fields:
            details = fields[key]
            if root is None:
                results[key] = root_type.name
                continue
            path = Path(None, key, root_type.name)
            results[key] = _execute_root_field(execution, stats, root, root_type, details, path)
            if execution.is_awaitable(results[key]):
                awaitable_fields.append(key)
    except Exception:
        if awaitable_fields:
            execution.settle_in_background([results[key] for key in awaitable_fields])
        raise
    if not awaitable_fields:
        return results

    async def get_results() -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            key = awaitable_fields[0]
            results[key] = await results[key]
        else:
            awaited = await gather_with_cancel(*(results[key] for key in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
        return results

    return get_results()


def _execute_root_field(
    execution: RootExecution,
    stats: PlanStats,
    root: RootField,
    root_type: GraphQLObjectType,
    details: FieldGroup,
    path: Path,
) -> Any:
    """graphql-core's `execute_field`, with the resolver's work and the completion planned."""
    field_def = root.field_def
    return_type = field_def.type
    try:
        arguments = execution.argument_values(field_def, details)
    except Exception as raw_error:
        execution.handle_field_error(raw_error, return_type, details, path)
        return None

    async def resolve_and_complete() -> Any:
        try:
            converted = root.convert(arguments)
            result = await root.fetch(execution.context_value, root.selection, **converted)
            try:
                return root.complete(result)
            except Exception:  # whatever it was, graphql-core says it exactly
                stats.given_up += 1
            completed = execution.complete_value(field_def, details, root_type, path, result)
            if execution.is_awaitable(completed):
                completed = await completed
            return completed
        except Exception as raw_error:
            execution.handle_field_error(raw_error, return_type, details, path)
            return None

    return resolve_and_complete()


__all__: Sequence[str] = ["CompiledRootFields", "execution_context", "plan_cache", "run_compiled"]
