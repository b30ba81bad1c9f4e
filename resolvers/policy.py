"""Who may call which root field: one table, enforced once per operation before it runs.

Every root field of the schema must have a rule (`build_schema` refuses to build otherwise), so
a new operation cannot be exposed by forgetting a decorator. Row-level scope (org subtree, posts)
is applied by the queries themselves; this decides whether the operation may run at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from metamodel.specs import Role


class Access(Enum):
    """What a root field needs from the caller."""

    PUBLIC = "PUBLIC"
    SIGNED_IN = "SIGNED_IN"
    MANAGER = "MANAGER"
    ADMIN = "ADMIN"


INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})
"""Introspection stays open: the SDL is published at /schema.graphql anyway."""


def denial(access: Access, principal: Any) -> tuple[str, str] | None:
    """(code, message) when `principal` may not use a field that needs `access`, else None."""
    if access is Access.PUBLIC:
        return None
    if principal is None:
        return ("UNAUTHENTICATED", "sign in first: send `Authorization: Bearer <token>`")
    roles = principal.roles
    if access is Access.ADMIN and Role.ADMIN.value not in roles:
        return ("FORBIDDEN", "this operation needs the ADMIN role")
    if access is Access.MANAGER and not roles & {Role.ADMIN.value, Role.MANAGER.value}:
        return ("FORBIDDEN", "this operation needs the MANAGER or ADMIN role")
    return None


def root_fields(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, Any],
    seen: frozenset[str] = frozenset(),
) -> Iterator[str]:
    """Names of the root fields an operation selects, through fragments."""
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                yield from root_fields(fragment.selection_set, fragments, seen | {name})


class Authorize(SchemaExtension):
    """Refuse the whole operation, before anything runs, if any root field is not allowed."""

    def __init__(self, rules: Mapping[tuple[str, str], Access]) -> None:
        super().__init__()
        self.rules = rules

    def on_execute(self) -> Iterator[None]:
        """Check the operation's root fields against the rule table."""
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if isinstance(operation, OperationDefinitionNode) and document is not None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            principal = getattr(context.context, "principal", None)
            kind = operation.operation.value
            for name in root_fields(operation.selection_set, fragments):
                if name in INTROSPECTION_FIELDS:
                    continue
                access = self.rules.get((kind, name), Access.ADMIN)
                refused = denial(access, principal)
                if refused is not None:
                    code, message = refused
                    error = GraphQLError(f"{name}: {message}", extensions={"code": code})
                    context.result = ExecutionResult(data=None, errors=[error])
                    break
        yield
