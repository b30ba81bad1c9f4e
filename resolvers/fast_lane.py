"""The compiled fast lane: a known, fully compiled query answered without the GraphQL engine.

Once a document has run on the usual path with every root field answered by the query
compiler (`compiled_pages`: JSON the database wrote) and no error, later requests of the same
document and operation against the same schema skip what cannot change: parsing, validation,
the limits measured on the document, execution's machinery. What can change is done again,
each time, by the same code the usual path runs: the caller is read and must be signed in
(every compiled root field is open to any signed-in caller, `policy.STATIC_RULES`), the
variables are checked against the input bounds (`schema.input_checks`) and coerced, the root
fields are collected with them (`@skip`/`@include`), and each root field's own resolver runs
with its arguments, so scope, hidden items, paging and filters are worked out exactly as
before.

Anything else, a resolver's error, a value that is not compiled JSON, an unknown document, a
caller the lane would refuse, hands the request back to the usual path (returns None), which
answers it in full: the lane only reads, so running the request again changes nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import msgspec
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_argument_values,
    get_operation_ast,
    get_variable_values,
    parse,
)

from resolvers import input_bounds
from schema import strawberry_compat as compat
from schema.input_checks import variable_problems, variable_uses

log = logging.getLogger(__name__)

KNOWN_PER_SCHEMA = 256
"""Documents kept per schema (least recently used dropped first)."""

ContextFor = Callable[[Any], Awaitable[Any]]
"""Makes the request's context (`resolvers.context.Context`) from a Starlette request."""


@dataclass(frozen=True, slots=True)
class Known:
    """A document whose operation the compiler answers whole."""

    operation: OperationDefinitionNode
    fragments: Mapping[str, FragmentDefinitionNode]
    uses: Any
    """Where the operation uses each variable, for the input bounds."""


class FastLane:
    """The documents known to compile, per schema, and how to answer them (module note)."""

    def __init__(self) -> None:
        self._known: WeakKeyDictionary[GraphQLSchema, OrderedDict[tuple[str, str | None], Known]]
        self._known = WeakKeyDictionary()
        self.answered = 0
        """Requests the lane answered (the rest went the usual way)."""

    def learn(self, schema: GraphQLSchema, query: str, name: str | None) -> None:
        """Remember a document the usual path just answered wholly from compiled JSON."""
        known = self._known.setdefault(schema, OrderedDict())
        if (query, name) in known:
            return
        document: DocumentNode = parse(query)
        operation = get_operation_ast(document, name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        known[(query, name)] = Known(operation, fragments, variable_uses(schema, document))
        while len(known) > KNOWN_PER_SCHEMA:
            known.popitem(last=False)

    def forget(self, schema: GraphQLSchema, query: str, name: str | None) -> None:
        """Stop taking a document down the lane (it answered something other than JSON)."""
        self._known.get(schema, OrderedDict()).pop((query, name), None)

    def knows_any(self) -> bool:
        """Whether any document is taken down the lane (for tests and diagnostics)."""
        return any(self._known.values())

    def knows(self, schema: GraphQLSchema, query: str, name: str | None) -> bool:
        """Whether a document is taken down the lane."""
        return (query, name) in self._known.get(schema, OrderedDict())

    async def answer(
        self,
        schema: GraphQLSchema,
        query: str,
        name: str | None,
        variables: Mapping[str, Any] | None,
        context: Any,
    ) -> bytes | None:
        """The response body, or None: the usual path answers (see the module note)."""
        known = self._known.get(schema, OrderedDict()).get((query, name))
        if known is None:
            return None
        if context.principal is None or not context.compiled_queries:
            return None
        given = dict(variables or {})
        if given and variable_problems(known.uses, given, input_bounds.BOUNDS):
            return None
        coerced = get_variable_values(schema, known.operation.variable_definitions or (), given)
        if isinstance(coerced, list):  # refused: the usual path says why
            return None
        roots = compat.collect_root(schema, known.fragments, coerced, known.operation)
        if roots is None:
            return None
        root = schema.query_type
        assert root is not None
        values = coerced.coerced
        parts: list[bytes] = []
        for key, nodes in roots.items():
            field = root.fields.get(nodes[0].name.value)
            if field is None or field.resolve is None:
                return None
            try:
                arguments = get_argument_values(field, nodes[0], coerced)
                info = compat.root_resolve_info(
                    schema, known.operation, known.fragments, values, nodes, field, context
                )
                result = field.resolve(None, info, **arguments)
                if hasattr(result, "__await__"):
                    result = await result
            except GraphQLError:
                return None  # the usual path reports it, located
            if result is None:
                parts.append(f'"{key}":null'.encode())
            elif isinstance(result, msgspec.Raw):
                parts.append(f'"{key}":'.encode() + bytes(result))
            else:
                self.forget(schema, query, name)
                return None
        self.answered += 1
        return b'{"data":{' + b",".join(parts) + b"}}"


def compiled_whole(data: Mapping[str, Any] | None) -> bool:
    """Whether a result's root fields were all answered from compiled JSON (or null)."""
    return bool(data) and all(
        value is None or isinstance(value, msgspec.Raw) for value in (data or {}).values()
    )
