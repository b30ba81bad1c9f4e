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
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_subfields
from graphql.execution.values import VariableValues

from database.json_sql import sql_string

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
    fragments: Mapping[str, FragmentDetails]
    variables: Any
    operation: OperationDefinitionNode

    @classmethod
    def of(cls, info: Any) -> Collector:
        """The collector of the operation a resolver runs in."""
        fragments = {name: FragmentDetails(d) for name, d in info.fragments.items()}
        variables = info.variable_values
        if isinstance(variables, dict):  # strawberry hands the coerced values on as a dict
            variables = VariableValues(sources={}, coerced=variables)
        return cls(info.schema, fragments, variables, info.operation)

    def fields(self, runtime: GraphQLObjectType, nodes: Sequence[FieldNode]) -> list[Field]:
        """The fields selected on `runtime` under `nodes`, merged by response key, in order."""
        details = [FieldDetails(node, None) for node in nodes]
        collected = collect_subfields(
            self.schema, dict(self.fragments), self.variables, self.operation, runtime, details
        )
        if collected.new_defer_usages:
            raise NotCompiled("@defer")
        out: list[Field] = []
        for key, grouped in collected.grouped_field_set.items():
            if any(d.defer_usage or d.fragment_variable_values for d in grouped):
                raise NotCompiled("deferred or fragment-variable fields")
            out.append(Field(key, grouped[0].node.name.value, tuple(d.node for d in grouped)))
        return out


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
