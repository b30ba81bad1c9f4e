"""Bounds on what one query may ask: depth, aliases and an estimated cost.

They are validation rules, created once, so strawberry's validation cache still applies (a rule
added per request would make every request a cache miss).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

MAX_TOKENS = 10_000
"""Tokens a document may have; the parser stops there, before building a huge tree."""
MAX_DOCUMENT_LENGTH = 100_000
"""Characters a GraphQL document may have. Variables travel apart and may use the rest of the
body limit; the largest real document here is a few kB, and graphql's lexer walks every
character in Python (a 1 MB document of spaces held the event loop for 70 ms)."""
# One alternative per GraphQL token (comments apart). Characters no token starts with
# (whitespace, commas) are skipped by the regex engine itself, and every alternative ends at
# the first place it can (possessive runs, or a lazy run up to its end or the end of the text),
# so counting is linear in the document.
_TOKEN = re.compile(
    "|".join(
        (
            r"(?P<comment>#[^\n\r]*+)",
            r'"""(?:\\"""|[\s\S])*?(?:"""|\Z)',  # a block string (\""" inside is escaped)
            r'"(?:[^"\\\n\r]++|\\.)*+(?:"|$)',  # a string, ended by its line if unterminated
            r"\.\.\.",
            r"-?[0-9]++(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?",
            r"[_A-Za-z][_0-9A-Za-z]*+",
            r"[!$&():=@\[\]{|}]",
        )
    ),
    re.MULTILINE,
)


def document_refusal(source: str) -> tuple[str, str] | None:
    """Why a document may not even be parsed (message, code), or None; work bounded by limits."""
    if len(source) > MAX_DOCUMENT_LENGTH:
        return (
            f"the GraphQL document has {len(source)} characters; at most {MAX_DOCUMENT_LENGTH} "
            "(send large values as variables)",
            "DOCUMENT_TOO_LARGE",
        )
    count = 0
    for match in _TOKEN.finditer(source):
        if match.lastgroup != "comment":
            count += 1
            if count > MAX_TOKENS:
                return (
                    f"Syntax Error: Document contains more than {MAX_TOKENS} tokens. "
                    "Parsing aborted.",
                    "GRAPHQL_PARSE_FAILED",
                )
    return None


MAX_DEPTH = 12
MAX_ALIASES = 40
MAX_COST = 50_000
DEFAULT_PAGE = 50
MAX_PAGE = 200
UNPAGED_LIST_FACTOR = 10
"""Lists without `first` (events, stages of one case) are short; count them as ten."""
INTROSPECTION_COST = {"__schema": 5_000, "__type": 50}
"""What answering introspection costs, whatever it selects: its answer is bounded by the
schema, and its nesting by graphql's MaxIntrospectionDepthRule (one of the specified rules)."""


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d
        for d in context.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }


def _multiplier(
    node: FieldNode, field: GraphQLField | None, parent: GraphQLNamedType | None
) -> int:
    """How many times a field's selection may repeat: its page size, a list factor, or once."""
    sizes = [
        max(1, min(int(a.value.value), MAX_PAGE)) if isinstance(a.value, IntValueNode) else MAX_PAGE
        for a in node.arguments or ()
        if a.name.value in ("first", "last")  # a variable: assume the largest page
    ]
    if sizes:
        return max(sizes)
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


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set asks for: nesting below it, aliases and estimated field values."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


class Measurer:
    """Measures selection sets, each named fragment once.

    A fragment's measure does not depend on where it is spread (its type condition fixes the
    parent type), so it is computed once and added at every spread: the work is linear in the
    document. Expanding spreads on every path instead doubles per fragment that spreads
    another twice, and a kilobyte of fragments then costs minutes and gigabytes.
    """

    def __init__(
        self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self._done: dict[str, Measure] = {}
        self._open: set[str] = set()
        self.visited = 0
        """Selections looked at: a check of the bound on this check's own work."""

    def fragment(self, name: str) -> Measure:
        """A named fragment's measure (nothing for an unknown or cyclic one: graphql refuses)."""
        found = self._done.get(name)
        if found is not None:
            return found
        definition = self.fragments.get(name)
        if definition is None or name in self._open:
            return Measure()
        self._open.add(name)
        found = self.selection_set(
            definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
        )
        self._open.discard(name)
        self._done[name] = found
        return found

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> Measure:
        """(depth, aliases, cost) of a selection set; `__typename` is free."""
        depth = aliases = cost = 0
        for selection in selection_set.selections if selection_set is not None else ():
            self.visited += 1
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1  # an aliased __typename counts too: it is not free to answer
                if selection.name.value == "__typename":
                    continue
                if selection.name.value in INTROSPECTION_COST:
                    child = self.selection_set(selection.selection_set, None)
                    aliases += child.aliases
                    cost += INTROSPECTION_COST[selection.name.value]
                    continue
                if selection.selection_set is None:
                    cost += 1
                    continue
                field = _field(parent, selection.name.value)
                child = self.selection_set(
                    selection.selection_set,
                    get_named_type(field.type) if field is not None else None,
                )
                depth = max(depth, child.depth + 1)
                aliases += child.aliases
                cost += 1 + _multiplier(selection, field, parent) * child.cost
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.selection_set(
                    selection.selection_set,
                    self.schema.get_type(condition.name.value) if condition else parent,
                )
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            else:  # pragma: no cover - graphql has no other selection
                continue
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            cost += inner.cost
        return Measure(depth, aliases, cost)


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    """The field `name` of `parent`, if it is an object or interface that has one."""
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


class QueryBounds(ValidationRule):
    """Refuse operations deeper, more aliased or costlier than the limits."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        """Measure each operation once."""
        schema = self.context.schema
        root = schema.get_root_type(node.operation)
        measured = Measurer(schema, _fragments(self.context)).selection_set(
            node.selection_set, root
        )
        depth, aliases, cost = measured.depth, measured.aliases, measured.cost
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
