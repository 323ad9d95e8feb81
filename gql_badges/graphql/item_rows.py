"""A page's items written by a compiled plan straight from the item rows, as REST's writer does.

The resolvers' way (`types.to_badges`) builds a Strawberry object per item, every selected
field converted into it, and the plan then reads each attribute back. For a planned request the
root field's work lists the page's derived rows instead (`plan.Rows`), and the plan writes each
item's dict from its row: per selected field, the item table's read (a stored field's read is
inline, `badge.get(...)`), the item types' own conversion of that value
(`types.field_conversion`, so both paths convert alike), and the field's completion inline, as
`Compiler.object` writes it. There is no object per item.

Nor per sub-object: images, ownership and its claims, the group and the constraints are written
from their stored documents (`StoredCompiler`), per field the stored name and conversion of the
table the item types' own conversions read (`types.STORED_FIELDS`); a constraint's member of
the union is the one its stored `constraintType` names, as `types.to_constraint` chooses it. A
stored sub-document the writer does not expect (a constraint of a type the gateway does not
know, a value of the wrong type) is made the objects the item types make of it, for that field
of that item alone, and those are completed as before. A stored document that already is its
completion (the selection's fields in its order, each value written as it is) is kept, not
copied, and so is a list of them: fewer new objects to make, to free and for the collector to
walk.

A `DateTime` field's column is written in one call when it holds whole seconds in UTC
(`timefmt.format_iso_column`), as REST writes its ISO twins; any other column a value at a time.

Anything the completion does not expect (a value out of range, a stored value of the wrong
type) gives up as before: graphql-core then completes the Strawberry objects the resolver would
have built, made from the same rows (`Rows.__iter__`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from operator import methodcaller
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    GraphQLType,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    is_non_null_type,
    is_union_type,
)

from gql_badges.badges.items import BY_NAME, Endpoint
from gql_badges.graphql import _internals as internals
from gql_badges.graphql._internals import FieldGroup
from gql_badges.graphql.plan import (
    Compiler,
    Completer,
    GiveUp,
    NotCovered,
    Read,
    completed_by_value,
)
from gql_badges.graphql.types import (
    CONSTRAINT_KIND,
    CONSTRAINT_TYPES,
    CONSTRAINT_UNION,
    STORED_FIELDS,
    StoredTable,
    as_stored,
    field_conversion,
    kept_class,
    kept_entries,
)
from gql_badges.timefmt import format_iso, format_iso_column

# The GraphQL item type of each endpoint, by name.
_ENDPOINTS = {"Badge": Endpoint.CUSTOMER, "CustomerBadge": Endpoint.MANAGEMENT}


def item_writer(
    compiler: Compiler, object_type: GraphQLObjectType, details: FieldGroup
) -> Completer | None:
    """A function writing a page's `Item`s as the completed list of `object_type`'s selection;
    None when `object_type` is not an item type."""
    endpoint = _ENDPOINTS.get(object_type.name)
    if endpoint is None:
        return None
    stored = StoredCompiler(compiler.operation)
    namespace: dict[str, Any] = {"GiveUp": GiveUp}
    lines: list[str] = []
    columns: list[str] = []
    keys: list[str] = []
    for index, (key, sub) in enumerate(compiler.collect(object_type, details).items()):
        name = sub[0].node.name.value
        if name == "__typename":
            keys.append(f"{key!r}: {object_type.name!r}")
            continue
        field = BY_NAME.get(name)
        field_def = object_type.fields.get(name)
        if field is None or field_def is None or endpoint not in field.graphql:
            raise NotCovered
        read = f"badge.get({field.stored!r})" if field.stored is not None else f"R{index}(item)"
        namespace[f"R{index}"] = field.value
        convert = field_conversion(field)
        keys.append(f"{key!r}: r{index}")
        if convert is not None and is_composite_type(get_named_type(field_def.type)):
            inner = get_nullable_type(field_def.type)
            try:  # written from the stored sub-documents, no object each
                namespace[f"S{index}"] = stored.value(field_def.type, sub)
                if is_list_type(inner):  # its entries completed inline
                    namespace[f"E{index}"] = stored.value(inner.of_type, sub)
            except NotCovered:
                pass
            else:
                # A stored value it does not expect is made the objects the item types make of
                # it, and completed as they are (graphql-core's, if that gives up too).
                namespace[f"V{index}"] = convert
                namespace[f"C{index}"] = compiler.value(field_def.type, sub)
                written = f"S{index}(v)"
                if is_list_type(inner):
                    written = f"[E{index}(e) for e in v] if type(v) is list else {written}"
                    unchanged = stored.unchanged(get_named_type(inner), sub)
                    if unchanged is not None:  # a list of its own completions: kept whole
                        namespace[f"U{index}"] = unchanged
                        written = f"v if type(v) is list and all(map(U{index}, v)) else {written}"
                lines += [
                    f"        v = {read}",
                    "        try:",
                    f"            r{index} = {written}",
                    "        except GiveUp:",
                    f"            r{index} = C{index}(V{index}(v))",
                ]
                continue
        how = Read(read, convert, kept_class(convert))
        if _dated(field_def, how):
            # The page's values of this date read once; written in one call when the column
            # allows it (`T` not None), else each as before.
            if field.stored is not None:
                namespace[f"G{index}"] = methodcaller("get", field.stored)
                columns.append(f"    D{index} = list(map(G{index}, badges))")
            else:
                columns.append(f"    D{index} = list(map(R{index}, items))")
            columns.append(f"    T{index} = ISO(D{index})")
            each = replace(how, expression=f"D{index}[n]")
            lines += [
                f"        if T{index} is not None:",
                f"            r{index} = T{index}[n]",
                "        else:",
                *compiler.field_lines(index, each, field_def, sub, namespace, indent=" " * 12),
            ]
            continue
        lines += compiler.field_lines(index, how, field_def, sub, namespace, indent="        ")
    namespace["ISO"] = format_iso_column
    source = "\n".join(
        [
            "def write(items):",
            "    written = []",
            "    append = written.append",
            "    badges = [item.badge for item in items]",
            *columns,
            "    for n, item in enumerate(items):",
            "        badge = badges[n]",
            *lines,
            "        append({" + ", ".join(keys) + "})",
            "    return written",
        ]
    )
    exec(compile(source, f"<plan {object_type.name} rows>", "exec"), namespace)
    write: Completer = namespace["write"]
    return write


def _dated(field_def: GraphQLField, read: Read) -> bool:
    """Whether a field is a nullable DateTime (a scalar `format_iso` writes) that its read's
    conversion keeps as it is: its page's column then may be written at once
    (`timefmt.format_iso_column`)."""
    type_ = field_def.type
    return (
        isinstance(type_, GraphQLScalarType)
        and type_.serialize is format_iso
        and read.kept is datetime
    )


class StoredCompiler(Compiler):
    """Builds completers of the sub-object types in `types.STORED_FIELDS` that read their
    stored documents (dicts) instead of their objects; `NotCovered` for any other object type.
    Lists, leaves and non-null are completed as `Compiler` does.

    A stored document that already is its completion (the selection's fields, in its order,
    each value one its field writes as it is) is kept, not copied (`AsStored`): with its
    `__typename` first or last, one dict made of it in a single call."""

    def object(
        self, object_type: GraphQLObjectType, details: FieldGroup, non_null: bool = False
    ) -> Completer:
        table = _stored_table(object_type)
        if table is None:
            raise NotCovered
        namespace: dict[str, Any] = {}
        head = ["    if type(value) is not dict: raise GiveUp"]
        kept = self.as_stored(object_type, details, table)
        if kept is not None:
            namespace.update(kept.namespace)
            head += [
                "    if tuple(value) == AK:",
                f"        {kept.unpack}",
                f"        if {kept.test}:",
                f"            return {kept.written}",
            ]
        head.append("    get = value.get")

        def read(field_def: GraphQLField) -> Read:
            attribute = internals.attribute_name(field_def)
            if attribute not in table:
                raise NotCovered
            stored, convert = table[attribute]
            if convert is as_stored:
                return Read(f"get({stored!r})")
            return Read(f"get({stored!r})", convert, kept_class(convert), kept_entries(convert))

        return self.object_function(object_type, details, non_null, namespace, head, read)

    def unchanged(self, type_: GraphQLType, details: FieldGroup) -> Callable[[Any], bool] | None:
        """A test of a stored document: whether it is, as it is, the completion of the object
        type `type_`'s selection (and so a list of such documents is kept whole). None when it
        cannot be: another type, a field not written as stored, or a `__typename`."""
        if not isinstance(type_, GraphQLObjectType):
            return None
        table = _stored_table(type_)
        kept = self.as_stored(type_, details, table) if table is not None else None
        if kept is None or kept.written != "value":
            return None
        namespace = dict(kept.namespace)
        source = "\n".join(
            [
                "def unchanged(value):",
                "    if type(value) is not dict or tuple(value) != AK:",
                "        return False",
                f"    {kept.unpack}",
                f"    return {kept.test}",
            ]
        )
        exec(compile(source, f"<plan {type_} as stored>", "exec"), namespace)
        test: Callable[[Any], bool] = namespace["unchanged"]
        return test

    def as_stored(
        self, object_type: GraphQLObjectType, details: FieldGroup, table: StoredTable
    ) -> AsStored | None:
        """How a stored document is told to be its own completion; None when none can be."""
        collected = list(self.collect(object_type, details).items())
        namespace: dict[str, Any] = {"ATEXT": frozenset({str})}
        keys: list[str] = []
        names: list[str] = []
        tests: list[str] = []
        before = after = ""
        for index, (key, sub) in enumerate(collected):
            name = sub[0].node.name.value
            if name == "__typename":  # written around the document, or not at all
                if index == 0:
                    before = f"{key!r}: {object_type.name!r}, "
                elif index == len(collected) - 1:
                    after = f", {key!r}: {object_type.name!r}"
                else:
                    return None
                continue
            field_def = object_type.fields.get(name)
            attribute = internals.attribute_name(field_def) if field_def is not None else None
            if field_def is None or attribute not in table:
                return None
            stored, convert = table[attribute]
            if stored != key:  # an alias, or a field stored under another name
                return None
            test = self._unchanged_value(f"a{index}", field_def.type, convert, sub, namespace)
            if test is None:
                return None
            keys.append(stored)
            names.append(f"a{index}")
            tests.append(test)
        namespace["AK"] = tuple(keys)
        return AsStored(
            unpack=f"{', '.join(names)}{',' * (len(names) == 1)} = value.values()"
            if names
            else "pass",
            test=" and ".join(tests) or "True",
            written=f"{{{before}**value{after}}}" if before or after else "value",
            namespace=namespace,
        )

    def _unchanged_value(
        self,
        name: str,
        type_: GraphQLOutputType,
        convert: Callable[[Any], Any],
        details: FieldGroup,
        namespace: dict[str, Any],
    ) -> str | None:
        """An expression true when the stored value `name` is its field's completion as it is
        (the field's conversion keeping it, its type writing it unchanged); None for a field
        whose values never are."""
        inner = get_nullable_type(type_)
        if isinstance(inner, GraphQLList):  # never null: the conversions make that empty
            return self._unchanged_list(name, inner, convert, details, namespace)
        kept = kept_class(convert)
        if isinstance(inner, GraphQLEnumType):
            members = internals.enum_class(inner)
            if members is None or kept is not members:
                return None
            namespace[f"W{name}"] = _own_completions(inner, members)
            test = f"(type({name}) is str and {name} in W{name})"
        else:
            cls = _SELF_COMPLETING.get(inner) if isinstance(inner, GraphQLScalarType) else None
            if cls is None or (convert is not as_stored and kept is not cls):
                return None
            test = f"type({name}) is {cls.__name__}"
            if cls is int:
                test = f"({test} and {GRAPHQL_MIN_INT} <= {name} <= {GRAPHQL_MAX_INT})"
        return test if is_non_null_type(type_) else f"({name} is None or {test})"

    def _unchanged_list(
        self,
        name: str,
        list_type: GraphQLList[Any],
        convert: Callable[[Any], Any],
        details: FieldGroup,
        namespace: dict[str, Any],
    ) -> str | None:
        entry = get_nullable_type(list_type.of_type)
        entries = kept_entries(convert)
        if entries is dict:  # a list of objects, each its own completion
            unchanged = self.unchanged(entry, details)
            if unchanged is None:
                return None
            namespace[f"U{name}"] = unchanged
            return f"(type({name}) is list and all(map(U{name}, {name})))"
        members = internals.enum_class(entry) if isinstance(entry, GraphQLEnumType) else None
        if members is None or entries is not members:
            return None
        # A list of texts, each its member's value and name: none dropped, each written as is.
        namespace[f"W{name}"] = _own_completions(entry, members)
        return (
            f"(type({name}) is list and {{*map(type, {name})}} <= ATEXT"
            f" and W{name}.issuperset({name}))"
        )

    def value(
        self, type_: GraphQLOutputType, details: FieldGroup, non_null: bool = False
    ) -> Completer:
        named = get_nullable_type(type_)
        if not (is_union_type(named) and named.name == CONSTRAINT_UNION):
            return super().value(type_, details, non_null)
        # A constraint: the member its stored type names (of a type not known: the objects').
        kinds = {cls: kind for kind, cls in CONSTRAINT_TYPES.items()}
        members: dict[object, Completer] = {
            kinds[origin]: self.object(member, details, non_null=True)
            for member in self.operation.schema.get_possible_types(named)
            if (origin := internals.type_origin(member)) in kinds
        }

        def complete_constraint(value: Any) -> Any:
            if type(value) is not dict:
                raise GiveUp
            complete = members.get(value.get(CONSTRAINT_KIND))
            if complete is None:
                raise GiveUp
            return complete(value)

        return complete_constraint


@dataclass(frozen=True)
class AsStored:
    """How a stored document is told to be, as it is, the completion of a selection: its keys
    are the selection's fields (`AK`, in its order), and once its values are unpacked
    (`unpack`), each passes its field's test (`test`, reading `namespace`). It is then written
    as `written`: itself, or one dict with the selection's `__typename` first or last."""

    unpack: str
    test: str
    written: str
    namespace: dict[str, Any]


# The leaf types that write a value of this class as it is (an Int: within 32 bits).
_SELF_COMPLETING: dict[GraphQLScalarType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


def _stored_table(object_type: GraphQLObjectType) -> StoredTable | None:
    origin = internals.type_origin(object_type)
    return STORED_FIELDS.get(origin) if origin is not None else None


def _own_completions(type_: GraphQLEnumType, members: type[Enum]) -> frozenset[str]:
    """The stored texts an enum's completion writes as they are: its members' values that are
    also their names."""
    return frozenset(
        value
        for value, name in completed_by_value(type_, members).items()
        if type(value) is str and value == name
    )


__all__: Sequence[str] = ["AsStored", "StoredCompiler", "item_writer"]
