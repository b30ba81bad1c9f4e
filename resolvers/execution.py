"""A short path through graphql-core for plain leaf fields: the attribute, serialised.

A page of 50 cases with 25 data items is some 1,400 field values, nearly all of them plain:
a scalar or enum read from an attribute, with no arguments and no resolver of its own.
graphql-core gives each the whole machinery of a field (a resolve-info object, the resolver
call through strawberry's default, the awaitable checks, the completion dispatch), some 4.5 µs
a value, most of a page's CPU. For such a field this execution context reads the attribute
and serialises it with the field's own scalar or enum type, as graphql-core's leaf completion
would; anything else (nulls in non-null fields, values a scalar refuses, fields with
arguments, resolvers or middleware) goes the full way, so errors read as they always did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import msgspec
from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)

from schema import strawberry_compat as compat

Leaf = tuple[str, Callable[[Any], Any], bool]
"""How to answer a plain leaf field: (Python attribute, serialise, nullable)."""

_PLAIN: WeakKeyDictionary[GraphQLObjectType, dict[str, Leaf]] = WeakKeyDictionary()
"""Per object type of the served schemas, its plain leaf fields (made at first use)."""


def plain_leaves(parent_type: GraphQLObjectType) -> dict[str, Leaf]:
    """The fields of a type that are read from an attribute and are a scalar or an enum."""
    found: dict[str, Leaf] = {}
    for name, field in parent_type.fields.items():
        definition = (field.extensions or {}).get("strawberry-definition")
        resolve = field.resolve
        if field.args or definition is None or resolve is None:
            continue
        if not getattr(resolve, "_is_default", False):  # strawberry's attribute reader only
            continue
        kind, nullable = field.type, True
        if isinstance(kind, GraphQLNonNull):
            kind, nullable = kind.of_type, False
        if isinstance(kind, GraphQLScalarType | GraphQLEnumType):
            found[name] = (definition.python_name, kind.serialize, nullable)
    return found


class Execution(compat.ExecutionContext):
    """strawberry's execution context, with the short path for plain leaf fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # Middleware wraps every resolver: with any, every field goes the full way.
        self._short = manager is None or getattr(manager, "_middleware_resolvers", None) is None
        self._leaves: dict[GraphQLObjectType, dict[str, Leaf]] = {}

    def complete_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A field the query compiler answered is its JSON already (`compiled_pages`): as is."""
        if isinstance(result, msgspec.Raw):
            return result
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _leaves_of(self, parent_type: GraphQLObjectType) -> dict[str, Leaf]:
        found = self._leaves.get(parent_type)
        if found is None:
            found = _PLAIN.get(parent_type)
            if found is None:
                found = _PLAIN[parent_type] = plain_leaves(parent_type)
            self._leaves[parent_type] = found
        return found

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """Plain leaves answered in place; when every field is one, the object is done here.

        graphql-core's own loop, with the short path in it; any other field (an object, a
        list, a resolver) or a leaf the short path will not take goes through the full way.
        """
        if not self._short:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        leaves = self._leaves_of(parent_type)
        results: dict[str, Any] = {}
        others: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            leaf = leaves.get(field_details_list[0].node.name.value)
            if leaf is not None:
                attribute, serialize, nullable = leaf
                value = getattr(source_value, attribute, Undefined)
                if value is None and nullable:
                    results[response_name] = None
                    continue
                if value is not None and value is not Undefined:
                    try:
                        serialized = serialize(value)
                    except Exception:  # the full path reports it, as it always did
                        serialized = None
                    if serialized is not None and serialized is not Undefined:
                        results[response_name] = serialized
                        continue
            others[response_name] = field_details_list
            results[response_name] = Undefined  # keeps the order of the selection
        if not others:
            return results
        rest: Any = super().execute_fields(
            parent_type, source_value, path, others, position_context
        )
        if self.is_awaitable(rest):

            async def merged() -> dict[str, Any]:
                return _merge(results, await rest)

            return merged()
        return _merge(results, rest)


def _merge(results: dict[str, Any], rest: dict[str, Any]) -> dict[str, Any]:
    """The short answers with the rest in their places; fields the schema lacks are left out."""
    for name, value in rest.items():
        results[name] = value
    return {name: value for name, value in results.items() if value is not Undefined}
