"""Query cost protection: depth, aliases and a computed cost.

Depth and aliases are a validation rule (the document decides them, so validation stays
cached); the cost needs the variables too (a page size is usually one), so it is checked after
validation with them. Both walk each operation with its fragments expanded. Introspection
fields count like any other: a deep `__type` nesting is as costly to answer as a deep query.
Every refusal has `extensions.code` QUERY_TOO_COMPLEX and names the limit and its value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
# A list whose length no argument states counts as this many items.
NESTED_LIST_ITEMS = 10
# The page lists, and the arguments that size them.
PAGE_LISTS = {"badges": "limit", "customerBadges": "size"}


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_depth: int = 12
    max_aliases: int = 30
    max_cost: int = 150_000


@dataclass
class _Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def _page_size(
    root: FieldNode, argument: str, variables: Mapping[str, Any], default: int, largest: int
) -> int:
    for node in root.arguments or ():
        if node.name.value != argument:
            continue
        value: Any = largest
        if isinstance(node.value, IntValueNode):
            value = int(node.value.value)
        elif isinstance(node.value, VariableNode):
            value = variables.get(node.value.name.value, default)
        # A size out of range is refused as bad input when the field runs; count what is allowed.
        return min(value, largest) if isinstance(value, int) and value > 0 else default
    return default


def _field_type(schema: GraphQLSchema, parent: Any, name: str) -> Any:
    """The output type of `parent.name`, introspection fields included; None if unknown."""
    if name == "__schema":
        return SchemaMetaFieldDef.type
    if name == "__type":
        return TypeMetaFieldDef.type
    fields = getattr(parent, "fields", None)
    field = fields.get(name) if fields else None
    return field.type if field is not None else None


def _is_list(output_type: Any) -> bool:
    if isinstance(output_type, GraphQLNonNull):
        output_type = output_type.of_type
    return isinstance(output_type, GraphQLList)


class _Walker:
    """Measures one operation: depth, aliases, and cost (fields times the items they repeat for)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        largest_page: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.largest_page = largest_page
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.measure = _Measure()

    def operation(self, node: OperationDefinitionNode) -> _Measure:
        self.measure = _Measure()
        root_type = self.schema.get_root_type(node.operation)
        self._walk(node.selection_set, root_type, 1, 1, None, frozenset())
        return self.measure

    def _walk(
        self,
        selections: SelectionSetNode | None,
        parent: Any,
        depth: int,
        items: int,
        root: FieldNode | None,
        seen: frozenset[str],
    ) -> None:
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                self._field(selection, parent, depth, items, root, seen)
                continue
            condition: NamedTypeNode | None
            inner = seen
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # unknown or cyclic: other rules' job
                    continue
                inner = seen | {name}
                condition, selection_set = fragment.type_condition, fragment.selection_set
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition, selection_set = selection.type_condition, selection.selection_set
            on = self.schema.get_type(condition.name.value) if condition else parent
            self._walk(selection_set, on, depth, items, root, inner)

    def _field(
        self,
        field: FieldNode,
        parent: Any,
        depth: int,
        items: int,
        root: FieldNode | None,
        seen: frozenset[str],
    ) -> None:
        measure = self.measure
        measure.depth = max(measure.depth, depth)
        measure.aliases += field.alias is not None
        measure.cost += items
        if field.selection_set is None:
            return
        name = field.name.value
        output_type = _field_type(self.schema, parent, name)
        if _is_list(output_type):
            if root is not None and name in PAGE_LISTS:
                argument = PAGE_LISTS[name]
                items *= _page_size(root, argument, self.variables, 10, self.largest_page)
            else:
                items *= NESTED_LIST_ITEMS
        child_root = root if root is not None else field
        child_parent = get_named_type(output_type) if output_type is not None else None
        self._walk(field.selection_set, child_parent, depth + 1, items, child_root, seen)


def _refusal(name: str, value: int, limit: int, node: Any = None) -> GraphQLError:
    extensions = {"code": QUERY_TOO_COMPLEX, "limit": name, "maximum": limit, "actual": value}
    message = f"Query refused: {name} is {limit}, this query has {value}"
    return GraphQLError(message, node, extensions=extensions)


def shape_rule(limits: QueryLimits) -> type[ValidationRule]:
    """A validation rule for what the document alone decides: depth and aliases.

    Built once per schema: ValidationCache keys on the rule classes.
    """

    class QueryShapeRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            walker = _Walker(self.context.schema, self.context.document, {}, 1)
            measure = walker.operation(node)
            if measure.depth > limits.max_depth:
                self.report_error(_refusal("maxDepth", measure.depth, limits.max_depth, node))
            if measure.aliases > limits.max_aliases:
                self.report_error(_refusal("maxAliases", measure.aliases, limits.max_aliases, node))

    return QueryShapeRule


def cost_limit(limits: QueryLimits, largest_page: int) -> type[SchemaExtension]:
    """An extension for what needs the variables too: the cost (page sizes are often variables)."""

    class CostLimit(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            self._check()  # before executing: a refusal answers instead
            yield

        def _check(self) -> None:
            context = self.execution_context
            document = context.graphql_document
            if document is None:
                return
            for operation in document.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                name = operation.name.value if operation.name else None
                if context.operation_name is not None and name != context.operation_name:
                    continue
                walker = _Walker(context.schema._schema, document, context.variables or {},
                                 largest_page)  # fmt: skip
                cost = walker.operation(operation).cost
                if cost > limits.max_cost:
                    refusal = _refusal("maxCost", cost, limits.max_cost, operation)
                    context.result = ExecutionResult(data=None, errors=[refusal])
                return

    return CostLimit
