"""The fence: every use of what graphql-core and Strawberry do not publish, in this one module.

Compiled execution (`plan.py`, `plan_cache.py`, `executor.py`) runs the root fields of a query
with graphql-core's own executor, field collection and error handling, and Strawberry's own
argument conversion (worked out once per field): none of that is public API. A few other
modules need one thing each that neither library publishes (the graphql-core schema behind a
Strawberry schema, Strawberry's validation rules, the `operationName` a request gave, which
limit a graphql-core refusal hit, an extension runner that wraps each hook once per extension
class instead of once per request). Everything of that kind is here, typed through the
`Protocol`s below; the names that have no public home but are needed as they are (classes to
subclass or test for, the view's operation kinds and errors) are re-exported, listed at the
end. So:

- the rest of the package imports only the libraries' public names, and this module
  (`tests/graphql/test_fence.py` checks every module for it);
- `tests/graphql/test_internals.py` checks, one test per internal, the exact behaviour
  relied on; when a release changes one, the failing test names it;
- `KNOWN_VERSIONS` are the releases the fence was written and tested against. With other
  installed versions, `compiled_execution_allowed` says no (with one warning) and the schema
  is built without the compiled executor: every request goes through graphql-core, which is
  public API, and the gateway answers the same. The other helpers here degrade to a public
  path where one exists (`graphql_schema` rebuilds the schema from its SDL) or to doing nothing
  (`provided_operation_name`).

Moving to a new release: install it, run `tests/graphql/test_internals.py` and
`tests/graphql/test_compiled.py`, fix what they name, then update `KNOWN_VERSIONS`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass
from enum import Enum
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from graphql import (
    ASTValidationRule,
    Executor,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    build_schema,
    get_argument_values,
)

# Below, names that neither library publishes, which the rest of the package imports from here
# (see "Re-exported" at the end; `is_default_resolver` is public). Unlike the executor's
# internals further down, these are not optional: the view, the item selection and the
# WebSocket transport (which subclasses Strawberry's graphql-transport-ws handler and WebSocket
# adapter) have no public way around them. A release that moves one fails here, at import, and
# its contract test in tests/graphql/test_internals.py names it.
from graphql.pyutils import Path, gather_with_cancel
from strawberry import UNSET, LazyType
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonTextMessageReceived, WebSocketDisconnected
from strawberry.relay import GlobalID
from strawberry.resolvers import is_default_resolver
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection
from strawberry.types.unset import UnsetType

# The internals themselves. Should a release move one, nothing here may stop the gateway from
# starting: compiled execution is then off (`compiled_execution_allowed` says why) and the
# other helpers fall back to doing less.
try:
    from graphql.execution import collect_fields as _collect
    from graphql.execution.executor import to_nodes
    from graphql.execution.values import VariableValues
    from graphql.validation.validate import ValidationAbortedError
    from strawberry.extensions.context import (
        ExecutingContextManager,
        ExtensionContextManagerBase,
        OperationContextManager,
        ParsingContextManager,
        ValidationContextManager,
        WrappedHook,
    )
    from strawberry.extensions.runner import SchemaExtensionsRunner
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
    from strawberry.schema.schema_converter import GraphQLCoreConverter
    from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
    from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
    from strawberry.types.arguments import _is_leaf_type, convert_argument
    from strawberry.types.base import (
        StrawberryList,
        StrawberryMaybe,
        StrawberryOptional,
        has_object_definition,
    )
    from strawberry.types.enum import has_enum_definition

    # Where Strawberry keeps its own definition of a graphql-core type, field or schema.
    _BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
    # The rules Strawberry adds to graphql-core's when it validates a document itself.
    _STRAWBERRY_RULES: tuple[type[ASTValidationRule], ...] = (
        MaybeNullValidationRule,
        OneOfInputValidationRule,
    )
    _LOAD_ERROR: Exception | None = None
except (ImportError, AttributeError) as error:
    _LOAD_ERROR = error
    _BACKREF = "strawberry-definition"
    _STRAWBERRY_RULES = ()

if TYPE_CHECKING:
    import strawberry
    from strawberry.types import ExecutionContext as StrawberryExecutionContext

logger = logging.getLogger(__name__)

# The releases this module was written against and its contract tests pass on.
KNOWN_VERSIONS: Mapping[str, str] = {"strawberry-graphql": "0.341.2", "graphql-core": "3.3.2"}


# --- versions -------------------------------------------------------------------------------


def installed_versions() -> dict[str, str]:
    """The installed releases of the libraries the fence knows ("" for one not installed)."""
    versions = {}
    for name in KNOWN_VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def _unknown_versions(installed: Mapping[str, str] | None) -> dict[str, str]:
    versions = dict(installed) if installed is not None else installed_versions()
    return {
        name: versions.get(name, "")
        for name, known in KNOWN_VERSIONS.items()
        if versions.get(name) != known
    }


def internals_usable(installed: Mapping[str, str] | None = None) -> bool:
    """Whether the internals here may be used: every one was found, and the installed
    releases (or `installed`, for tests) are the ones the fence knows. Says nothing (the
    warning is `compiled_execution_allowed`'s)."""
    return _LOAD_ERROR is None and not _unknown_versions(installed)


def compiled_execution_allowed(installed: Mapping[str, str] | None = None) -> bool:
    """True when the installed releases (or `installed`, for tests) are the ones the fence
    knows; otherwise False, after one warning that compiled execution is off."""
    if _LOAD_ERROR is not None:
        logger.warning(
            "compiled GraphQL execution is off: an internal of graphql-core or Strawberry it "
            "uses is gone (%s); every query runs through graphql-core",
            _LOAD_ERROR,
        )
        return False
    unknown = _unknown_versions(installed)
    if not unknown:
        return True
    found = ", ".join(f"{name} {version or '(none)'}" for name, version in unknown.items())
    expected = ", ".join(f"{name} {version}" for name, version in KNOWN_VERSIONS.items())
    logger.warning(
        "compiled GraphQL execution is off: installed %s, written against %s; every query "
        "runs through graphql-core (the same answers, slower)",
        found,
        expected,
    )
    return False


# --- Strawberry's schema ----------------------------------------------------------------------


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (Strawberry has no public accessor for it).

    Should Strawberry stop keeping it in `_schema`, one built from the SDL (the same types and
    names; no resolvers, enough to validate and measure documents against).
    """
    built = getattr(schema, "_schema", None)
    if isinstance(built, GraphQLSchema):
        return built
    return _schema_from_sdl(schema.as_str())


@functools.lru_cache(maxsize=4)
def _schema_from_sdl(sdl: str) -> GraphQLSchema:
    return build_schema(sdl)


def strawberry_validation_rules(
    rules: Sequence[type[ASTValidationRule]],
) -> tuple[type[ASTValidationRule], ...]:
    """`rules` with the two Strawberry adds when it validates a document itself (`@oneOf`
    inputs, `Maybe` arguments): an extension that validates in its place must add them too."""
    return (*rules, *_STRAWBERRY_RULES)


def provided_operation_name(context: StrawberryExecutionContext) -> str | None:
    """The `operationName` the request gave; `operation_name` falls back to the document's
    first operation. Where Strawberry no longer keeps it, "" (a name was given: nothing is
    refused for want of one)."""
    provided = getattr(context, "_provided_operation_name", "")
    return provided if provided is None or isinstance(provided, str) else ""


# --- Strawberry's extension runner -------------------------------------------------------------
#
# For each step of each request (operation, parsing, validation, execution), Strawberry's runner
# looks at every extension's class for the step's hook and wraps the hook it finds with
# `contextlib.contextmanager` (or `asynccontextmanager`), bound to the request's instance: a
# decorator applied, with `functools.wraps`, a dozen times per request to the same few functions.
# The runner below asks each extension class once per step and keeps the wrapped function; per
# request it only binds it to the instance (`wrapped(extension)` makes the same context manager
# over the same generator as `contextmanager(MethodType(hook, extension))()` does). Entering and
# leaving the hooks, in order, with Strawberry's exit stacks, is Strawberry's own code.

_NO_HOOK = "none"
_OTHER_HOOK = "other"  # a plain callable (or not callable): Strawberry's own `get_hook` decides
_HookFactory = tuple[Callable[[Any], Any], bool] | str  # (wrapped hook, is async), or the above


def _hook_factory(extension_class: type, name: str, default: object) -> _HookFactory:
    hook = getattr(extension_class, name)
    if hook is default:
        return _NO_HOOK
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    return _OTHER_HOOK


if _LOAD_ERROR is None:

    class _HooksOncePerClass(ExtensionContextManagerBase):
        """Strawberry's `get_hook`, with its work on the extension's class done once."""

        __slots__ = ()
        _factories: ClassVar[dict[type, _HookFactory]]

        def get_hook(self, extension: Any) -> WrappedHook | None:
            extension_class = type(extension)
            known = self._factories.get(extension_class)
            if known is None:
                known = _hook_factory(extension_class, self.HOOK_NAME, self.default_hook)
                self._factories[extension_class] = known
            if known == _NO_HOOK:
                return None
            if isinstance(known, str):
                return super().get_hook(extension)
            wrapped, is_async = known
            return WrappedHook(extension, functools.partial(wrapped, extension), is_async)

    class _Operation(_HooksOncePerClass, OperationContextManager):
        __slots__ = ()
        _factories: ClassVar[dict[type, _HookFactory]] = {}  # one per step

    class _Parsing(_HooksOncePerClass, ParsingContextManager):
        __slots__ = ()
        _factories: ClassVar[dict[type, _HookFactory]] = {}

    class _Validation(_HooksOncePerClass, ValidationContextManager):
        __slots__ = ()
        _factories: ClassVar[dict[type, _HookFactory]] = {}

    class _Executing(_HooksOncePerClass, ExecutingContextManager):
        __slots__ = ()
        _factories: ClassVar[dict[type, _HookFactory]] = {}

    class HooksOncePerClassRunner(SchemaExtensionsRunner):
        """Strawberry's `SchemaExtensionsRunner`, whose steps wrap each hook once per extension
        class (subscriptions' per-result hooks are left to Strawberry's own)."""

        def operation(self) -> OperationContextManager:
            return _Operation(self.extensions)

        def parsing(self) -> ParsingContextManager:
            return _Parsing(self.extensions)

        def validation(self) -> ValidationContextManager:
            return _Validation(self.extensions)

        def executing(self) -> ExecutingContextManager:
            return _Executing(self.extensions)


def extensions_runner(
    execution_context: StrawberryExecutionContext, extensions: list[Any]
) -> SchemaExtensionsRunner:
    """The runner `Schema.create_extensions_runner` returns, with every hook wrapped once per
    extension class (only when `internals_usable()`)."""
    return HooksOncePerClassRunner(execution_context=execution_context, extensions=extensions)


# --- graphql-core's refusals ------------------------------------------------------------------

# graphql-core tells these limits apart only by their message: the parser's (each a
# GraphQLSyntaxError), and its guards against input nested past the interpreter's recursion.
_PARSER_LIMITS = (
    (re.compile(r"^Document contains more than \d+ tokens\. Parsing aborted\.$"), "maxTokens"),
    (re.compile(r"^Document is nested too deeply\. Parsing aborted\.$"), "maxDepth"),
)
_NESTING_GUARDS = (
    "Variable values are nested too deeply.",
    "Selections are nested too deeply. Execution aborted.",
)
# Appended to messages that suggest names of the schema ("Did you mean 'EARN'?").
_SUGGESTION = re.compile(r" ?Did you mean .*$", re.DOTALL)


def parser_limit(error: GraphQLError) -> str | None:
    """The limit an error is graphql-core's refusal of, before validation or as a guard
    against deep nesting ("maxTokens", "maxDepth"); None for any other error."""
    if error.message in _NESTING_GUARDS:
        return "maxDepth"
    if not isinstance(error, GraphQLSyntaxError):
        return None
    # A syntax error's message is "Syntax Error: " and the description.
    description = error.message.removeprefix("Syntax Error: ")
    for pattern, limit in _PARSER_LIMITS:
        if pattern.match(description):
            return limit
    return None


def validation_abort(
    error: GraphQLError, errors: Sequence[GraphQLError], max_errors: int
) -> str | None:
    """The guard an error of `validate(…, max_errors=max_errors)` (which returned `errors`) is:
    "maxValidationErrors" (too many errors), "maxValidationWork" (its work budget, or the
    recursion limit), or None for a rule's own error."""
    if _LOAD_ERROR is not None or not isinstance(error, ValidationAbortedError):
        return None
    return "maxValidationErrors" if len(errors) > max_errors else "maxValidationWork"


def without_suggestions(message: str) -> str:
    """`message` without graphql-core's "Did you mean …" suggestion."""
    return _SUGGESTION.sub("", message)


# --- Strawberry's definitions behind graphql-core's types -------------------------------------


class _FieldDefinition(Protocol):
    """What the fence reads of Strawberry's `StrawberryField`."""

    python_name: str
    base_resolver: object | None
    default_resolver: Callable[[Any, str], object]
    arguments: list[Any]  # Strawberry's `StrawberryArgument`s, for `convert_arguments`


class _TypeDefinition(Protocol):
    """What the fence reads of Strawberry's object type definition."""

    origin: type


class _StrawberryEnumType(Protocol):
    """Strawberry's subclass of `GraphQLEnumType`, which serialises its Python enum's members."""

    wrapped_cls: type


def _field_definition(field_def: GraphQLField) -> _FieldDefinition | None:
    definition = (field_def.extensions or {}).get(_BACKREF)
    return cast("_FieldDefinition", definition) if definition is not None else None


def attribute_name(field_def: GraphQLField) -> str | None:
    """The Python attribute a field reads, when it resolves as a plain attribute read (no
    resolver, extension or custom default resolver of its own); None otherwise."""
    definition = _field_definition(field_def)
    if (
        definition is None
        or field_def.resolve is None
        or definition.base_resolver is not None
        or definition.default_resolver is not getattr
        or not is_default_resolver(field_def.resolve)
    ):
        return None
    return definition.python_name


def type_origin(object_type: GraphQLObjectType) -> type | None:
    """The Python class behind a Strawberry object type (the class its `is_type_of` checks)."""
    definition = object_type.extensions.get(_BACKREF) if object_type.extensions else None
    origin = getattr(cast("_TypeDefinition | None", definition), "origin", None)
    return origin if isinstance(origin, type) else None


def enum_class(enum_type: GraphQLEnumType) -> type[Enum] | None:
    """The Python enum whose members a Strawberry enum type serialises (to their names)."""
    members = getattr(cast("_StrawberryEnumType", enum_type), "wrapped_cls", None)
    return members if isinstance(members, type) and issubclass(members, Enum) else None


ArgumentConverter = Callable[[dict[str, Any]], dict[str, Any]]
# How one coerced value becomes the resolver's; None: it is passed as it is.
_ValueConverter = Callable[[Any], Any] | None


def argument_converter(
    schema: strawberry.Schema, field_def: GraphQLField
) -> ArgumentConverter | None:
    """Strawberry's conversion of a field's coerced arguments into its resolver's (input
    objects as their classes, enums as members), as Strawberry's `convert_arguments` does
    before calling it.

    What `convert_arguments` works out on every call from the field's types (the GraphQL name
    of each argument and input field, what each type needs) is worked out here once: a leaf
    (scalar or enum) is passed as it is, an input object is built from its fields' converted
    values; any other type (lists, `Maybe`, `GlobalID`, lazy types, inputs that build
    themselves, recursive inputs) is converted by Strawberry's `convert_argument` itself."""
    definition = _field_definition(field_def)
    if definition is None:
        return None
    arguments = definition.arguments
    if not arguments:
        return _no_arguments
    scalars = schema.schema_converter.scalar_registry
    config = schema.config
    steps: list[tuple[str, str, _ValueConverter]] = []
    for argument in arguments:
        assert argument.python_name
        name = config.name_converter.from_argument(argument)
        step = _value_converter(argument.type, scalars, config, (name,), ())
        steps.append((name, argument.python_name, step))

    def convert(values: dict[str, Any]) -> dict[str, Any]:
        converted = {}
        for name, python_name, step in steps:
            if name in values:
                value = values[name]
                converted[python_name] = value if step is None else step(value)
        return converted

    return convert


def _no_arguments(values: dict[str, Any]) -> dict[str, Any]:
    return {}


def _value_converter(
    type_: Any,
    scalars: Mapping[object, Any],
    config: Any,
    path: tuple[str, ...],
    enclosing: tuple[type, ...],
) -> _ValueConverter:
    """`convert_argument(value, type_, …)` for the values of one type, decided once (the
    branches `convert_argument` takes, in its order)."""
    while isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        type_ = type_.of_type  # converts as its inner type (null and UNSET are kept as they are)
    if (
        isinstance(type_, (StrawberryMaybe, StrawberryList, LazyType))
        or type_ is GlobalID
        or any(type_ is outer for outer in enclosing)  # a recursive input
    ):
        return functools.partial(_strawberry_convert, type_, scalars, config, path)
    if _is_leaf_type(type_, scalars) or has_enum_definition(type_):
        return None  # graphql-core's value is the resolver's (an enum type's: its member)
    if not has_object_definition(type_):
        return functools.partial(_strawberry_convert, type_, scalars, config, path)
    input_definition = type_.__strawberry_definition__
    if input_definition.from_input is not None:
        return functools.partial(_strawberry_convert, type_, scalars, config, path)
    # Input fields without a default are None unless given (graphql-core has checked that the
    # required ones are).
    implicit = (
        {
            field.python_name: None
            for field in input_definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }
        if input_definition.is_input
        else {}
    )
    inner = (*enclosing, type_)
    fields = []
    for field in input_definition.fields:
        name = config.name_converter.from_field(field)
        field_type = field.resolve_type(type_definition=input_definition)
        step = _value_converter(field_type, scalars, config, (*path, name), inner)
        fields.append((name, field.python_name, step))
    input_class: Callable[..., Any] = type_

    def build(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        kwargs = dict(implicit)
        for name, python_name, step in fields:
            if name in value:
                field_value = value[name]
                kwargs[python_name] = field_value if step is None else step(field_value)
        return input_class(**kwargs)

    return build


def _strawberry_convert(
    type_: Any, scalars: Mapping[object, Any], config: Any, path: tuple[str, ...], value: Any
) -> Any:
    return convert_argument(value, type_, scalars, config, None, path=path)


# --- graphql-core's field collection ----------------------------------------------------------


class FieldDetails(Protocol):
    """One field node of a response name, as graphql-core collects it."""

    @property
    def node(self) -> FieldNode: ...
    @property
    def defer_usage(self) -> object | None: ...
    @property
    def fragment_variable_values(self) -> object | None: ...


FieldGroup = Sequence[FieldDetails]  # the nodes of one response name
GroupedFields = Mapping[str, FieldGroup]  # response name -> its nodes, in response order


@dataclass(frozen=True, slots=True)
class Operation:
    """What a plan reads of the operation being executed."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]  # the coerced values
    hide_suggestions: bool
    has_middleware: bool  # something wraps every resolver (it must see them all)
    _fragment_details: dict[str, _collect.FragmentDetails]
    _variable_values: VariableValues


def operation_of_document(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Sequence[FragmentDefinitionNode],
) -> Operation:
    """An operation of a parsed document, with no variables (a plan built ahead of time)."""
    details = {f.name.value: _collect.FragmentDetails(f) for f in fragments}
    return Operation(
        schema=schema,
        operation=operation,
        fragments={name: d.definition for name, d in details.items()},
        variables={},
        hide_suggestions=False,
        has_middleware=False,
        _fragment_details=details,
        _variable_values=VariableValues({}, {}),
    )


def collect_root_fields(operation: Operation, root_type: GraphQLObjectType) -> GroupedFields:
    """The operation's root fields by response name, as graphql-core's executor collects them."""
    return _collect.collect_fields(
        operation.schema,
        operation._fragment_details,
        operation._variable_values,
        root_type,
        operation.operation,
        operation.hide_suggestions,
    ).grouped_field_set


def collect_subfields(
    operation: Operation, object_type: GraphQLObjectType, group: FieldGroup
) -> GroupedFields | None:
    """The fields selected on `object_type` under `group`, as graphql-core collects them; None
    when the selection defers some of them (`@defer`)."""
    collected = _collect.collect_subfields(
        operation.schema,
        operation._fragment_details,
        operation._variable_values,
        operation.operation,
        object_type,
        cast("_collect.FieldDetailsList", group),
        operation.hide_suggestions,
    )
    return None if collected.new_defer_usages else collected.grouped_field_set


# --- graphql-core's executor ------------------------------------------------------------------


class RootExecution(Protocol):
    """What the compiled executor uses of graphql-core's executor for one operation."""

    @property
    def operation(self) -> Operation: ...
    @property
    def context_value(self) -> Any: ...
    def is_awaitable(self, value: Any) -> bool: ...
    def argument_values(self, field_def: GraphQLField, group: FieldGroup) -> dict[str, Any]: ...
    def handle_field_error(
        self, error: Exception, return_type: GraphQLOutputType, group: FieldGroup, path: Path
    ) -> None: ...
    def settle_in_background(self, awaitables: list[Awaitable[Any]]) -> None: ...
    def complete_value(
        self,
        field_def: GraphQLField,
        group: FieldGroup,
        parent_type: GraphQLObjectType,
        path: Path,
        result: Any,
    ) -> Any: ...


class RootFieldsRunner(Protocol):
    """Runs an operation's root fields itself, or returns `NOT_RUN` to leave them to
    graphql-core."""

    def __call__(
        self, execution: RootExecution, root_type: GraphQLObjectType, fields: GroupedFields
    ) -> Any: ...


NOT_RUN = object()
_RUNNER_KEY = "gql_badges.root_fields_runner"


def run_root_fields_with(schema: GraphQLSchema, runner: RootFieldsRunner) -> None:
    """Have `FencedExecutor` offer `schema`'s operations to `runner` (kept in the schema's
    `extensions`, graphql-core's public place for what a schema carries)."""
    schema.extensions = {**(schema.extensions or {}), _RUNNER_KEY: runner}


def root_fields_runner(schema: GraphQLSchema) -> RootFieldsRunner | None:
    runner = (schema.extensions or {}).get(_RUNNER_KEY)
    return cast("RootFieldsRunner", runner) if runner is not None else None


def fenced_executor() -> type[Executor[Any]]:
    """The executor class of a schema whose root fields a `RootFieldsRunner` may run (only
    when `compiled_execution_allowed`)."""
    return FencedExecutor


if _LOAD_ERROR is None:  # else compiled execution is off, and nothing asks for it

    class FencedExecutor(StrawberryGraphQLCoreExecutionContext):
        """Strawberry's graphql-core executor, which offers the root fields of an operation to the
        schema's `RootFieldsRunner` first. Below the root, and whatever the runner leaves, it is
        graphql-core's own `execute_fields`."""

        def execute_fields(
            self,
            parent_type: GraphQLObjectType,
            source_value: Any,
            path: Path | None,
            grouped_field_set: _collect.GroupedFieldSet,
            position_context: Any,
        ) -> Any:
            if path is None:
                runner = root_fields_runner(self.schema)
                if runner is not None:
                    result = runner(_Execution(self), parent_type, grouped_field_set)
                    if result is not NOT_RUN:
                        return result
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )


class _Execution:
    """`RootExecution` over graphql-core's executor."""

    __slots__ = ("_executor", "_operation")

    def __init__(self, executor: Executor[Any]) -> None:
        self._executor = executor
        self._operation: Operation | None = None

    @property
    def operation(self) -> Operation:
        if self._operation is None:
            executor = self._executor
            manager = executor.middleware_manager
            self._operation = Operation(
                schema=executor.schema,
                operation=executor.operation,
                fragments=executor.fragment_definitions,
                variables=executor.variable_values.coerced,
                hide_suggestions=executor.hide_suggestions,
                has_middleware=manager is not None and bool(manager.middlewares),
                _fragment_details=executor.fragments,
                _variable_values=executor.variable_values,
            )
        return self._operation

    @property
    def context_value(self) -> Any:
        return self._executor.context_value

    def is_awaitable(self, value: Any) -> bool:
        return bool(self._executor.is_awaitable(value))

    def argument_values(self, field_def: GraphQLField, group: FieldGroup) -> dict[str, Any]:
        node = group[0].node
        if not (field_def.args or node.arguments):
            return {}
        executor = self._executor
        return get_argument_values(
            field_def, node, executor.variable_values, None, executor.hide_suggestions
        )

    def handle_field_error(
        self, error: Exception, return_type: GraphQLOutputType, group: FieldGroup, path: Path
    ) -> None:
        details = cast("_collect.FieldDetailsList", group)
        self._executor.handle_field_error(error, return_type, details, path)

    def settle_in_background(self, awaitables: list[Awaitable[Any]]) -> None:
        self._executor.settle_in_background(awaitables)

    def complete_value(
        self,
        field_def: GraphQLField,
        group: FieldGroup,
        parent_type: GraphQLObjectType,
        path: Path,
        result: Any,
    ) -> Any:
        details = cast("_collect.FieldDetailsList", group)
        executor = self._executor
        info = executor.build_resolve_info(field_def, to_nodes(details), parent_type, path)
        return executor.complete_value(field_def.type, details, info, path, result, None)


# --- Re-exported -------------------------------------------------------------------------------
#
# graphql-core:
# - `gather_with_cancel` (`graphql.pyutils`, which says it is not part of the interface): awaits
#   sibling fields as graphql-core's executor does, the first error cancelling the rest;
# - `Path` (the same): a field's response path, as `GraphQLResolveInfo.path` has it.
# Strawberry:
# - `PreExecutionError`: the result `Schema.execute` returns when a document fails to parse or
#   validate (the view tells validation failures apart by it, and answers its own in it);
# - `OperationType`: the kinds `Schema.execute(allowed_operation_types=...)` takes;
# - `InvalidOperationTypeError`, `CannotGetOperationTypeError`: what `Schema.execute` raises for
#   an operation kind not allowed, and for an operation it cannot pick out of the document;
# - `UnsetType`: the type of `strawberry.UNSET`, which `on_ws_connect` returns for an ack
#   without a payload;
# - `SelectedField`, `FragmentSpread`, `InlineFragment`, `Selection`: what `Info.selected_fields`
#   (documented) holds, whose classes Strawberry does not export from a documented module;
# - `BaseGraphQLTransportWSHandler` (with `ConnectionInitMessage`, the message its
#   `handle_connection_init` takes) and `ASGIWebSocketAdapter` (with `NonTextMessageReceived`,
#   `WebSocketDisconnected`, what an adapter raises): the classes the live WebSocket transport
#   subclasses.


__all__: Sequence[str] = [
    "KNOWN_VERSIONS",
    "NOT_RUN",
    "ASGIWebSocketAdapter",
    "ArgumentConverter",
    "BaseGraphQLTransportWSHandler",
    "CannotGetOperationTypeError",
    "ConnectionInitMessage",
    "FencedExecutor",
    "FieldDetails",
    "FieldGroup",
    "FragmentSpread",
    "GroupedFields",
    "InlineFragment",
    "InvalidOperationTypeError",
    "NonTextMessageReceived",
    "Operation",
    "OperationType",
    "Path",
    "PreExecutionError",
    "RootExecution",
    "RootFieldsRunner",
    "SelectedField",
    "Selection",
    "UnsetType",
    "WebSocketDisconnected",
    "argument_converter",
    "attribute_name",
    "collect_root_fields",
    "collect_subfields",
    "compiled_execution_allowed",
    "enum_class",
    "extensions_runner",
    "fenced_executor",
    "gather_with_cancel",
    "graphql_schema",
    "installed_versions",
    "internals_usable",
    "operation_of_document",
    "parser_limit",
    "provided_operation_name",
    "root_fields_runner",
    "run_root_fields_with",
    "strawberry_validation_rules",
    "type_origin",
    "validation_abort",
    "without_suggestions",
]
