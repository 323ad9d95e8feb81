"""Document limits: size caps, depth, aliases and cost, measured once per document in linear time.

A hostile document costs its sender a few hundred bytes and the server whatever the server's
own checks cost, so every check here is linear in the document's length:

- the size caps (fields, fragments, directives) count the nodes as written, in one pass;
- depth, aliases and cost walk each operation with its fragments *measured once each*: a
  fragment's figures are memoised, so a fragment spread twice, or spread by a fragment that is
  itself spread twice, costs one walk (`F1 { ...F0 ...F0 } … F22 { ...F21 ...F21 }` is 23 walks,
  not 2²² expansions). A spread of a fragment already being measured (a cycle) contributes
  nothing and is never followed; graphql-core's validation then reports the cycle.

The figures are those of the document as executed, with every spread expanded: aliases and cost
count a fragment as often as it is spread (the big numbers are computed, never walked).

Cost is fields times the items they repeat for. A page list repeats for the page size its root
field asks for, which is often a variable, so a document's cost is kept as a linear form over
its page sizes and evaluated per request (`DocumentFigures.cost`). Everything else is decided by
the document alone and refused during validation, before graphql-core's own rules run; both the
figures and graphql-core's verdict are kept with the parsed document (`graphql/documents.py`).

Introspection has a depth bound of its own: the standard introspection documents of graphql-js
and graphql-core nest 13 to 15 fields deep through `ofType`, deeper than any data query needs,
while a hand-made chain of 40 `ofType`s is still refused. Introspection lists count like any
other list, so `__type` recursion through `fields { type { fields … } }` is refused by cost.

Every refusal has `extensions.code` QUERY_TOO_COMPLEX and names the limit, its maximum and the
document's figure.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    MaxIntrospectionDepthRule,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    ValueNode,
    VariableNode,
    get_named_type,
    validate,
)
from strawberry.extensions import SchemaExtension

from gql_badges.errors import QUERY_TOO_COMPLEX
from gql_badges.graphql._internals import (
    graphql_schema,
    strawberry_validation_rules,
    validation_abort,
)
from gql_badges.graphql.documents import DocumentCache, KnownDocument
from gql_badges.graphql.operation import operation_name_refusal
from gql_badges.graphql.rules import with_enum_details

# A list whose length no argument states counts as this many items.
NESTED_LIST_ITEMS = 10
# The page lists, and the argument of their root field that sizes them.
PAGE_LISTS = {"badges": "limit", "customerBadges": "size"}
DEFAULT_PAGE_ITEMS = 10
_CACHE_SIZE = 256
_INT64_DIGITS = 19


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int = 12
    max_introspection_depth: int = 16
    max_aliases: int = 30
    max_cost: int = 150_000
    # Caps on the document as written: far above any real client's documents, far below what
    # makes graphql-core's own rules (some quadratic in the fields of one response name) slow.
    max_fields: int = 1_000
    max_fragments: int = 100
    max_directives: int = 200
    # graphql-core compares every two fields of one response name in a selection set (to see
    # that they merge): quadratic in how often one name is repeated on one type.
    max_field_repeats: int = 50


# A page size as a document states it: ("int", n), ("var", name), ("default",), ("largest",),
# or, inside a fragment not yet tied to its root field, ("enclosing", argument).
PageKey = tuple[str, ...] | tuple[str, int]
_CONST: PageKey = ("const",)
LinearCost = dict[PageKey, int]


@dataclass(slots=True)
class _Figures:
    """What one selection set adds to its operation, counted with every spread expanded."""

    depth: int = 0  # deepest chain of data fields, counting this set's fields as 1
    introspection_depth: int = 0  # deepest chain that enters `__schema` or `__type`
    aliases: int = 0
    cost: LinearCost = field(default_factory=dict)

    def add(self, other: _Figures) -> None:
        self.depth = max(self.depth, other.depth)
        self.introspection_depth = max(self.introspection_depth, other.introspection_depth)
        self.aliases += other.aliases
        for key, amount in other.cost.items():
            self.cost[key] = self.cost.get(key, 0) + amount


def _scaled(cost: LinearCost, factor: int) -> LinearCost:
    return {key: amount * factor for key, amount in cost.items()}


@dataclass(frozen=True, slots=True)
class OperationFigures:
    name: str | None
    depth: int
    introspection_depth: int
    aliases: int
    cost: Mapping[PageKey, int]
    variable_defaults: Mapping[str, int]  # page-size variables' default values, where literal

    def page_items(self, key: PageKey, variables: Mapping[str, Any], largest: int) -> int:
        """How many items a page stated as `key` repeats for (at least 1, at most `largest`)."""
        match key:
            case ("int", int(size)):
                value: object = size
            case ("var", str(name)):
                value = variables.get(name, self.variable_defaults.get(name))
            case ("largest",):
                return largest
            case _:
                return DEFAULT_PAGE_ITEMS
        # A size out of range is refused as bad input when the field runs; count what is allowed.
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return min(value, largest)
        return DEFAULT_PAGE_ITEMS

    def total_cost(self, variables: Mapping[str, Any], largest: int) -> int:
        return sum(
            amount * (1 if key == _CONST else self.page_items(key, variables, largest))
            for key, amount in self.cost.items()
        )

    def least_cost(self, largest: int) -> int:
        """The cost whatever the variables say (each variable page at 1 item)."""
        smallest = {str(key[1]): 1 for key in self.cost if key[0] == "var"}
        return self.total_cost(smallest, largest)


@dataclass(frozen=True, slots=True)
class DocumentFigures:
    """A document's verdict: refusals (or graphql-core's validation errors) and its operations."""

    errors: tuple[GraphQLError, ...]
    operations: tuple[OperationFigures, ...] = ()

    def operation(self, name: str | None) -> OperationFigures | None:
        for operation in self.operations:
            if name is None or operation.name == name:
                return operation
        return None


def refusal(limit: str, actual: int, maximum: int, node: Any = None) -> GraphQLError:
    extensions = {"code": QUERY_TOO_COMPLEX, "limit": limit, "maximum": maximum, "actual": actual}
    message = f"Query refused: {limit} is {maximum}, this query has {actual}"
    return GraphQLError(message, node, extensions=extensions)


@dataclass(frozen=True, slots=True)
class _Size:
    fields: int
    fragments: int
    directives: int
    repeats: int  # the most fields of one response name on one type


def _count_nodes(schema: GraphQLSchema, document: DocumentNode) -> _Size:
    """The document's size as written, in one pass (no spread is followed)."""
    fragments = directives = 0
    names: Counter[tuple[str, str]] = Counter()
    pending: list[tuple[SelectionSetNode, GraphQLNamedType | None]] = []
    for definition in document.definitions:
        directives += len(getattr(definition, "directives", None) or ())
        if isinstance(definition, FragmentDefinitionNode):
            fragments += 1
            on = schema.get_type(definition.type_condition.name.value)
            pending.append((definition.selection_set, on))
        elif isinstance(definition, OperationDefinitionNode):
            pending.append((definition.selection_set, schema.get_root_type(definition.operation)))
    while pending:
        selection_set, parent = pending.pop()
        for selection in selection_set.selections:
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                response = (selection.alias or selection.name).value
                names[(parent.name if parent else "", response)] += 1
                if selection.selection_set is not None:
                    output_type = _field_type(parent, selection.name.value)
                    named = get_named_type(output_type) if output_type is not None else None
                    pending.append((selection.selection_set, named))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = schema.get_type(condition.name.value) if condition else parent
                pending.append((selection.selection_set, on))
    repeats = max(names.values(), default=0)
    return _Size(sum(names.values()), fragments, directives, repeats)


def _field_type(parent: GraphQLNamedType | None, name: str) -> Any:
    """The output type of `parent.name`, introspection fields included; None if unknown."""
    if name == "__schema":
        return SchemaMetaFieldDef.type
    if name == "__type":
        return TypeMetaFieldDef.type
    fields = getattr(parent, "fields", None)
    definition = fields.get(name) if fields else None
    return definition.type if definition is not None else None


def _is_list(output_type: Any) -> bool:
    if isinstance(output_type, GraphQLNonNull):
        output_type = output_type.of_type
    return isinstance(output_type, GraphQLList)


def _page_key(root: FieldNode, argument: str) -> PageKey:
    for node in root.arguments or ():
        if node.name.value == argument:
            return _value_key(node.value)
    return ("default",)


def _value_key(value: ValueNode) -> PageKey:
    if isinstance(value, VariableNode):
        return ("var", value.name.value)
    if isinstance(value, IntValueNode) and len(value.value.lstrip("-")) <= _INT64_DIGITS:
        return ("int", int(value.value))
    return ("largest",)  # not a page size at all: refused when the field runs


class _Measurer:
    """Measures every operation of one document; each fragment is walked at most once."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.measured: dict[str, _Figures] = {}
        self.measuring: set[str] = set()
        self.cycle: FragmentSpreadNode | None = None  # the first spread found to close a cycle
        self.query_type = schema.query_type

    def operation(self, node: OperationDefinitionNode) -> OperationFigures:
        root_type = self.schema.get_root_type(node.operation)
        figures = self.selection_set(node.selection_set, root_type)
        defaults = {
            definition.variable.name.value: int(definition.default_value.value)
            for definition in node.variable_definitions or ()
            if isinstance(definition.default_value, IntValueNode)
            and len(definition.default_value.value) <= _INT64_DIGITS
        }
        return OperationFigures(
            name=node.name.value if node.name else None,
            depth=figures.depth,
            introspection_depth=figures.introspection_depth,
            aliases=figures.aliases,
            cost=figures.cost,
            variable_defaults=defaults,
        )

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> _Figures:
        total = _Figures()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total.add(self.field(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                if selection.name.value in self.measuring:
                    self.cycle = self.cycle or selection
                total.add(self.fragment(selection.name.value))
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total.add(self.selection_set(selection.selection_set, on))
        return total

    def fragment(self, name: str) -> _Figures:
        known = self.measured.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:  # unknown or a cycle: validation's job
            return _Figures()
        self.measuring.add(name)
        on = self.schema.get_type(definition.type_condition.name.value)
        figures = self.selection_set(definition.selection_set, on)
        self.measuring.discard(name)
        self.measured[name] = figures
        return figures

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Figures:
        name = node.name.value
        introspective = name in ("__schema", "__type") or (
            parent is not None and parent.name.startswith("__")
        )
        own = _Figures(aliases=int(node.alias is not None), cost={_CONST: 1})
        if node.selection_set is None:
            own.depth, own.introspection_depth = (0, 1) if introspective else (1, 0)
            return own
        output_type = _field_type(parent, name)
        named = get_named_type(output_type) if output_type is not None else None
        inner = self.selection_set(node.selection_set, named)
        own.aliases += inner.aliases
        for key, amount in self._repeated(inner.cost, name, output_type).items():
            own.cost[key] = own.cost.get(key, 0) + amount
        if parent is not None and parent is self.query_type:
            own.cost = self._tied_to_root(own.cost, node)
        if introspective:
            own.introspection_depth = 1 + max(inner.depth, inner.introspection_depth)
        else:
            own.depth = 1 + inner.depth
            if inner.introspection_depth:
                own.introspection_depth = 1 + inner.introspection_depth
        return own

    def _repeated(self, cost: LinearCost, name: str, output_type: Any) -> LinearCost:
        """The cost of a field's selection, times the items the field repeats it for."""
        if not _is_list(output_type):
            return cost
        argument = PAGE_LISTS.get(name)
        if argument is None:
            return _scaled(cost, NESTED_LIST_ITEMS)
        # A page's items hold no pages of their own; were one to, count it at its largest.
        per_item = sum(amount for amount in cost.values())
        return {("enclosing", argument): per_item}

    @staticmethod
    def _tied_to_root(cost: LinearCost, root: FieldNode) -> LinearCost:
        tied: LinearCost = {}
        for key, amount in cost.items():
            if key[0] == "enclosing":
                key = _page_key(root, str(key[1]))
            tied[key] = tied.get(key, 0) + amount
        return tied


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: QueryLimits,
    largest_page: int,
) -> tuple[list[GraphQLError], tuple[OperationFigures, ...]]:
    """The refusals of `document` under `limits`, and its operations' figures."""
    size = _count_nodes(schema, document)
    for limit, actual, maximum in (
        ("maxFields", size.fields, limits.max_fields),
        ("maxFragments", size.fragments, limits.max_fragments),
        ("maxDirectives", size.directives, limits.max_directives),
        ("maxFieldRepeats", size.repeats, limits.max_field_repeats),
    ):
        if actual > maximum:
            return [refusal(limit, actual, maximum)], ()
    measurer = _Measurer(schema, document)
    errors: list[GraphQLError] = []
    operations = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        figures = measurer.operation(definition)
        operations.append(figures)
        if measurer.cycle is not None:
            # graphql-core would report every cycle it finds, at a cost that grows with them.
            name = measurer.cycle.name.value
            message = f"Cannot spread fragment '{name}' within itself."
            return [GraphQLError(message, measurer.cycle)], ()
        for limit, actual, maximum in (
            ("maxDepth", figures.depth, limits.max_depth),
            ("maxIntrospectionDepth", figures.introspection_depth, limits.max_introspection_depth),
            ("maxAliases", figures.aliases, limits.max_aliases),
            ("maxCost", figures.least_cost(largest_page), limits.max_cost),
        ):
            if actual > maximum:
                errors.append(refusal(limit, actual, maximum, definition))
    return errors, tuple(operations)


# graphql-core's cap on validation errors (its default, stated so that an abort can be told from
# a rule's error).
MAX_VALIDATION_ERRORS = 100


class _IntrospectionDepthRule(MaxIntrospectionDepthRule):
    """graphql-core's introspection depth rule, whose refusals carry our code."""

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {"code": QUERY_TOO_COMPLEX, "limit": "maxIntrospectionDepth"}
        super().report_error(error)


class GuardedValidation(SchemaExtension):
    """An extension that replaces Strawberry's parsing and validation steps: limits first, then
    the rules, each paid once per document.

    The parser stops after `max_tokens` tokens (what Strawberry's `MaxTokensLimiter` does, here
    where the parsing is). The document's limits are checked before graphql-core's validation
    runs (a refused document never reaches rules that are not linear); the parsed document and
    its verdict are kept in `documents` (`graphql/documents.py`; one cache per schema: give
    every request's instance the same), and the cost, which needs the request's variables, is
    checked just before execution, followed by the operation-name rule (`operation.py`).
    Without `suggestions`, validation errors say no "Did you mean …" (they would leak names of
    the schema that introspection, when it is off, keeps to itself) and list no enum values.

    Each extension costs every request a hook context per step, so the document's checks share
    this one extension's hooks instead of having one each.

        extensions=[guarded_validation(QueryLimits(), largest_page=100, max_tokens=2_500)]
    """

    def __init__(
        self,
        *,
        limits: QueryLimits,
        largest_page: int,
        documents: DocumentCache[DocumentFigures],
        suggestions: bool = True,
        max_tokens: int | None = None,
    ) -> None:
        self.limits = limits
        self.largest_page = largest_page
        self.documents = documents
        self.suggestions = suggestions
        self.max_tokens = max_tokens
        self.known: KnownDocument[DocumentFigures] | None = None
        self.figures: DocumentFigures | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        assert context.query is not None
        options = context.parse_options
        if self.max_tokens is not None:
            options["max_tokens"] = self.max_tokens
        self.known = self.documents.parsed(context.query, context.operation_name, options)
        # Strawberry parses only when no extension has set the document.
        context.graphql_document = self.known.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        known = self.known
        assert known is not None and context.graphql_document is known.document
        figures = known.verdict
        if figures is None:
            figures = known.verdict = self._judge(known.document, context.validation_rules)
        self.figures = figures
        # Strawberry skips its own validation when an extension has set the errors.
        context.pre_execution_errors = list(figures.errors)
        yield

    def _judge(
        self, document: DocumentNode, rules: Sequence[type[ASTValidationRule]]
    ) -> DocumentFigures:
        schema = graphql_schema(self.execution_context.schema)
        refusals, operations = measure(schema, document, self.limits, self.largest_page)
        if refusals:
            return DocumentFigures(tuple(refusals))
        rules = tuple(
            _IntrospectionDepthRule if rule is MaxIntrospectionDepthRule else rule for rule in rules
        )
        if self.suggestions:
            rules = with_enum_details(rules)
        errors = validate(
            schema,
            document,
            strawberry_validation_rules(rules),
            max_errors=MAX_VALIDATION_ERRORS,
            hide_suggestions=not self.suggestions,
        )
        for error in errors:
            limit = validation_abort(error, errors, MAX_VALIDATION_ERRORS)
            if limit is not None:  # graphql-core's own guard: named like our limits
                error.extensions = {"code": QUERY_TOO_COMPLEX, "limit": limit}
        return DocumentFigures(tuple(errors), operations)

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        operation = self.figures.operation(context.operation_name) if self.figures else None
        if operation is not None:
            cost = operation.total_cost(context.variables or {}, self.largest_page)
            if cost > self.limits.max_cost:
                error = refusal("maxCost", cost, self.limits.max_cost)
                context.result = ExecutionResult(data=None, errors=[error])
        refused = operation_name_refusal(context)
        if refused is not None:
            context.result = refused  # answers instead
        yield


def guarded_validation(
    limits: QueryLimits,
    largest_page: int,
    *,
    suggestions: bool = True,
    documents: DocumentCache[DocumentFigures] | None = None,
    max_tokens: int | None = None,
) -> Callable[[], GuardedValidation]:
    """`GuardedValidation` for one schema: every request's instance shares one document cache."""
    return functools.partial(
        GuardedValidation,
        limits=limits,
        largest_page=largest_page,
        documents=documents or DocumentCache[DocumentFigures](_CACHE_SIZE),
        suggestions=suggestions,
        max_tokens=max_tokens,
    )


__all__ = [
    "MAX_VALIDATION_ERRORS",
    "DocumentFigures",
    "GuardedValidation",
    "QueryLimits",
    "guarded_validation",
    "measure",
    "refusal",
]
