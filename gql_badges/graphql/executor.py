"""The compiled executor: graphql-core's executor, running the root fields from a plan.

Everything graphql-core decides is still decided by graphql-core, through its own functions:

- the variables are coerced as before (the executor is graphql-core's, built by graphql-core);
- the root fields are collected by graphql-core, and the plan (`plan_cache.py`) is found for
  them; without one (introspection, anything else), graphql-core executes as usual;
- the root fields' arguments are coerced by `get_argument_values` and converted by Strawberry's
  `convert_arguments`, then handed to the field's own resolver (`PlannedRoot.fetch`);
- a root field that fails is handled by graphql-core's `handle_field_error` (paths, locations,
  null propagation), and its errors reach `Schema.process_errors` as before;
- a value the plan gives up on is completed by graphql-core's `complete_value`.

    schema = strawberry.Schema(
        query=Query, execution_context_class=compiled_executor(PlanCache(roots))
    )
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLObjectType
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments

from gql_badges.graphql.plan import Plan, RootField
from gql_badges.graphql.plan_cache import PlanCache, PlanStats


def compiled_executor(plans: PlanCache) -> type[StrawberryGraphQLCoreExecutionContext]:
    """A graphql-core executor class that runs the operations it can from `plans`; the class's
    `plan_cache` is `plans`."""

    class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
        plan_cache = plans

        def execute_fields(
            self,
            parent_type: GraphQLObjectType,
            source_value: Any,
            path: Path | None,
            grouped_field_set: GroupedFieldSet,
            position_context: Any,
        ) -> Any:
            if path is not None:  # below the root: graphql-core's, when it runs at all
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            plan = plans.plan(self, parent_type, grouped_field_set)
            if plan is None:
                plans.stats.passed += 1
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            plans.stats.planned += 1
            return _execute_root(self, plans.stats, plan, parent_type, grouped_field_set)

    return CompiledExecutor


def _execute_root(
    executor: Any,
    stats: PlanStats,
    plan: Plan,
    root_type: GraphQLObjectType,
    grouped_field_set: GroupedFieldSet,
) -> Any:
    """The root fields, as graphql-core's `execute_fields` runs them (concurrently, the first
    failure of a non-null field cancelling the others), each from its plan."""
    results: dict[str, Any] = {}
    awaitable_fields: list[str] = []
    try:
        for key, root in plan.fields:
            details = grouped_field_set[key]
            if root is None:
                results[key] = root_type.name
                continue
            path = Path(None, key, root_type.name)
            results[key] = _execute_root_field(executor, stats, root, root_type, details, path)
            if executor.is_awaitable(results[key]):
                awaitable_fields.append(key)
    except Exception:
        if awaitable_fields:
            executor.settle_in_background([results[key] for key in awaitable_fields])
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
    executor: Any,
    stats: PlanStats,
    root: RootField,
    root_type: GraphQLObjectType,
    details: FieldDetailsList,
    path: Path,
) -> Any:
    """graphql-core's `execute_field`, with the resolver's work and the completion planned."""
    field_def = root.field_def
    return_type = field_def.type
    node = details[0].node
    try:
        arguments = (
            get_argument_values(
                field_def, node, executor.variable_values, None, executor.hide_suggestions
            )
            if field_def.args or node.arguments
            else {}
        )
    except Exception as raw_error:
        executor.handle_field_error(raw_error, return_type, details, path)
        return None

    async def resolve_and_complete() -> Any:
        try:
            converted = convert_arguments(
                arguments,
                root.arguments,
                scalar_registry=root.scalar_registry,
                config=root.config,
            )
            result = await root.fetch(
                executor.context_value, root.selection, **{**root.defaults, **converted}
            )
            try:
                return root.complete(result)
            except Exception:  # whatever it was, graphql-core says it exactly
                stats.given_up += 1
            info = executor.build_resolve_info(field_def, to_nodes(details), root_type, path)
            completed = executor.complete_value(return_type, details, info, path, result, None)
            if executor.is_awaitable(completed):
                completed = await completed
            return completed
        except Exception as raw_error:
            executor.handle_field_error(raw_error, return_type, details, path)
            return None

    return resolve_and_complete()


__all__: Sequence[str] = ["compiled_executor"]
