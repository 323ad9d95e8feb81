"""Item selections: which item fields a request selected, and every field written out.

`selected_item_fields` reads the fields a document selects on a page's items, so only those are
fetched. `every_item_field` writes all of an endpoint's item fields as GraphQL text: the item's
fields come from the item table; what each sub-object selects comes from the schema (every
field, recursively; every member of a union, each behind `__typename`). The benchmark and the
tests use it to ask for everything an item has.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from strawberry.types import Info

from gql_badges.badges.items import Endpoint, graphql_fields
from gql_badges.graphql._internals import FragmentSpread, InlineFragment, SelectedField, Selection

ITEM_TYPES = {Endpoint.CUSTOMER: "Badge", Endpoint.MANAGEMENT: "CustomerBadge"}


def _sub_selection(schema: GraphQLSchema, type_name: str, field: str) -> str:
    owner = schema.type_map[type_name]
    assert isinstance(owner, GraphQLObjectType | GraphQLInterfaceType), type_name
    named = get_named_type(owner.fields[field].type)
    if isinstance(named, GraphQLUnionType):
        members = " ".join(
            f"... on {member.name} {{ {_every(schema, member.name)} }}" for member in named.types
        )
        return f" {{ __typename {members} }}"
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return f" {{ {_every(schema, named.name)} }}"
    return ""


def _every(schema: GraphQLSchema, type_name: str) -> str:
    owner = schema.type_map[type_name]
    assert isinstance(owner, GraphQLObjectType | GraphQLInterfaceType), type_name
    return " ".join(name + _sub_selection(schema, type_name, name) for name in owner.fields)


def every_item_field(schema: GraphQLSchema, endpoint: Endpoint, in_rest: bool = False) -> str:
    """`badgeMetaId orgId … customerConstraints { __typename ... on … { … } } …`; with
    `in_rest`, only the fields the endpoint's REST answer has too (not `group`, say)."""
    type_name = ITEM_TYPES[endpoint]
    return " ".join(
        field.name + _sub_selection(schema, type_name, field.name)
        for field in graphql_fields(endpoint)
        if not in_rest or endpoint in field.rest
    )


def _field_names(selections: Iterable[Selection]) -> set[str]:
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            names |= _field_names(selection.selections)
    return names


def selected_item_fields(info: Info, list_field: str) -> set[str]:
    """The fields selected on the page's items, by every selection of the list: under aliases
    (`a: badges { name } b: badges { tags }`) and in fragments on the page, expanded."""
    names: set[str] = set()

    def collect(selections: Iterable[Selection]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name == list_field:
                    names.update(_field_names(selection.selections))
            elif isinstance(selection, FragmentSpread | InlineFragment):
                collect(selection.selections)

    for page in info.selected_fields:
        collect(page.selections)
    return names
