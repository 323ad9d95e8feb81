"""The fence (`gql_badges/graphql/_internals.py`): one contract test per internal it uses.

Each test is named for the graphql-core or Strawberry internal it pins and checks the exact
behaviour the fence relies on, so that a release which changes one fails here, by name, and
not somewhere in the compiled executor's output. The last tests check the version gate: with
releases the fence does not know, compiled execution is off and the gateway still answers.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import inspect
import logging
import subprocess
import sys
import typing
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest
import strawberry
from graphql import (
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    ValidationRule,
    build_schema,
    execute,
    get_variable_values,
    parse,
    specified_rules,
    validate,
)
from graphql.execution import Executor
from graphql.pyutils import Path
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gql_badges.demo.handles import SWATI
from gql_badges.enums import BadgeType
from gql_badges.graphql import _internals as internals
from gql_badges.graphql._internals import (
    KNOWN_VERSIONS,
    NOT_RUN,
    FencedExecutor,
    GroupedFields,
    RootExecution,
)
from gql_badges.graphql.executor import plan_cache
from gql_badges.graphql.resolvers import CustomerInput
from gql_badges.graphql.schema import create_schema
from gql_badges.graphql.view import GraphQLView
from gql_badges.services import Services
from tests.support import asgi_client, graphql

SCHEMA = create_schema()
GRAPHQL_SCHEMA = internals.graphql_schema(SCHEMA)


def _object_type(name: str) -> GraphQLObjectType:
    found = GRAPHQL_SCHEMA.get_type(name)
    assert isinstance(found, GraphQLObjectType)
    return found


QUERY_TYPE = _object_type("Query")
PAGE = f'customerBadges(customer: {{id: "{SWATI.key}"}})'


def _document(text: str) -> tuple[OperationDefinitionNode, list[FragmentDefinitionNode]]:
    document = parse(text)
    (operation,) = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    return operation, fragments


def _operation(text: str) -> internals.Operation:
    operation, fragments = _document(text)
    return internals.operation_of_document(GRAPHQL_SCHEMA, operation, fragments)


# --- Strawberry ---------------------------------------------------------------------------------


def test_schema_underscore_schema_is_the_graphql_core_schema() -> None:
    """`Schema._schema`: the graphql-core schema Strawberry built and executes against."""
    built = vars(SCHEMA).get("_schema")
    assert isinstance(built, GraphQLSchema) and internals.graphql_schema(SCHEMA) is built
    assert built.query_type is not None and built.query_type.name == "Query"


def test_strawberry_adds_its_own_validation_rules() -> None:
    """`MaybeNullValidationRule`, `OneOfInputValidationRule`: what Strawberry's own validation
    adds to the rules, so that an extension validating in its place answers the same."""
    text = '{ customerBadges(customer: {id: "1", email: "a@b"}) { __typename } }'
    rules = internals.strawberry_validation_rules(specified_rules)
    ours = validate(GRAPHQL_SCHEMA, parse(text), rules)
    result = strawberry.Schema(query=_plain_query()).execute_sync(text)  # Strawberry validates
    assert result.errors is not None
    assert [e.message for e in ours] == [e.message for e in result.errors]
    assert ours and "exactly one" in ours[0].message.lower()


def _plain_query() -> type:
    from gql_badges.graphql.resolvers import Query

    return Query


def test_execution_context_keeps_the_provided_operation_name() -> None:
    """`ExecutionContext._provided_operation_name`: the name the request gave, None if none
    (`operation_name` falls back to the document's first operation)."""
    document = "query First { __typename } query Second { __typename }"
    for given in (None, "Second"):
        context = ExecutionContext(
            query=document, schema=SCHEMA, allowed_operations=(), provided_operation_name=given
        )
        context.graphql_document = parse(document)
        assert internals.provided_operation_name(context) == given
    assert context.operation_name == "Second"


def test_definition_backref_leads_to_the_strawberry_field() -> None:
    """`GraphQLCoreConverter.DEFINITION_BACKREF`, `StrawberryField.python_name`,
    `.base_resolver`, `.default_resolver`: a plain field reads its attribute; a field with a
    resolver of its own does not."""
    badge = GRAPHQL_SCHEMA.get_type("Badge")
    assert isinstance(badge, GraphQLObjectType)
    assert internals.attribute_name(badge.fields["badgeMetaId"]) == "badge_meta_id"
    assert internals.attribute_name(QUERY_TYPE.fields["customerBadges"]) is None


def test_type_definition_origin_is_the_python_class() -> None:
    """`StrawberryObjectDefinition.origin` (through the backref): the class `is_type_of` checks."""
    from gql_badges.graphql.types import BadgePage

    page = GRAPHQL_SCHEMA.get_type("BadgePage")
    assert isinstance(page, GraphQLObjectType)
    assert internals.type_origin(page) is BadgePage


def test_strawberry_enum_type_wraps_its_python_enum() -> None:
    """`CustomGraphQLEnumType.wrapped_cls`: the Python enum, whose members serialise to their
    GraphQL names."""
    enum_type = GRAPHQL_SCHEMA.get_type("BadgeType")
    assert isinstance(enum_type, GraphQLEnumType)
    assert internals.enum_class(enum_type) is BadgeType
    for member in BadgeType:
        assert enum_type.serialize(member) == member.name


def test_convert_arguments_with_the_schemas_registry_and_config() -> None:
    """`convert_arguments`, `schema_converter.scalar_registry`, `schema.config`: coerced
    arguments become the resolver's (input objects as their classes, Python names)."""
    field = QUERY_TYPE.fields["customerBadges"]
    convert = internals.argument_converter(SCHEMA, field)
    assert convert is not None
    # As graphql-core coerces them: an input object as a dict; Strawberry's enum types give
    # their members already.
    coerced = {"customer": {"id": "7"}, "badgeType": BadgeType.EARNED, "limit": 10}
    converted = convert(coerced)
    assert isinstance(converted["customer"], CustomerInput) and converted["customer"].id == "7"
    assert converted["badge_type"] is BadgeType.EARNED
    assert converted["limit"] == 10


def _strawberry_converted(schema: strawberry.Schema, field: Any, values: dict[str, Any]) -> Any:
    """What Strawberry's own `convert_arguments` makes of `values` for `field`."""
    from strawberry.types.arguments import convert_arguments

    definition = field.extensions[_BACKREF]
    registry = schema.schema_converter.scalar_registry
    return convert_arguments(values, definition.arguments, registry, schema.config)


_BACKREF = "strawberry-definition"


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"customer": {"id": "7"}},
        {"customer": {"email": "a@b.c"}, "badgeType": BadgeType.EARNED, "limit": 10},
        {"customer": {"mobile": None}, "badgeType": None, "limit": None, "page": 3},
        {"customer": {"externalId": "x", "cardNumber": "9"}, "includeExpired": True},
        {"customer": None, "groupId": "g", "sortOn": None, "unknown": 1},
    ],
)
@pytest.mark.parametrize("field_name", ["customerBadges", "badgeManagement"])
def test_argument_conversion_is_convert_arguments(field_name: str, values: dict[str, Any]) -> None:
    """`strawberry.types.arguments.convert_argument`, `_is_leaf_type`, the type wrappers
    (`StrawberryOptional`, `StrawberryMaybe`, `StrawberryList`), `has_enum_definition`,
    `has_object_definition`, the input definition's `fields`/`from_input`/`is_input` and the
    name converter's `from_argument`/`from_field`: the fence's converter, which works out once
    what `convert_arguments` works out per call, converts the planned fields' arguments as it."""
    field = QUERY_TYPE.fields[field_name]
    convert = internals.argument_converter(SCHEMA, field)
    assert convert is not None
    expected = _strawberry_converted(SCHEMA, field, values)
    converted = convert(values)
    assert converted == expected
    assert list(converted) == list(expected)
    assert [type(v) for v in converted.values()] == [type(v) for v in expected.values()]


@strawberry.enum
class _Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class _Leaf:
    name: str
    colour: _Colour = _Colour.RED
    tags: list[str] = strawberry.field(default_factory=list)
    note: str | None = None
    nothing: str | None = strawberry.UNSET


@strawberry.input
class _Tree:
    leaf: _Leaf | None
    leaves: list[_Leaf] | None = None
    child: _Tree | None = None  # recursive
    maybe: strawberry.Maybe[str]
    maybe_null: strawberry.Maybe[str | None]
    node: strawberry.relay.GlobalID | None = None


@strawberry.type
class _ConversionQuery:
    @strawberry.field
    def every(
        self,
        tree: _Tree | None = None,
        colours: list[_Colour] | None = None,
        leaf: _Leaf | None = None,
        count: int = 1,
        maybe: strawberry.Maybe[int] = None,
        node: strawberry.relay.GlobalID | None = None,
    ) -> int:
        return 0

    @strawberry.field
    def nothing(self) -> int:
        return 0


_CONVERSION = strawberry.Schema(query=_ConversionQuery)
_GLOBAL_ID = str(strawberry.relay.GlobalID("T", "1"))


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"count": 3, "colours": [_Colour.RED, _Colour.BLUE], "maybe": 4},
        {"count": 3, "colours": None, "maybe": None, "node": None},  # Strawberry refuses
        {"count": 3, "colours": None, "node": None},
        {"leaf": {"name": "n"}, "node": _GLOBAL_ID},
        {"leaf": {"name": "n", "colour": _Colour.BLUE, "tags": ["a"], "note": None}},
        {"leaf": None, "tree": None},
        {
            "tree": {
                "leaf": {"name": "a", "nothing": "b"},
                "leaves": [{"name": "b"}, {"name": "c", "tags": []}],
                "child": {"leaf": None, "child": {"leaf": {"name": "d"}, "maybe": "m"}},
                "maybe": "x",
                "maybeNull": None,
                "node": _GLOBAL_ID,
            }
        },
    ],
)
def test_argument_conversion_is_convert_arguments_for_every_kind_of_type(
    values: dict[str, Any],
) -> None:
    """The same, on a schema with the types the planned fields do not use (lists, `Maybe`,
    `GlobalID`, defaults and default factories, a recursive input): converted as Strawberry
    converts them, by Strawberry's own `convert_argument` where the fence does not decide."""
    graphql_schema = internals.graphql_schema(_CONVERSION)
    query_type = graphql_schema.query_type
    assert query_type is not None
    for name in ("every", "nothing"):
        field = query_type.fields[name]
        convert = internals.argument_converter(_CONVERSION, field)
        assert convert is not None
        given = values if name == "every" else {}
        expected = _outcome(functools.partial(_strawberry_converted, _CONVERSION, field, given))
        assert _outcome(functools.partial(convert, given)) == expected


def _outcome(conversion: typing.Callable[[], dict[str, Any]]) -> object:
    """The converted arguments, in order, or the error raised."""
    try:
        return list(conversion().items())
    except Exception as error:  # a null for a `Maybe` that does not allow it
        return (type(error), str(error))


_EVENTS: list[str] = []


class _Recording(SchemaExtension):
    """Every kind of hook Strawberry takes: generators, async generators, plain callables."""

    fail_in: str | None = None  # a step whose hook raises ("parse-before", "validate-after")

    def on_operation(self) -> typing.Iterator[None]:
        _EVENTS.append("operation: enter")
        try:
            yield
        finally:
            _EVENTS.append(f"operation: exit, result {self.execution_context.result is not None}")

    async def on_parse(self) -> typing.AsyncIterator[None]:
        _EVENTS.append("parse: enter")
        if self.fail_in == "parse-before":
            raise ValueError("parse hook failed")
        yield
        _EVENTS.append("parse: exit")

    def on_validate(self) -> typing.Iterator[None]:
        _EVENTS.append("validate: enter")
        yield
        if self.fail_in == "validate-after":
            raise ValueError("validate hook failed")
        _EVENTS.append("validate: exit")

    def on_execute(self) -> None:  # type: ignore[override]  # a plain function: Strawberry wraps it
        _EVENTS.append("execute: called")


class _Second(SchemaExtension):
    async def on_operation(self) -> typing.AsyncIterator[None]:
        _EVENTS.append("second operation: enter")
        try:
            yield
        except Exception as error:
            _EVENTS.append(f"second operation: saw {error}")
            raise
        _EVENTS.append("second operation: exit")

    async def on_execute(self) -> None:  # type: ignore[override]  # a coroutine function, too
        _EVENTS.append("second execute: called")

    def on_validate(self) -> typing.Iterator[None]:
        _EVENTS.append("second validate: enter")
        try:
            yield
        except ValueError as error:
            _EVENTS.append(f"second validate: saw {error}")
            raise


class _OncePerClass(strawberry.Schema):
    def create_extensions_runner(self, execution_context: Any, extensions: Any) -> Any:
        return internals.extensions_runner(execution_context, extensions)


@pytest.mark.parametrize("fail_in", [None, "parse-before", "validate-after"])
@pytest.mark.parametrize("query", ["{ nothing }", "{ nothing(", "{ unknown }"])
async def test_extension_hooks_wrapped_once_per_class_run_as_strawberrys(
    fail_in: str | None, query: str
) -> None:
    """`strawberry.extensions.runner.SchemaExtensionsRunner`, `strawberry.extensions.context`'s
    step managers (`ExtensionContextManagerBase.get_hook`, `HOOK_NAME`, `default_hook`,
    `WrappedHook`) and `Schema.create_extensions_runner`: the fence's runner, which wraps each
    hook once per extension class, runs the hooks of every kind in Strawberry's order, with its
    exceptions, and the result is the same."""

    async def run(schema_class: type[strawberry.Schema]) -> tuple[list[str], object]:
        recording = type("Recording", (_Recording,), {"fail_in": fail_in})
        schema = schema_class(query=_ConversionQuery, extensions=[recording, _Second])
        _EVENTS.clear()
        for _ in range(2):  # the second time, with the hooks already wrapped
            result = await schema.execute(query)
        errors = [(e.message, e.path) for e in result.errors or ()]
        return list(_EVENTS), (result.data, errors)

    assert await run(_OncePerClass) == await run(strawberry.Schema)


def test_the_gateway_schema_wraps_hooks_once_per_class_only_with_known_releases() -> None:
    """With releases the fence does not know, Strawberry's own runner."""
    other = create_schema(library_versions={"strawberry-graphql": "0.1", "graphql-core": "3.3.2"})
    for schema, once_per_class in ((SCHEMA, True), (other, False)):
        context = ExecutionContext("{ a }", schema, allowed_operations=())
        runner = schema.create_extensions_runner(context, [])
        assert isinstance(runner, internals.HooksOncePerClassRunner) is once_per_class


def test_strawberry_execution_context_class_is_graphql_cores_executor() -> None:
    """`StrawberryGraphQLCoreExecutionContext`: a graphql-core `Executor` (built with `build`)
    whose `execute_fields` the fence overrides."""
    assert issubclass(FencedExecutor, Executor)
    assert inspect.signature(Executor.execute_fields).parameters.keys() == {
        "self",
        "parent_type",
        "source_value",
        "path",
        "grouped_field_set",
        "position_context",
    }


# --- graphql-core's field collection ------------------------------------------------------------


def test_collect_fields_groups_by_response_name_in_order() -> None:
    """`graphql.execution.collect_fields.collect_fields` and `FieldDetails`: the root fields by
    response name in document order, fragments and `@skip` applied."""
    operation = _operation(
        "{ b: __typename ...F a: __typename @skip(if: true) } fragment F on Query { c: __typename }"
    )
    fields = internals.collect_root_fields(operation, QUERY_TYPE)
    assert list(fields) == ["b", "c"]
    (details,) = fields["c"]
    assert details.node.name.value == "__typename"
    assert details.defer_usage is None and details.fragment_variable_values is None


def test_collect_subfields_reports_deferred_fields() -> None:
    """`collect_subfields` and `CollectedFields.new_defer_usages`: the fields below a field,
    and None (through the fence) when some are deferred."""
    plain = _operation(f"{{ {PAGE} {{ pagination {{ page }} }} }}")
    page_type = GRAPHQL_SCHEMA.get_type("BadgePage")
    assert isinstance(page_type, GraphQLObjectType)
    group = internals.collect_root_fields(plain, QUERY_TYPE)["customerBadges"]
    collected = internals.collect_subfields(plain, page_type, group)
    assert collected is not None and list(collected) == ["pagination"]
    deferred = _operation(f"{{ {PAGE} {{ ... @defer {{ pagination {{ page }} }} }} }}")
    group = internals.collect_root_fields(deferred, QUERY_TYPE)["customerBadges"]
    assert internals.collect_subfields(deferred, page_type, group) is None


# --- graphql-core's executor --------------------------------------------------------------------


class _Recorder:
    """A root-fields runner that records what the executor offers and uses it as told."""

    def __init__(self, run: Any = None) -> None:
        self.run = run
        self.seen: list[tuple[internals.Operation, GraphQLObjectType, GroupedFields]] = []

    def __call__(
        self, execution: RootExecution, root_type: GraphQLObjectType, fields: GroupedFields
    ) -> Any:
        self.seen.append((execution.operation, root_type, fields))
        return self.run(execution, root_type, fields) if self.run else NOT_RUN


def _fenced(runner: Any) -> strawberry.Schema:
    schema = strawberry.Schema(query=_plain_query(), execution_context_class=FencedExecutor)
    internals.run_root_fields_with(internals.graphql_schema(schema), runner)
    return schema


async def test_execute_fields_is_offered_the_root_fields_once() -> None:
    """`Executor.execute_fields` (overridden): called with `path` None for the root fields,
    with graphql-core's collected fields; `NOT_RUN` leaves them to graphql-core."""
    recorder = _Recorder()
    result = await _fenced(recorder).execute(
        "query Q($t: Boolean!) { a: __typename b: __typename @include(if: $t) } ",
        variable_values={"t": False},
    )
    assert result.errors is None and result.data == {"a": "Query"}
    ((operation, root_type, fields),) = recorder.seen
    assert root_type.name == "Query" and list(fields) == ["a"]
    # `variable_values.coerced`: the coerced values, by name.
    assert dict(operation.variables) == {"t": False}
    assert operation.operation.name is not None and operation.operation.name.value == "Q"
    assert not operation.has_middleware


async def test_fragment_definitions_and_fragments_are_the_documents() -> None:
    """`Executor.fragment_definitions` / `.fragments`: the document's fragments by name."""
    recorder = _Recorder()
    await _fenced(recorder).execute("{ ...F } fragment F on Query { __typename }")
    ((operation, root_type, _),) = recorder.seen
    assert list(operation.fragments) == ["F"]
    assert isinstance(operation.fragments["F"], FragmentDefinitionNode)
    assert internals.collect_root_fields(operation, root_type).keys() == {"__typename"}


def test_middleware_manager_is_set_by_middleware() -> None:
    """`Executor.middleware_manager`: present (with its middlewares) when middleware wraps
    the resolvers, so that a plan never runs past it."""
    recorder = _Recorder()
    schema = internals.graphql_schema(_fenced(recorder))

    def middleware(next_: Any, root: Any, info: Any, **args: Any) -> Any:
        return next_(root, info, **args)

    for given, expected in (([middleware], True), (None, False)):
        execute(
            schema,
            parse("{ __typename }"),
            middleware=given,
            executor_class=FencedExecutor,
        )
        assert recorder.seen[-1][0].has_middleware is expected


async def test_get_argument_values_with_graphql_cores_variables() -> None:
    """`get_argument_values` given `Executor.variable_values` (a `VariableValues`): the
    coerced arguments, defaults included."""
    captured: list[dict[str, Any]] = []

    def run(execution: RootExecution, root_type: GraphQLObjectType, fields: GroupedFields) -> Any:
        group = fields["customerBadges"]
        captured.append(execution.argument_values(root_type.fields["customerBadges"], group))
        return NOT_RUN

    await _fenced(_Recorder(run)).execute(
        'query($n: Int) { customerBadges(customer: {id: "1"}, limit: $n) { __typename } }',
        variable_values={"n": 3},
    )
    (arguments,) = captured
    assert arguments["limit"] == 3 and arguments["page"] == 0
    assert arguments["customer"] == {"id": "1"}


async def test_build_resolve_info_and_complete_value_complete_as_graphql_core() -> None:
    """`Executor.build_resolve_info`, `to_nodes` and `Executor.complete_value`: a value
    completed by graphql-core for a root field, from the fence."""
    from gql_badges.graphql.types import Pagination

    def run(execution: RootExecution, root_type: GraphQLObjectType, fields: GroupedFields) -> Any:
        field_def = QUERY_TYPE.fields["customerBadges"]
        page_type = GRAPHQL_SCHEMA.get_type("BadgePage")
        assert isinstance(page_type, GraphQLObjectType)
        group = fields["customerBadges"]
        page = _page_class()(
            badges=[], pagination=Pagination(page=0, size=0, total=0, total_pages=0)
        )
        path = Path(None, "customerBadges", root_type.name)
        return {"customerBadges": execution.complete_value(field_def, group, root_type, path, page)}

    result = await _fenced(_Recorder(run)).execute(
        '{ customerBadges(customer: {id: "1"}) { __typename pagination { totalPages } } }'
    )
    assert result.errors is None
    assert result.data == {
        "customerBadges": {"__typename": "BadgePage", "pagination": {"totalPages": 0}}
    }


def _page_class() -> type:
    from gql_badges.graphql.types import BadgePage

    return BadgePage


async def test_handle_field_error_locates_the_error_and_nulls_the_field() -> None:
    """`Executor.handle_field_error`: the error gets the field's path and location; a non-null
    field's error propagates to its parent (here: data is null)."""

    def run(execution: RootExecution, root_type: GraphQLObjectType, fields: GroupedFields) -> Any:
        field_def = QUERY_TYPE.fields["customerBadges"]
        path = Path(None, "x", root_type.name)
        execution.handle_field_error(ValueError("boom"), field_def.type, fields["x"], path)
        raise AssertionError("a non-null field's error propagates")

    result = await _fenced(_Recorder(run)).execute(
        '{ x: customerBadges(customer: {id: "1"}) { __typename } }'
    )
    assert result.data is None and result.errors is not None
    (error,) = result.errors
    assert (error.message, error.path) == ("boom", ["x"])
    assert error.locations is not None and error.locations[0].line == 1


async def test_settle_in_background_awaits_pending_siblings() -> None:
    """`Executor.settle_in_background`: the awaitables of other root fields, when one fails
    synchronously, are still run to the end (not left pending)."""
    settled = asyncio.Event()

    async def sibling() -> None:
        settled.set()

    def run(execution: RootExecution, root_type: GraphQLObjectType, fields: GroupedFields) -> Any:
        pending: list[Awaitable[Any]] = [sibling()]
        execution.settle_in_background(pending)
        return {"__typename": "Query"}

    result = await _fenced(_Recorder(run)).execute("{ __typename }")
    assert result.errors is None
    await asyncio.wait_for(settled.wait(), timeout=5)


# --- graphql-core's refusals --------------------------------------------------------------------


def test_validation_aborted_error_too_many_errors() -> None:
    """`graphql.validation.validate.ValidationAbortedError`, appended after `max_errors`
    errors: "maxValidationErrors"."""
    errors = validate(GRAPHQL_SCHEMA, parse("{ a b c }"), max_errors=2)
    assert len(errors) == 3
    assert [internals.validation_abort(e, errors, 2) for e in errors] == [
        None,
        None,
        "maxValidationErrors",
    ]


def test_validation_aborted_error_on_exhausted_work() -> None:
    """`ValidationAbortedError` when validation cannot finish (here: the recursion limit),
    with fewer errors than the cap: "maxValidationWork"."""

    class Bottomless(ValidationRule):
        def enter_field(self, *_: Any) -> None:
            raise RecursionError

    errors = validate(GRAPHQL_SCHEMA, parse("{ __typename }"), [Bottomless], max_errors=100)
    (error,) = errors
    assert internals.validation_abort(error, errors, 100) == "maxValidationWork"
    assert internals.validation_abort(GraphQLError("Validation aborted."), errors, 100) is None


def test_parser_refusals_are_told_apart_by_their_message() -> None:
    """graphql-core's parser limits (`max_tokens`, nesting past the recursion limit): only
    their messages say which, so the fence pins them."""
    for document, max_tokens, limit in (
        ("{ a b c d }", 2, "maxTokens"),
        ("{ a " * 3000 + "}" * 3000, None, "maxDepth"),
        ("{ a ", None, None),
    ):
        with pytest.raises(GraphQLError) as raised:
            parse(document, max_tokens=max_tokens)
        assert internals.parser_limit(raised.value) == limit, document[:20]


def test_nesting_guards_are_told_apart_by_their_message() -> None:
    """graphql-core's guards against variables and selections nested past the recursion limit."""
    from graphql.execution.executor import SELECTIONS_NESTED_TOO_DEEPLY

    schema = build_schema("input I { i: I } type Query { f(i: I): Int }")
    operation, _ = _document("query($i: I) { f(i: $i) }")
    nested: dict[str, Any] = {}
    for _ in range(20_000):
        nested = {"i": nested}
    errors = get_variable_values(schema, operation.variable_definitions or (), {"i": nested})
    assert isinstance(errors, list)
    assert [internals.parser_limit(e) for e in errors] == ["maxDepth"]
    assert internals.parser_limit(GraphQLError(SELECTIONS_NESTED_TOO_DEEPLY)) == "maxDepth"


def test_suggestions_are_a_suffix_of_the_message() -> None:
    """graphql-core appends "Did you mean …?" to a message; without it, the message is the one
    `hide_suggestions` gives."""
    document = parse("{ customerBadge }")
    (shown,) = validate(GRAPHQL_SCHEMA, document)
    (hidden,) = validate(GRAPHQL_SCHEMA, document, hide_suggestions=True)
    assert "Did you mean" in shown.message
    assert internals.without_suggestions(shown.message) == hidden.message


# --- re-exported names ---------------------------------------------------------------------------


async def test_gather_with_cancel_raises_the_first_error_and_cancels_the_rest() -> None:
    """`graphql.pyutils.gather_with_cancel`: results in order; the first error propagates and
    the awaitables still pending are cancelled (not left running)."""
    assert await internals.gather_with_cancel(_value(1), _value(2)) == [1, 2]
    never = asyncio.Event()
    cancelled = asyncio.Event()

    async def pending() -> None:
        try:
            await never.wait()
        finally:
            cancelled.set()

    async def failing() -> None:
        await asyncio.sleep(0)
        raise ValueError("first")

    with pytest.raises(ValueError, match="first"):
        await internals.gather_with_cancel(pending(), failing())
    await asyncio.wait_for(cancelled.wait(), timeout=5)


async def _value(value: int) -> int:
    await asyncio.sleep(0)
    return value


def test_path_is_a_fields_response_path() -> None:
    """`graphql.pyutils.Path`: `Path(prev, key, typename)`, read back with `as_list`."""
    path = internals.Path(None, "customerBadges", "Query").add_key(0, None).add_key("name", "Badge")
    assert path.as_list() == ["customerBadges", 0, "name"]
    assert (path.key, path.typename) == ("name", "Badge")


async def test_pre_execution_error_is_the_result_of_a_document_that_fails_validation() -> None:
    """`strawberry.types.execution.PreExecutionError`: what `Schema.execute` returns for a
    document that fails validation (an `ExecutionResult`, no data), and what the view answers
    its own refusals in."""
    result = await SCHEMA.execute("{ noSuchField }")
    assert isinstance(result, internals.PreExecutionError)
    assert isinstance(result, strawberry.types.ExecutionResult)
    assert result.data is None and result.errors
    ours = internals.PreExecutionError(data=None, errors=[GraphQLError("x")])
    assert isinstance(ours, strawberry.types.ExecutionResult) and ours.errors


async def test_invalid_operation_type_error_names_the_kind_refused() -> None:
    """`strawberry.schema.exceptions.InvalidOperationTypeError` and
    `strawberry.types.graphql.OperationType`: `Schema.execute(allowed_operation_types=...)`
    raises it for another kind, with that kind as `operation_type`."""
    assert {kind.value for kind in internals.OperationType} == {
        "query",
        "mutation",
        "subscription",
    }
    with pytest.raises(internals.InvalidOperationTypeError) as raised:
        await SCHEMA.execute(
            "subscription { __typename }",
            allowed_operation_types={internals.OperationType.QUERY},
        )
    assert raised.value.operation_type is internals.OperationType.SUBSCRIPTION
    result = await SCHEMA.execute(
        "{ __typename }", allowed_operation_types={internals.OperationType.QUERY}
    )
    assert result.data == {"__typename": "Query"}


async def test_cannot_get_operation_type_error_names_the_operation_asked_for() -> None:
    """`strawberry.schema.exceptions.CannotGetOperationTypeError`: raised by `Schema.execute`
    for an operation name the document lacks, with that name as `operation_name`."""
    document = "query A { __typename } query B { __typename }"
    plain = strawberry.Schema(query=_plain_query())  # the gateway's refuses a missing name first
    with pytest.raises(internals.CannotGetOperationTypeError) as raised:
        await plain.execute(document, operation_name="C")
    assert raised.value.operation_name == "C"


async def test_unset_type_is_the_type_of_unset() -> None:
    """`strawberry.types.unset.UnsetType`: the type of `strawberry.UNSET`, which the ASGI view's
    `on_ws_connect` returns for an ack without a payload."""
    from strawberry.asgi import GraphQL

    assert isinstance(strawberry.UNSET, internals.UnsetType)
    assert await GraphQL(SCHEMA).on_ws_connect(None) is strawberry.UNSET


@strawberry.type(name="Item")
class _Item:
    name: str


@strawberry.type(name="Query")
class _ItemsQuery:
    @strawberry.field
    def items(self, info: strawberry.Info[list[Any], None]) -> list[_Item]:
        info.context.extend(info.selected_fields)
        return []


async def test_selected_fields_are_strawberry_nodes() -> None:
    """`strawberry.types.nodes`: `Info.selected_fields` holds a `SelectedField` per field, with
    `FragmentSpread`s and `InlineFragment`s (each a `Selection`) in `selections`."""
    seen: list[Any] = []
    result = await strawberry.Schema(query=_ItemsQuery).execute(
        "{ items { name ...F ... on Item { name } } } fragment F on Item { name }",
        context_value=seen,
    )
    assert result.errors is None
    (field,) = seen
    assert isinstance(field, internals.SelectedField) and field.name == "items"
    kinds = [type(selection) for selection in field.selections]
    assert kinds == [internals.SelectedField, internals.FragmentSpread, internals.InlineFragment]
    for selection in field.selections[1:]:
        assert isinstance(selection, internals.FragmentSpread | internals.InlineFragment)
        (inner,) = selection.selections
        assert isinstance(inner, internals.SelectedField) and inner.name == "name"


def test_asgi_websocket_adapter_is_the_views_adapter() -> None:
    """`strawberry.asgi.ASGIWebSocketAdapter` and `GraphQL.websocket_adapter_class`: the adapter
    the ASGI view builds for a socket (`(view, request, websocket)`, kept as `view` and `ws`),
    whose `iter_json` and `send_json` the live adapter overrides."""
    from strawberry.asgi import GraphQL

    adapter = internals.ASGIWebSocketAdapter
    assert GraphQL.websocket_adapter_class is adapter
    assert list(inspect.signature(adapter.__init__).parameters) == [
        "self",
        "view",
        "request",
        "response",
    ]
    assert list(inspect.signature(adapter.iter_json).parameters) == [
        "self",
        "ignore_parsing_errors",
    ]
    assert list(inspect.signature(adapter.send_json).parameters) == ["self", "message"]
    assert "self.ws = response" in inspect.getsource(adapter.__init__)
    assert "self.view = view" in inspect.getsource(adapter.__mro__[1])
    # What an adapter raises for a binary frame and for a closed socket.
    assert issubclass(internals.NonTextMessageReceived, Exception)
    assert issubclass(internals.WebSocketDisconnected, Exception)


def test_base_graphql_transport_ws_handler_is_the_views_handler() -> None:
    """`BaseGraphQLTransportWSHandler` (`strawberry.subscriptions.protocols.graphql_transport_ws
    .handlers`) and `ConnectionInitMessage`: the ASGI view's graphql-transport-ws handler, whose
    `handle_connection_init(message)` and `shutdown()` the live handler extends, and whose
    `send_message`, `view`, `websocket`, `context`, `connection_acknowledged` it uses."""
    from strawberry.asgi import GraphQL

    handler = internals.BaseGraphQLTransportWSHandler
    default = GraphQL(SCHEMA).graphql_transport_ws_handler_class  # `handler[Context, RootValue]`
    assert (typing.get_origin(default) or default) is handler
    assert list(inspect.signature(handler.handle_connection_init).parameters) == [
        "self",
        "message",
    ]
    assert list(inspect.signature(handler.shutdown).parameters) == ["self"]
    assert list(inspect.signature(handler.send_message).parameters) == ["self", "message"]
    init = inspect.signature(handler.__init__).parameters
    assert {"view", "websocket", "context"} <= init.keys()
    source = inspect.getsource(handler)
    assert "self.connection_acknowledged = True" in source
    assert internals.ConnectionInitMessage.__annotations__.keys() == {"type", "payload"}


# --- the version gate ---------------------------------------------------------------------------


def test_the_fence_knows_the_installed_versions() -> None:
    """Fails after an upgrade: run this module and test_compiled.py, then update KNOWN_VERSIONS."""
    assert internals.installed_versions() == dict(KNOWN_VERSIONS)


def test_unknown_versions_switch_compiled_execution_off_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=internals.__name__):
        assert internals.compiled_execution_allowed(KNOWN_VERSIONS)
        assert not caplog.records
        newer = {**KNOWN_VERSIONS, "strawberry-graphql": "0.999.0"}
        schema = create_schema(library_versions=newer)
    (warning,) = caplog.records
    assert "compiled GraphQL execution is off" in warning.getMessage()
    assert "strawberry-graphql 0.999.0" in warning.getMessage()
    assert schema.execution_context_class is not FencedExecutor
    with pytest.raises(LookupError):
        plan_cache(schema)


@pytest.mark.usefixtures("demo")
async def test_with_unknown_versions_the_gateway_answers_through_graphql_core(
    services: Services, client: httpx.AsyncClient, org_b_auth: dict[str, str]
) -> None:
    """The same answer as the compiled gateway's, with no plan built."""
    schema = create_schema(library_versions={"strawberry-graphql": "1.0", "graphql-core": "4.0"})
    app = Starlette(routes=[Route("/graphql", GraphQLView(schema))])
    app.state.services = services
    query = f"{{ {PAGE} {{ badges {{ name badgeStatus }} pagination {{ total }} }} }}"
    async with asgi_client(app) as gated:
        plain = await graphql(gated, query, org_b_auth)
    compiled = await graphql(client, query, org_b_auth)
    assert "errors" not in plain and plain["data"]["customerBadges"]["badges"]
    assert plain == compiled
    with pytest.raises(LookupError):
        plan_cache(schema)


_WITHOUT_AN_INTERNAL = """
import asyncio, logging
import strawberry.types.arguments
del strawberry.types.arguments.convert_argument  # as if a release had renamed it
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
from gql_badges.graphql.schema import create_schema
schema = create_schema()
result = asyncio.run(schema.execute('{ __typename a: __typename }'))
print(result.data)
"""


@pytest.mark.slow  # a Python process of its own
def test_an_internal_that_is_gone_switches_compiled_execution_off() -> None:
    """A release that moves an internal the fence imports: the gateway still starts, with one
    warning, and executes through graphql-core (in a process of its own: the fence is imported
    once per process)."""
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_AN_INTERNAL], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'__typename': 'Query', 'a': 'Query'}"
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "compiled GraphQL execution is off" in warnings[0], warnings
