"""graphql-core's validation rules as this gateway runs them, with what an error means
attached where the rule knows it (the type it checks), instead of read back from its message.

    validate(schema, document, with_enum_details(specified_rules))

A literal that is not a value of its enum (`badgeType: EARNT`) says which values are allowed in
`extensions.details`; graphql-core suggests only the closest one.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import (
    ASTValidationRule,
    GraphQLEnumType,
    GraphQLError,
    NullValueNode,
    ValuesOfCorrectTypeRule,
    get_named_type,
)


def allowed_values(enum: GraphQLEnumType) -> str:
    return "allowed values: " + ", ".join(enum.values)


def add_enum_details(error: GraphQLError, enum: GraphQLEnumType) -> None:
    error.extensions = {**(error.extensions or {}), "details": allowed_values(enum)}


class EnumValueDetails(ValuesOfCorrectTypeRule):
    """graphql-core's rule for literal values; its errors on an enum's values list them all."""

    def report_error(self, error: GraphQLError) -> None:
        input_type = self.context.get_input_type()
        named = get_named_type(input_type) if input_type is not None else None
        value = error.nodes[0] if error.nodes else None
        if isinstance(named, GraphQLEnumType) and not isinstance(value, NullValueNode):
            add_enum_details(error, named)
        super().report_error(error)


def with_enum_details(
    rules: Sequence[type[ASTValidationRule]],
) -> tuple[type[ASTValidationRule], ...]:
    """`rules`, with graphql-core's rule for literal values replaced by `EnumValueDetails`."""
    return tuple(EnumValueDetails if rule is ValuesOfCorrectTypeRule else rule for rule in rules)


__all__ = ["EnumValueDetails", "add_enum_details", "allowed_values", "with_enum_details"]
