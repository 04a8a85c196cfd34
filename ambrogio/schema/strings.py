"""A validation rule: string literals in a document that PostgreSQL could not store.

A NUL character (written ``\\u0000`` in a GraphQL string, or sent raw) is valid GraphQL but
not valid PostgreSQL text; it is refused here, before anything runs, as ``BAD_USER_INPUT``
naming the argument (``text``, or ``filter.categories`` inside an input object). The
lexer already refuses lone surrogates in literals; variables are checked by the transport
(``ambrogio.http.transport``).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    VariableDefinitionNode,
)


class TextLiterals(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.path: list[str] = []

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
        self.path.append(node.variable.name.value)  # a default value names its variable

    def leave_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
        self.path.pop()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_argument(self, node: ArgumentNode, *_: Any) -> None:
        self.path.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.path.append(node.name.value)

    def leave_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self.path.pop()

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" not in node.value:
            return
        field = ".".join(self.path)
        shown = node.value[:80].replace("\x00", "\\u0000")
        self.report_error(
            GraphQLError(
                f'{field}: "{shown}" contains a NUL character (U+0000), which is not text',
                node,
                extensions={"code": "BAD_USER_INPUT", "field": field, "value": shown},
            )
        )
