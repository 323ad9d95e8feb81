"""Compiled execution: a validated query over this gateway's own root fields, run from a plan.

graphql-core completes a page field by field: for a page of 1,000 badges with every field
selected, about 50,000 resolver calls, each with its own `GraphQLResolveInfo`, path and checks.
The items are plain Strawberry objects whose fields are attributes, so all of that work is
decided by the document alone. A plan does it once per document: for every object type the
document reaches, the fields in response order, each with a getter and a serialiser.

Everything graphql-core decides is still decided by graphql-core, through its own functions:

- the variables are coerced as before (the executor is graphql-core's, built by graphql-core);
- the fields are collected by `collect_fields` / `collect_subfields`, so aliases, fragments,
  inline fragments on the union and the interface and `@skip`/`@include` are its own (a plan
  is kept per value of the variables the directives read);
- the root fields' arguments are coerced by `get_argument_values` and converted by Strawberry's
  `convert_arguments`, then handed to the same function the resolver calls (`fetch`);
- a root field that fails is handled by graphql-core's `handle_field_error` (paths, locations,
  null propagation), and its errors reach `Schema.process_errors` as before.

The plan's completion covers the values it expects (the types' own classes, lists, values a
scalar passes through unchanged); on anything else (a null where the schema says non-null, a
value a scalar refuses, an object of another class) it gives up on that root field and
graphql-core completes the very same resolved value, errors and all. Documents the plan does not
cover (introspection, other root fields, a mutation, middleware) run through graphql-core
unchanged.

    schema = strawberry.Schema(
        query=Query, execution_context_class=compiled_executor(PlanCache(roots))
    )
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from keyword import iskeyword
from types import SimpleNamespace
from typing import Any

from cachetools import LRUCache
from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    parse,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.executor import to_nodes
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments

logger = logging.getLogger(__name__)

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_MISSING = object()  # a directive variable the request did not give
_PLAN_CACHE_SIZE = 256
_VARIANTS_PER_OPERATION = 16

Completer = Callable[[Any], Any]


class _GiveUp(Exception):
    """A value the plan does not complete itself: graphql-core completes it instead."""


class _NotCovered(Exception):
    """A document (or part of it) the plan does not cover: graphql-core executes it."""


@dataclass(frozen=True, slots=True)
class PlannedRoot:
    """A root field a plan may run: how to call its resolver, and what it selects."""

    # (context, selection, **arguments) -> the page object: the field's own resolver, given the
    # plan's selection in place of graphql-core's resolve info (`resolvers.PlannedInfo`).
    fetch: Callable[..., Awaitable[Any]]
    # The page's list of items, whose selected fields decide what is read from the database.
    list_field: str
    # The selected item field names -> the `selection` passed to `fetch`.
    select: Callable[[frozenset[str]], Any]


@dataclass(slots=True)
class PlanStats:
    """What the plans have done, for tests and debugging (not timing)."""

    compiled: int = 0  # plans built
    planned: int = 0  # operations executed from a plan
    passed: int = 0  # operations left to graphql-core (not covered)
    given_up: int = 0  # root fields whose value graphql-core completed instead


@dataclass(frozen=True, slots=True)
class _RootField:
    field_def: GraphQLField
    arguments: Any  # Strawberry's arguments of the field, for `convert_arguments`
    scalar_registry: Any
    config: Any
    defaults: Mapping[str, Any]  # the resolver's own defaults, for arguments left out
    fetch: Callable[..., Awaitable[Any]]
    selection: Any
    complete: Completer


@dataclass(frozen=True, slots=True)
class Plan:
    """One operation, for one set of values of its directives' variables."""

    # Per response name in order: the root field, or None for `__typename`.
    fields: tuple[tuple[str, _RootField | None], ...]


@dataclass(slots=True)
class _OperationPlans:
    directive_variables: tuple[str, ...]
    variants: LRUCache[tuple[Any, ...], Plan | None] = field(
        default_factory=lambda: LRUCache(maxsize=_VARIANTS_PER_OPERATION)
    )


def _directive_variables(executor: Any) -> tuple[str, ...]:
    """The variables read by the directives of the operation and its fragments."""
    names: dict[str, None] = {}

    def directives(node: Any) -> None:
        for directive in node.directives or ():
            for argument in directive.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names[argument.value.name.value] = None

    def walk(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            directives(selection)
            if isinstance(selection, FieldNode | InlineFragmentNode):
                walk(selection.selection_set)

    walk(executor.operation.selection_set)
    for fragment in executor.fragment_definitions.values():
        directives(fragment)
        walk(fragment.selection_set)
    return tuple(names)


def _has_other_directives(executor: Any) -> bool:
    """True when the document uses a directive other than @skip and @include (e.g. @defer)."""

    def found(node: Any) -> bool:
        return any(
            directive.name.value not in ("skip", "include")
            for directive in node.directives or ()
            if isinstance(directive, DirectiveNode)
        )

    def walk(selection_set: SelectionSetNode | None) -> bool:
        for selection in selection_set.selections if selection_set else ():
            if found(selection):
                return True
            if isinstance(selection, FieldNode | InlineFragmentNode) and walk(
                selection.selection_set
            ):
                return True
            if isinstance(selection, FragmentSpreadNode) and selection.arguments:
                return True  # fragment arguments (experimental): not planned
        return False

    fragments = executor.fragment_definitions.values()
    return (
        found(executor.operation)
        or walk(executor.operation.selection_set)
        or any(found(f) or walk(f.selection_set) for f in fragments)
    )


class _Compiler:
    """Builds the completers of one operation, collecting fields as graphql-core does."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def collect(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> GroupedFieldSet:
        executor = self.executor
        collected = collect_subfields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            object_type,
            details,
            executor.hide_suggestions,
        )
        if collected.new_defer_usages:
            raise _NotCovered
        return collected.grouped_field_set

    def value(
        self, type_: GraphQLOutputType, details: FieldDetailsList, non_null: bool = False
    ) -> Completer:
        """The completer of `type_`; with `non_null`, one that gives up on a null."""
        if is_non_null_type(type_):
            return self.value(type_.of_type, details, non_null=True)
        if is_list_type(type_):
            item = self.value(type_.of_type, details)

            def complete_list(value: Any) -> Any:
                if type(value) is not list:
                    if value is None and not non_null:
                        return None
                    raise _GiveUp
                return [item(entry) for entry in value]

            return complete_list
        if is_leaf_type(type_):
            return _leaf(type_, non_null)
        if is_abstract_type(type_):
            by_class = {
                _origin(possible): self.object(possible, details, non_null)
                for possible in self.executor.schema.get_possible_types(type_)
            }

            def complete_abstract(value: Any) -> Any:
                complete = by_class.get(type(value))
                if complete is None:
                    if value is None and not non_null:
                        return None
                    raise _GiveUp
                return complete(value)

            return complete_abstract
        if is_object_type(type_):
            return self.object(type_, details, non_null)
        raise _NotCovered

    def object(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, non_null: bool = False
    ) -> Completer:
        """A completer for `object_type`, written as one Python function: an attribute read
        and, for a leaf, its pass-through check inline per field, then one dict display."""
        namespace: dict[str, Any] = {"_GiveUp": _GiveUp}
        lines = []
        keys = []
        for index, (key, sub) in enumerate(self.collect(object_type, details).items()):
            name = sub[0].node.name.value
            if name == "__typename":
                keys.append(f"{key!r}: {object_type.name!r}")
                continue
            field_def = object_type.fields.get(name)
            definition = field_def.extensions.get(_BACKREF) if field_def else None
            if (
                field_def is None
                or definition is None
                or definition.base_resolver is not None
                or definition.default_resolver is not getattr
                or not getattr(field_def.resolve, "_is_default", False)
                or not definition.python_name.isidentifier()
                or iskeyword(definition.python_name)
            ):
                raise _NotCovered  # a field with a resolver of its own
            read = f"value.{definition.python_name}"
            type_ = field_def.type
            non_null = is_non_null_type(type_)
            inner = type_.of_type if non_null else type_
            if is_leaf_type(inner):
                passed, coerce = _leaf_parts(inner)
                namespace[f"P{index}"], namespace[f"C{index}"] = passed, coerce
                lines.append(f"    v = {read}")
                if non_null:
                    lines.append("    if v is None: raise _GiveUp")
                    lines.append(f"    r{index} = v if type(v) is P{index} else C{index}(v)")
                else:
                    lines.append(
                        f"    r{index} = v if v is None or type(v) is P{index} else C{index}(v)"
                    )
            else:
                namespace[f"C{index}"] = self.value(type_, sub)
                lines.append(f"    r{index} = C{index}({read})")
            keys.append(f"{key!r}: r{index}")
        on_null = "raise _GiveUp" if non_null else "return None"
        head = ["def complete(value):", f"    if value is None: {on_null}"]
        if object_type.is_type_of is not None:
            # graphql-core asks `is_type_of`; Strawberry's is an isinstance check of its class.
            namespace["CLS"] = _origin(object_type)
            head.append("    if type(value) is not CLS: raise _GiveUp")
        source = "\n".join([*head, *lines, "    return {" + ", ".join(keys) + "}"])
        exec(compile(source, f"<plan {object_type.name}>", "exec"), namespace)
        complete: Callable[[Any], Any] = namespace["complete"]
        return complete


def _origin(object_type: GraphQLObjectType) -> type:
    definition = object_type.extensions.get(_BACKREF)
    origin = getattr(definition, "origin", None)
    if not isinstance(origin, type):
        raise _NotCovered
    return origin


class _Never:
    """No value is of this class: a leaf with nothing passed through unchanged."""


# The class of values each built-in scalar returns unchanged (its coercion is the identity).
_PASSED_THROUGH: dict[GraphQLScalarType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}


def _leaf_parts(type_: GraphQLScalarType | GraphQLEnumType) -> tuple[type, Completer]:
    """The class passed through unchanged, and the exact coercion of any other non-null value."""
    coerce_output = type_.coerce_output_value

    def coerce(value: Any) -> Any:
        # graphql-core raises a resolved exception, and refuses a null coercion: its words.
        if value is Undefined or isinstance(value, Exception):
            raise _GiveUp
        coerced = coerce_output(value)
        if coerced is None or coerced is Undefined:
            raise _GiveUp
        return coerced

    if type_ is GraphQLInt:

        def coerce_int(value: Any) -> Any:
            if type(value) is int and _INT_MIN <= value <= _INT_MAX:
                return value
            return coerce(value)

        return _Never, coerce_int
    members = getattr(type_, "wrapped_cls", None)  # Strawberry's enums take their members
    if (
        isinstance(type_, GraphQLEnumType)
        and isinstance(members, type)
        and issubclass(members, Enum)
    ):
        names = {member: coerce(member) for member in members}

        def coerce_member(value: Any) -> Any:
            if type(value) is members:
                return names[value]
            return coerce(value)

        return _Never, coerce_member
    if isinstance(type_, GraphQLScalarType):
        return _PASSED_THROUGH.get(type_, _Never), coerce
    return _Never, coerce


def _leaf(type_: GraphQLScalarType | GraphQLEnumType, non_null: bool) -> Completer:
    passed, coerce = _leaf_parts(type_)

    def complete_leaf(value: Any) -> Any:
        if type(value) is passed:
            return value
        if value is None:
            if non_null:
                raise _GiveUp
            return None
        return coerce(value)

    return complete_leaf


def _resolver_defaults(definition: Any) -> dict[str, Any]:
    """The resolver's own defaults, used by Python when an argument is not passed."""
    signature = inspect.signature(definition.base_resolver.wrapped_func)
    return {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


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
            if _has_other_directives(executor):
                self.operations[key] = plans = _OperationPlans((), _never())
            else:
                plans = _OperationPlans(_directive_variables(executor))
                self.operations[key] = plans
        coerced = executor.variable_values.coerced
        variant = tuple(coerced.get(name, _MISSING) for name in plans.directive_variables)
        try:
            return plans.variants[variant]
        except KeyError:
            pass
        plan = self._compile(executor, root_type, fields)
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
            if _has_other_directives(executor) or _directive_variables(executor):
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

    def _compile(
        self, executor: Any, root_type: GraphQLObjectType, fields: GroupedFieldSet
    ) -> Plan | None:
        planned: list[tuple[str, _RootField | None]] = []
        strawberry_schema = executor.schema._strawberry_schema
        try:
            for key, details in fields.items():
                if any(d.defer_usage or d.fragment_variable_values for d in details):
                    return None
                name = details[0].node.name.value
                if name == "__typename":
                    planned.append((key, None))
                    continue
                root = self.roots.get(name)
                field_def = root_type.fields.get(name)
                definition = field_def.extensions.get(_BACKREF) if field_def else None
                if root is None or field_def is None or definition is None:
                    return None
                compiler = _Compiler(executor)
                complete = compiler.value(field_def.type, details)
                planned.append(
                    (
                        key,
                        _RootField(
                            field_def=field_def,
                            arguments=definition.arguments,
                            scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                            config=strawberry_schema.config,
                            defaults=_resolver_defaults(definition),
                            fetch=root.fetch,
                            selection=root.select(_item_fields(compiler, field_def, details, root)),
                            complete=complete,
                        ),
                    )
                )
        except _NotCovered:
            return None
        except Exception:  # e.g. a directive's argument that does not coerce (a null `if`)
            # graphql-core raises it where it collects those fields, as a field error there.
            logger.debug("not planned: collecting the fields failed", exc_info=True)
            return None
        self.stats.compiled += 1
        return Plan(tuple(planned))


def _never() -> LRUCache[tuple[Any, ...], Plan | None]:
    """Variants of an operation that is never planned: always None."""
    cache: LRUCache[tuple[Any, ...], Plan | None] = LRUCache(maxsize=1)
    cache[()] = None
    return cache


def _item_fields(
    compiler: _Compiler, field_def: GraphQLField, details: FieldDetailsList, root: PlannedRoot
) -> frozenset[str]:
    """The fields selected on the page's items, under every alias of the list."""
    page_type = _named_object(field_def.type)
    names: set[str] = set()
    for sub in compiler.collect(page_type, details).values():
        if sub[0].node.name.value != root.list_field:
            continue
        item_type = _named_object(page_type.fields[root.list_field].type)
        names.update(s[0].node.name.value for s in compiler.collect(item_type, sub).values())
    return frozenset(names)


def _named_object(type_: Any) -> GraphQLObjectType:
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    if not is_object_type(type_):
        raise _NotCovered
    return type_


def plan_cache(schema: Any) -> PlanCache:
    """The plans of a schema made with `compiled_executor` (its stats, for tests and tools)."""
    cache = getattr(schema.execution_context_class, "plan_cache", None)
    if not isinstance(cache, PlanCache):
        raise LookupError("this schema executes without plans")
    return cache


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
    root: _RootField,
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


__all__: Sequence[str] = ["PlanCache", "PlanStats", "PlannedRoot", "compiled_executor"]
