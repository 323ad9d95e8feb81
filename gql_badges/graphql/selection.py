"""A selection of every field of an endpoint's item type, written out as GraphQL text.

The item's fields come from the item table; what each sub-object selects comes from the schema
(every field, recursively; every member of a union, each behind `__typename`). The benchmark and
the tests use it to ask for everything an item has.
"""

from __future__ import annotations

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

from gql_badges.badges.items import Endpoint, graphql_fields

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


def every_item_field(schema: GraphQLSchema, endpoint: Endpoint) -> str:
    """`badgeMetaId orgId … customerConstraints { __typename ... on … { … } } …`"""
    type_name = ITEM_TYPES[endpoint]
    return " ".join(
        field.name + _sub_selection(schema, type_name, field.name)
        for field in graphql_fields(endpoint)
    )
