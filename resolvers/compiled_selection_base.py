"""What compiling a selection needs of graphql-core: its fields, collected as the executor does.

`Collector` gathers the fields a selection set holds for one runtime type (through fragments,
aliases and `@skip`/`@include`, with the operation's variables), merged by response key, in
response order, as graphql-core's executor collects them; a selection it could only answer in
parts (`@defer`, fragment variables) is `NotCompiled`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
)

from database.json_sql import sql_string
from schema import strawberry_compat as compat

CASE = '"case"'
"""The case table as the page statement names it."""
NOW = "yk.now"
"""The request's clock, as `database.compiled_reads` joins it (isOverdue)."""


class NotCompiled(Exception):
    """The selection holds a field, directive or shape the compiler does not cover."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a selection set: its response key, its name and its nodes."""

    key: str
    name: str
    nodes: tuple[FieldNode, ...]


@dataclass(frozen=True, slots=True)
class Collector:
    """What collecting a selection set needs of the operation (from the resolver's info)."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Any
    operation: OperationDefinitionNode

    @classmethod
    def of(cls, info: Any) -> Collector:
        """The collector of the operation a resolver runs in."""
        return cls(info.schema, info.fragments, info.variable_values, info.operation)

    def fields(self, runtime: GraphQLObjectType, nodes: Sequence[FieldNode]) -> list[Field]:
        """The fields selected on `runtime` under `nodes`, merged by response key, in order."""
        grouped = compat.collect_selection(
            self.schema, self.fragments, self.variables, self.operation, runtime, nodes
        )
        if grouped is None:
            raise NotCompiled("@defer or fragment variables")
        return [Field(key, found[0].name.value, tuple(found)) for key, found in grouped.items()]


def object_type(kind: Any) -> GraphQLObjectType:
    """The object type under non-null and list wrappers."""
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    if not isinstance(kind, GraphQLObjectType):
        raise NotCompiled(f"{kind} is not an object type")
    return kind


def typename(runtime: GraphQLObjectType) -> str:
    """`__typename` as JSON text in SQL."""
    return sql_string(f'"{runtime.name}"')
