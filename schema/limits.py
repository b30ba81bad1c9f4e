"""Bounds on what one query may ask: depth, aliases and an estimated cost.

They are validation rules, created once, so strawberry's validation cache still applies (a rule
added per request would make every request a cache miss).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

MAX_DEPTH = 12
MAX_ALIASES = 40
MAX_COST = 50_000
DEFAULT_PAGE = 50
MAX_PAGE = 200
UNPAGED_LIST_FACTOR = 10
"""Lists without `first` (events, stages of one case) are short; count them as ten."""


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d
        for d in context.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> list[tuple[FieldNode, frozenset[str]]]:
    """Fields of a selection set with fragments flattened (each fragment once per path)."""
    found: list[tuple[FieldNode, frozenset[str]]] = []
    if selection_set is None:
        return found
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append((selection, seen))
        elif isinstance(selection, InlineFragmentNode):
            found.extend(_fields(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                found.extend(_fields(fragment.selection_set, fragments, seen | {name}))
    return found


def _multiplier(
    node: FieldNode, field: GraphQLField | None, parent: GraphQLNamedType | None
) -> int:
    """How many times a field's selection may repeat: its page size, a list factor, or once."""
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), MAX_PAGE))
            return MAX_PAGE  # a variable: assume the largest page
    if field is not None and field.args.get("first") is not None:
        return DEFAULT_PAGE
    if field is None or not _is_list(field.type):
        return 1
    if parent is not None and parent.name.endswith("Connection"):
        return 1  # edges and nodes of a page are counted by the page's `first`
    return UNPAGED_LIST_FACTOR


def _is_list(kind: GraphQLOutputType) -> bool:
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def measure(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    parent: GraphQLNamedType | None,
    seen: frozenset[str] = frozenset(),
    depth: int = 0,
) -> tuple[int, int, int]:
    """(depth, aliases, cost) of a selection set; introspection fields are free."""
    max_depth, aliases, cost = depth, 0, 0
    for node, path_seen in _fields(selection_set, fragments, seen):
        if node.alias is not None:
            aliases += 1  # aliased introspection counts too: it is not free to answer
        if node.name.value.startswith("__"):
            continue
        if node.selection_set is None:
            cost += 1
            continue
        field = (
            parent.fields.get(node.name.value)
            if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
            else None
        )
        child_type = get_named_type(field.type) if field is not None else None
        child_depth, child_aliases, child_cost = measure(
            node.selection_set, fragments, child_type, path_seen, depth + 1
        )
        max_depth = max(max_depth, child_depth)
        aliases += child_aliases
        cost += 1 + _multiplier(node, field, parent) * child_cost
    return max_depth, aliases, cost


class QueryBounds(ValidationRule):
    """Refuse operations deeper, more aliased or costlier than the limits."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        """Measure each operation once."""
        schema = self.context.schema
        root = schema.get_root_type(node.operation)
        depth, aliases, cost = measure(node.selection_set, _fragments(self.context), root)
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(f"the query is {depth} levels deep; at most {MAX_DEPTH}", node)
            )
        if aliases > MAX_ALIASES:
            self.report_error(
                GraphQLError(f"the query uses {aliases} aliases; at most {MAX_ALIASES}", node)
            )
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"the query may resolve about {cost} fields; at most {MAX_COST}: ask for "
                    "smaller pages or fewer fields",
                    node,
                )
            )
