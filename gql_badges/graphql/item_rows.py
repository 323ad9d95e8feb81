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
of that item alone, and those are completed as before.

A `DateTime` field's column is written in one call when it holds whole seconds in UTC
(`timefmt.format_iso_column`), as REST writes its ISO twins; any other column a value at a time.

Anything the completion does not expect (a value out of range, a stored value of the wrong
type) gives up as before: graphql-core then completes the Strawberry objects the resolver would
have built, made from the same rows (`Rows.__iter__`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from operator import methodcaller
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    is_union_type,
)

from gql_badges.badges.items import BY_NAME, Endpoint
from gql_badges.graphql import _internals as internals
from gql_badges.graphql._internals import FieldGroup
from gql_badges.graphql.plan import Compiler, Completer, GiveUp, NotCovered, Read
from gql_badges.graphql.types import (
    CONSTRAINT_KIND,
    CONSTRAINT_TYPES,
    CONSTRAINT_UNION,
    STORED_FIELDS,
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
    Lists, leaves and non-null are completed as `Compiler` does."""

    def object(
        self, object_type: GraphQLObjectType, details: FieldGroup, non_null: bool = False
    ) -> Completer:
        origin = internals.type_origin(object_type)
        table = STORED_FIELDS.get(origin) if origin is not None else None
        if table is None:
            raise NotCovered
        head = ["    if type(value) is not dict: raise GiveUp", "    get = value.get"]

        def read(field_def: GraphQLField) -> Read:
            attribute = internals.attribute_name(field_def)
            if attribute not in table:
                raise NotCovered
            stored, convert = table[attribute]
            if convert is as_stored:
                return Read(f"get({stored!r})")
            return Read(f"get({stored!r})", convert, kept_class(convert), kept_entries(convert))

        return self.object_function(object_type, details, non_null, {}, head, read)

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


__all__: Sequence[str] = ["StoredCompiler", "item_writer"]
