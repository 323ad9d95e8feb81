"""A page's items written by a compiled plan straight from the item rows, as REST's writer does.

The resolvers' way (`types.to_badges`) builds a Strawberry object per item, every selected
field converted into it, and the plan then reads each attribute back. For a planned request the
root field's work lists the page's derived rows instead (`plan.Rows`), and the plan writes each
item's dict from its row: per selected field, the item table's read (a stored field's read is
inline, `badge.get(...)`), the item types' own conversion of that value
(`types.field_conversion`, so both paths convert alike), and the field's completion inline, as
`Compiler.object` writes it. There is no object per item.

Anything the completion does not expect (a value out of range, a stored value of the wrong
type) gives up as before: graphql-core then completes the Strawberry objects the resolver would
have built, made from the same rows (`Rows.__iter__`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import GraphQLObjectType

from gql_badges.badges.items import BY_NAME, Endpoint
from gql_badges.graphql._internals import FieldGroup
from gql_badges.graphql.plan import Compiler, Completer, GiveUp, NotCovered
from gql_badges.graphql.types import field_conversion

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
        convert = field_conversion(field)
        if convert is not None:
            namespace[f"V{index}"] = convert
            read = f"V{index}({read})"
        lines += compiler.field_lines(index, read, field_def, sub, namespace, indent="        ")
        keys.append(f"{key!r}: r{index}")
    source = "\n".join(
        [
            "def write(items):",
            "    written = []",
            "    append = written.append",
            "    for item in items:",
            "        badge = item.badge",
            *lines,
            "        append({" + ", ".join(keys) + "})",
            "    return written",
        ]
    )
    exec(compile(source, f"<plan {object_type.name} rows>", "exec"), namespace)
    write: Completer = namespace["write"]
    return write


__all__: Sequence[str] = ["item_writer"]
