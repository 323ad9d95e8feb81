"""Plan building: what a compiled plan is, and how one is built from a validated operation.

graphql-core completes a page field by field: for a page of 1,000 badges with every field
selected, about 50,000 resolver calls, each with its own `GraphQLResolveInfo`, path and checks.
The items are plain Strawberry objects whose fields are attributes, so all of that work is
decided by the document alone. A plan does it once per document: for every object type the
document reaches, the fields in response order, each with a getter and a serialiser.

Everything graphql-core decides is still decided by graphql-core, through its own functions:
the fields are collected by `collect_fields` / `collect_subfields`, so aliases, fragments,
inline fragments on the union and the interface and `@skip`/`@include` are its own (a plan is
kept per value of the variables the directives read, by `plan_cache.py`).

The plan's completion covers the values it expects (the types' own classes, lists, values a
scalar passes through unchanged); on anything else (a null where the schema says non-null, a
value a scalar refuses, an object of another class) it raises `GiveUp`, and the executor
(`executor.py`) lets graphql-core complete the very same resolved value, errors and all.
Documents the plan does not cover (introspection, other root fields, a mutation, fragment
arguments, `@defer`) get no plan (`NotCovered`) and run through graphql-core unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from keyword import iskeyword
from typing import TYPE_CHECKING, Any

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)

from gql_badges.graphql import _internals as internals
from gql_badges.graphql._internals import ArgumentConverter, FieldGroup, GroupedFields, Operation

if TYPE_CHECKING:
    import strawberry

logger = logging.getLogger(__name__)

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

Completer = Callable[[Any], Any]


class GiveUp(Exception):
    """A value the plan does not complete itself: graphql-core completes it instead."""


class NotCovered(Exception):
    """A document (or part of it) the plan does not cover: graphql-core executes it."""


class Rows:
    """A list field's value that a plan writes straight from its rows (a `RowWriter`'s
    writer), with no object per row. Iterated, it is the objects the resolver would have
    listed, built then: what graphql-core completes when the plan gives up on the field."""

    __slots__ = ("_build", "_objects", "rows")

    def __init__(self, rows: list[Any], build: Callable[[], list[Any]]) -> None:
        self.rows = rows
        self._build = build
        self._objects: list[Any] | None = None

    def __iter__(self) -> Iterator[Any]:
        if self._objects is None:
            self._objects = self._build()
        return iter(self._objects)


@dataclass(frozen=True, slots=True)
class Read:
    """How a generated completer reads one field: the expression reading it (of `value`, or
    of the names its function binds), the conversion its value gets first (None: none), the
    class of values that conversion keeps as they are (None: unknown; see `_kept`), and for a
    list, the entries of the stored lists it keeps (`types.kept_entries`; see `_kept_list`)."""

    expression: str
    convert: Callable[[Any], Any] | None = None
    kept: type | None = None
    entries: type | None = None


# (compiler, the list's object type, its field group) -> a function writing a `Rows`' rows as
# the completed list, or None for an object type it does not write.
RowWriter = Callable[["Compiler", GraphQLObjectType, FieldGroup], Completer | None]


@dataclass(frozen=True, slots=True)
class PlannedRoot:
    """A root field a plan may run: how to call its resolver, and what it selects."""

    # (context, selection, **arguments) -> the page object: the field's own work, as its
    # resolver does it, given the plan's selection instead of reading it off the resolve info
    # (`resolvers.FieldRequest`).
    fetch: Callable[..., Awaitable[Any]]
    # The page's list of items, whose selected fields decide what is read from the database.
    list_field: str
    # The selected item field names -> the `selection` passed to `fetch`.
    select: Callable[[frozenset[str]], Any]
    # Writes the page's items from their rows when `fetch` lists them as `Rows`.
    rows: RowWriter | None = None


@dataclass(frozen=True, slots=True)
class RootField:
    """A root field of a plan: its arguments' conversion, its resolver, its completion."""

    field_def: GraphQLField
    convert: ArgumentConverter  # graphql-core's coerced arguments -> the resolver's
    fetch: Callable[..., Awaitable[Any]]
    selection: Any
    complete: Completer


@dataclass(frozen=True, slots=True)
class Plan:
    """One operation, for one set of values of its directives' variables."""

    # Per response name in order: the root field, or None for `__typename`.
    fields: tuple[tuple[str, RootField | None], ...]


def directive_variables(operation: Operation) -> tuple[str, ...]:
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

    walk(operation.operation.selection_set)
    for fragment in operation.fragments.values():
        directives(fragment)
        walk(fragment.selection_set)
    return tuple(names)


def has_other_directives(operation: Operation) -> bool:
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

    fragments = operation.fragments.values()
    return (
        found(operation.operation)
        or walk(operation.operation.selection_set)
        or any(found(f) or walk(f.selection_set) for f in fragments)
    )


class Compiler:
    """Builds the completers of one operation, collecting fields as graphql-core does."""

    def __init__(self, operation: Operation, rows: RowWriter | None = None) -> None:
        self.operation = operation
        self.rows = rows

    def collect(self, object_type: GraphQLObjectType, details: FieldGroup) -> GroupedFields:
        collected = internals.collect_subfields(self.operation, object_type, details)
        if collected is None:  # @defer
            raise NotCovered
        return collected

    def value(
        self, type_: GraphQLOutputType, details: FieldGroup, non_null: bool = False
    ) -> Completer:
        """The completer of `type_`; with `non_null`, one that gives up on a null."""
        if is_non_null_type(type_):
            return self.value(type_.of_type, details, non_null=True)
        if is_list_type(type_):
            item = self.value(type_.of_type, details)
            named = get_nullable_type(type_.of_type)
            write = (
                self.rows(self, named, details)
                if self.rows is not None and is_object_type(named)
                else None
            )

            def complete_list(value: Any) -> Any:
                if type(value) is not list:
                    if write is not None and type(value) is Rows:
                        return write(value.rows)
                    if value is None and not non_null:
                        return None
                    raise GiveUp
                return [item(entry) for entry in value]

            return complete_list
        if is_leaf_type(type_):
            return _leaf(type_, non_null)
        if is_abstract_type(type_):
            by_class = {
                _origin(possible): self.object(possible, details, non_null)
                for possible in self.operation.schema.get_possible_types(type_)
            }

            def complete_abstract(value: Any) -> Any:
                complete = by_class.get(type(value))
                if complete is None:
                    if value is None and not non_null:
                        return None
                    raise GiveUp
                return complete(value)

            return complete_abstract
        if is_object_type(type_):
            return self.object(type_, details, non_null)
        raise NotCovered

    def object(
        self, object_type: GraphQLObjectType, details: FieldGroup, non_null: bool = False
    ) -> Completer:
        """A completer for `object_type`, written as one Python function: an attribute read
        and, for a leaf, its pass-through check inline per field, then one dict display."""
        namespace: dict[str, Any] = {}
        head = []
        if object_type.is_type_of is not None:
            # graphql-core asks `is_type_of`; Strawberry's is an isinstance check of its class.
            namespace["CLS"] = _origin(object_type)
            head.append("    if type(value) is not CLS: raise GiveUp")

        def read(field_def: GraphQLField) -> Read:
            attribute = internals.attribute_name(field_def)
            if attribute is None or not attribute.isidentifier() or iskeyword(attribute):
                raise NotCovered  # a field with a resolver of its own
            return Read(f"value.{attribute}")

        return self.object_function(object_type, details, non_null, namespace, head, read)

    def object_function(
        self,
        object_type: GraphQLObjectType,
        details: FieldGroup,
        non_null: bool,
        namespace: dict[str, Any],
        head: list[str],
        read: Callable[[GraphQLField], Read],
    ) -> Completer:
        """The completer of `object_type` as one generated function of `value`: `head`'s lines
        (after the null check), then per collected field its read (`read` of its definition)
        completed inline, then one dict display."""
        namespace["GiveUp"] = GiveUp
        lines = []
        keys = []
        for index, (key, sub) in enumerate(self.collect(object_type, details).items()):
            name = sub[0].node.name.value
            if name == "__typename":
                keys.append(f"{key!r}: {object_type.name!r}")
                continue
            field_def = object_type.fields.get(name)
            if field_def is None:
                raise NotCovered
            lines += self.field_lines(index, read(field_def), field_def, sub, namespace)
            keys.append(f"{key!r}: r{index}")
        on_null = "raise GiveUp" if non_null else "return None"
        source = "\n".join(
            [
                "def complete(value):",
                f"    if value is None: {on_null}",
                *head,
                *lines,
                "    return {" + ", ".join(keys) + "}",
            ]
        )
        exec(compile(source, f"<plan {object_type.name}>", "exec"), namespace)
        complete: Callable[[Any], Any] = namespace["complete"]
        return complete

    def field_lines(
        self,
        index: int,
        read: Read,
        field_def: GraphQLField,
        details: FieldGroup,
        namespace: dict[str, Any],
        indent: str = "    ",
    ) -> list[str]:
        """The source lines completing one field, read as `read` says, into `r{index}`: for a
        leaf, its pass-through check inline; else its type's completer (put in `namespace`,
        with the leaf's parts and the read's conversion, `V{index}`).

        A leaf whose conversion keeps some stored values as they are (`Read.kept`) completes
        those without calling it: a null, and a value the leaf passes through (or serialises)
        as the conversion would have handed it over."""
        type_ = field_def.type
        non_null = is_non_null_type(type_)
        inner = get_nullable_type(type_)
        lines = [f"v = {read.expression}"]
        if read.convert is not None:
            namespace[f"V{index}"] = read.convert
        if not is_leaf_type(inner):
            namespace[f"C{index}"] = self.value(type_, details)
            if not is_list_type(inner):
                if read.convert is not None:
                    lines.append(f"v = V{index}(v)")
                lines.append(f"r{index} = C{index}(v)")
                return [indent + line for line in lines]
            # A list's entries completed inline; anything else: C's.
            namespace[f"E{index}"] = self.value(inner.of_type, details)
            completed = f"r{index} = [E{index}(e) for e in v] if type(v) is list else C{index}(v)"
            converted = [f"v = V{index}(v)"] if read.convert is not None else []
            kept = _kept_list(inner.of_type, read.entries, index, namespace)
            if kept is None:
                lines += [*converted, completed]
            else:  # a stored list the conversion keeps: without calling it
                lines += [*kept, *("    " + line for line in [*converted, completed])]
            return [indent + line for line in lines]
        passed, coerce = _leaf_parts(inner)
        namespace[f"P{index}"], namespace[f"C{index}"] = passed, coerce
        complete = [f"v = V{index}(v)"] if read.convert is not None else []
        if non_null:
            complete += [
                "if v is None: raise GiveUp",
                f"r{index} = v if type(v) is P{index} else C{index}(v)",
            ]
        else:
            complete.append(f"r{index} = v if v is None or type(v) is P{index} else C{index}(v)")
        fast = _kept(inner, read.kept, passed, index, namespace) if read.convert else None
        if fast is None:
            return [indent + line for line in [*lines, *complete]]
        test, expression, may_be_null = fast
        on_null = "raise GiveUp" if non_null else f"r{index} = None"
        lines += [f"if v is None: {on_null}", f"elif {test}:", f"    r{index} = {expression}"]
        if non_null and may_be_null:
            lines.append(f"    if r{index} is None: raise GiveUp")
        lines += ["else:", *("    " + line for line in complete)]
        return [indent + line for line in lines]


def _kept(
    type_: GraphQLScalarType | GraphQLEnumType,
    kept: type | None,
    passed: type,
    index: int,
    namespace: dict[str, Any],
) -> tuple[str, str, bool] | None:
    """For a leaf whose read's conversion keeps stored values of class `kept` as they are (an
    enum's: makes a text its member), the test of a value `v` that needs no conversion, the
    expression completing it, and whether that may be null; None when there is no such test."""
    if kept is None:
        return None
    members = internals.enum_class(type_) if isinstance(type_, GraphQLEnumType) else None
    if members is not None:
        if kept is not members:
            return None
        # A stored text is its member's value, or none (null): its completion, by value. So is a
        # member of a text enum (a computed field's value), which equals and hashes as its value.
        namespace[f"N{index}"] = _completed_by_value(type_, members)
        if not issubclass(members, str):
            return "type(v) is str", f"N{index}.get(v)", True
        namespace[f"M{index}"] = members
        return f"type(v) is str or type(v) is M{index}", f"N{index}.get(v)", True
    if kept is int:  # kept within 32 bits
        completed = "v" if type_ is GraphQLInt else f"C{index}(v)"
        return f"type(v) is int and {_INT_MIN} <= v <= {_INT_MAX}", completed, False
    namespace[f"K{index}"] = kept
    return f"type(v) is K{index}", "v" if kept is passed else f"C{index}(v)", False


def _kept_list(
    entry: GraphQLOutputType, entries: type | None, index: int, namespace: dict[str, Any]
) -> list[str] | None:
    """For a list whose read's conversion keeps some stored lists (`Read.entries`), the lines
    completing such a list into `r{index}` without calling the conversion, and opening the
    block (indented by the caller) that completes any other value; None without such a
    conversion.

    A list of objects is kept as it is: its entries' completion gives up on one that is not an
    object, as the conversion refuses it. A list of an enum's values is the list of their
    members: completed by value here; one holding anything else (the value of no member, an
    unhashable value) is the conversion's, which drops those."""
    if entries is None:
        return None
    if entries is dict:
        return ["if type(v) is list:", f"    r{index} = [E{index}(e) for e in v]", "else:"]
    named = get_nullable_type(entry)
    if not isinstance(named, GraphQLEnumType):
        return None
    members = internals.enum_class(named)
    if members is None or members is not entries:
        return None
    namespace[f"N{index}"] = _completed_by_value(named, members)
    return [
        f"r{index} = None",
        "if type(v) is list:",
        "    try:",
        f"        r{index} = [N{index}[e] for e in v]",
        "    except (KeyError, TypeError):",
        "        pass",
        f"if r{index} is None:",
    ]


def _completed_by_value(
    type_: GraphQLEnumType | GraphQLScalarType, members: type[Enum]
) -> dict[object, Any]:
    """Each member's completion by `type_` (an enum's: its name), by the member's value: how a
    stored value is completed."""
    return {member.value: type_.coerce_output_value(member) for member in members}


def _origin(object_type: GraphQLObjectType) -> type:
    origin = internals.type_origin(object_type)
    if origin is None:
        raise NotCovered
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
    """The class passed through unchanged, and the exact coercion of any other value (it gives
    up on a null: only a non-null field asks it to complete one)."""
    coerce_output = type_.coerce_output_value

    def coerce(value: Any) -> Any:
        # graphql-core raises a resolved exception, and refuses a null in a non-null field: its
        # words.
        if value is None or value is Undefined or isinstance(value, Exception):
            raise GiveUp
        coerced = coerce_output(value)
        if coerced is None or coerced is Undefined:
            raise GiveUp
        return coerced

    if type_ is GraphQLInt:

        def coerce_int(value: Any) -> Any:
            if type(value) is int and _INT_MIN <= value <= _INT_MAX:
                return value
            return coerce(value)

        return _Never, coerce_int
    # Strawberry's enums take their members too.
    members = internals.enum_class(type_) if isinstance(type_, GraphQLEnumType) else None
    if members is not None:
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
    if passed is _Never and non_null:
        return coerce  # it gives up on a null too

    def complete_leaf(value: Any) -> Any:
        if type(value) is passed:
            return value
        if value is None:
            if non_null:
                raise GiveUp
            return None
        return coerce(value)

    return complete_leaf


def compile_plan(
    operation: Operation,
    schema: strawberry.Schema,
    roots: Mapping[str, PlannedRoot],
    root_type: GraphQLObjectType,
    fields: GroupedFields,
) -> Plan | None:
    """The plan of `operation` (of `schema`) for its root `fields`; None if not covered."""
    planned: list[tuple[str, RootField | None]] = []
    try:
        for key, details in fields.items():
            if any(d.defer_usage or d.fragment_variable_values for d in details):
                return None
            name = details[0].node.name.value
            if name == "__typename":
                planned.append((key, None))
                continue
            root = roots.get(name)
            field_def = root_type.fields.get(name)
            convert = internals.argument_converter(schema, field_def) if field_def else None
            if root is None or field_def is None or convert is None:
                return None
            compiler = Compiler(operation, root.rows)
            complete = compiler.value(field_def.type, details)
            selection = root.select(_item_fields(compiler, field_def, details, root))
            planned.append((key, RootField(field_def, convert, root.fetch, selection, complete)))
    except NotCovered:
        return None
    except Exception:  # e.g. a directive's argument that does not coerce (a null `if`)
        # graphql-core raises it where it collects those fields, as a field error there.
        logger.debug("not planned: collecting the fields failed", exc_info=True)
        return None
    return Plan(tuple(planned))


def _item_fields(
    compiler: Compiler, field_def: GraphQLField, details: FieldGroup, root: PlannedRoot
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
        raise NotCovered
    return type_


__all__: Sequence[str] = [
    "Completer",
    "GiveUp",
    "NotCovered",
    "Plan",
    "PlannedRoot",
    "Read",
    "RootField",
    "RowWriter",
    "Rows",
    "compile_plan",
    "directive_variables",
    "has_other_directives",
]
