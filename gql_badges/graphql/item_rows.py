"""A page's items written by a compiled plan straight from the item rows, as REST's writer does.

The resolvers' way (`types.to_badges`) builds a Strawberry object per item, every selected
field converted into it, and the plan then reads each attribute back. For a planned request the
root field's work lists the page's derived rows instead (`plan.Rows`), and the plan writes each
item's dict from its row: per selected field, the item table's read (a stored field's read is
inline, `badge.get(...)`), the item types' own conversion of that value
(`types.field_conversion`, so both paths convert alike), and the field's completion inline, as
`Compiler.object` writes it. There is no object per item. Images are written the same way from
the stored sub-documents, per field the stored name and conversion of the table the item types'
own conversion reads (`types.IMAGE_FIELDS`): no object per image either. The other sub-objects
(ownership, group, constraints) are still made by the item types' conversions.

Anything the completion does not expect (a value out of range, a stored value of the wrong
type) gives up as before: graphql-core then completes the Strawberry objects the resolver would
have built, made from the same rows (`Rows.__iter__`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    is_list_type,
    is_non_null_type,
    is_object_type,
)

from gql_badges.badges.items import BY_NAME, Endpoint
from gql_badges.graphql import _internals as internals
from gql_badges.graphql._internals import FieldGroup
from gql_badges.graphql.plan import Compiler, Completer, GiveUp, NotCovered
from gql_badges.graphql.types import IMAGE_FIELDS, field_conversion

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
    namespace: dict[str, Any] = {"GiveUp": GiveUp}
    lines: list[str] = []
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
        stored = _stored_list_writer(compiler, field_def, sub)
        if stored is not None:  # written from the stored sub-documents, no object each
            namespace[f"C{index}"] = stored
            lines.append(f"        r{index} = C{index}({read})")
            keys.append(f"{key!r}: r{index}")
            continue
        convert = field_conversion(field)
        if convert is not None:
            namespace[f"V{index}"] = convert
            read = f"V{index}({read})"
        lines += compiler.field_lines(index, read, field_def, sub, namespace, indent="        ")
        keys.append(f"{key!r}: r{index}")
    head = [
        "def write(items):",
        "    written = []",
        "    append = written.append",
        "    for item in items:",
        "        badge = item.badge",
    ]
    return _compiled(f"{object_type.name} rows", namespace, head, lines, keys)


# The object types written from their stored documents: each field's stored name and its
# conversion (by attribute), the table the item types' own conversion reads.
_STORED_OBJECTS: dict[str, dict[str, tuple[str, Callable[[Any], Any]]]] = {
    "BadgeImage": IMAGE_FIELDS,
}


def _stored_list_writer(
    compiler: Compiler, field_def: GraphQLField, details: FieldGroup
) -> Completer | None:
    """For a non-null list of non-null objects of a type in `_STORED_OBJECTS`, a function
    writing its completed value from the stored list of sub-documents, converting each field
    as the item types do; None for any other field. It gives up on anything else stored (not
    a list, an entry not an object, a value the conversion turns into an error): graphql-core
    then completes the objects, and says what is wrong."""
    type_ = field_def.type
    if not (is_non_null_type(type_) and is_list_type(type_.of_type)):
        return None
    entry = type_.of_type.of_type
    if not (is_non_null_type(entry) and is_object_type(entry.of_type)):
        return None
    object_type = entry.of_type
    table = _STORED_OBJECTS.get(object_type.name)
    if table is None:
        return None
    namespace: dict[str, Any] = {"GiveUp": GiveUp}
    lines: list[str] = []
    keys: list[str] = []
    for index, (key, sub) in enumerate(compiler.collect(object_type, details).items()):
        name = sub[0].node.name.value
        if name == "__typename":
            keys.append(f"{key!r}: {object_type.name!r}")
            continue
        sub_def = object_type.fields.get(name)
        attribute = internals.attribute_name(sub_def) if sub_def is not None else None
        if sub_def is None or attribute not in table:
            return None
        stored, convert = table[attribute]
        namespace[f"V{index}"] = convert
        lines += compiler.field_lines(
            index, f"V{index}(get({stored!r}))", sub_def, sub, namespace, indent="        "
        )
        keys.append(f"{key!r}: r{index}")
    head = [
        "def write(values):",
        "    if type(values) is not list: raise GiveUp",
        "    written = []",
        "    append = written.append",
        "    for value in values:",
        "        if type(value) is not dict: raise GiveUp",
        "        get = value.get",
    ]
    return _compiled(f"{object_type.name} stored", namespace, head, lines, keys)


def _compiled(
    label: str, namespace: dict[str, Any], head: list[str], lines: list[str], keys: list[str]
) -> Completer:
    """The `write` function of a generated list writer: `head` opens the loop over the list
    (binding `written`, `append` and what `lines` read), `lines` complete each field, `keys`
    make each entry's dict."""
    source = "\n".join(
        [
            *head,
            *lines,
            "        append({" + ", ".join(keys) + "})",
            "    return written",
        ]
    )
    exec(compile(source, f"<plan {label}>", "exec"), namespace)
    write: Completer = namespace["write"]
    return write


__all__: Sequence[str] = ["item_writer"]
