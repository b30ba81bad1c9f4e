"""The query compiler's plans: a case list's or a case's selection, compiled once and kept.

A plan holds the SQL the database runs to write the selected cases' JSON (one text per case
and per distinct selection of the case, `compiled_selection`) and how the server splices those
texts into the connection it answers (edges, nodes, cursors, pageInfo, totalCount, typenames,
under their aliases). The arguments (filter, ordering, window) and the caller's scope are not
part of it: they are worked out per request by the same code the resolver path runs, so the
compiled path refuses, scopes and pages exactly as it does.

Plans are kept per served schema, keyed by the document, the operation, the root field's
response key, the variables `@skip`/`@include` may read, and what the caller may not read in
each business type (their "scope shape"): a caller with other hidden items gets a plan of its
own, in which those items are written `null`.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema

from database import json_sql
from metamodel import naming
from resolvers.compiled_selection import CaseCompiler
from resolvers.compiled_selection_base import CASE, Collector, Field, NotCompiled, object_type
from schema.type_classes import GeneratedTypes

PLANS_PER_SCHEMA = 512
"""Plans kept per schema (least recently used dropped first)."""

_PLANS: WeakKeyDictionary[GraphQLSchema, OrderedDict[tuple[Any, ...], Any]] = WeakKeyDictionary()

ANSWERED: Counter[str] = Counter()
"""Root fields planned, by outcome: "compiled" or "resolver" (exported at /metrics)."""

Hidden = Mapping[int, frozenset[str]]
"""Business type id -> the items the caller may not read."""


@dataclass(frozen=True, slots=True)
class Node:
    """Which projection writes a node."""

    projection: int


@dataclass(frozen=True, slots=True)
class Literal:
    """JSON text known when the plan is made (a `__typename`)."""

    text: str


@dataclass(frozen=True, slots=True)
class Edges:
    """`edges`: per row, its members (cursor, node, typename) in order."""

    members: tuple[tuple[str, str | Node | Literal], ...]


@dataclass(frozen=True, slots=True)
class Nodes:
    """`nodes`: each row's text of one projection."""

    projection: int


@dataclass(frozen=True, slots=True)
class Info:
    """`pageInfo`: its members (hasNextPage, …, or a typename) in order."""

    members: tuple[tuple[str, str | Literal], ...]


Part = Literal | Edges | Nodes | Info | str
"""A connection member; the string "totalCount" stands for the count."""


@dataclass(frozen=True, slots=True)
class ListPlan:
    """A connection's plan: its members in order and the projections the statement selects."""

    parts: tuple[tuple[str, Part], ...]
    projections: tuple[str, ...]
    uses_now: bool
    counts: bool
    cursors: bool
    """Whether an edge's cursor is selected (else only pageInfo's, when asked)."""
    end_cursors: bool = False
    """Whether pageInfo's startCursor or endCursor is selected."""


@dataclass(frozen=True, slots=True)
class CasePlan:
    """A single case's plan: the projection writing it (NULL for a type not served)."""

    projection: str
    uses_now: bool


def _cache(schema: GraphQLSchema) -> OrderedDict[tuple[Any, ...], Any]:
    found = _PLANS.get(schema)
    if found is None:
        found = _PLANS[schema] = OrderedDict()
    return found


def _key(info: Any, hidden: Hidden) -> tuple[Any, ...] | None:
    """The plan's cache key, or None when the document cannot be named (not kept then)."""
    location = info.operation.loc
    if location is None:
        return None
    switches = tuple(
        sorted(
            (name, value)
            for name, value in getattr(
                info.variable_values, "coerced", info.variable_values
            ).items()
            if isinstance(value, bool)
        )
    )
    shape = tuple(sorted((i, tuple(sorted(h))) for i, h in hidden.items() if h))
    return (location.source.body, location.start, info.path.key, switches, shape)


def _kept(info: Any, hidden: Hidden, make: Any) -> Any:
    """The plan from the cache, or made and kept (a NotCompiled outcome is kept as None)."""
    key = _key(info, hidden)
    cache = _cache(info.schema)
    if key is not None and key in cache:
        cache.move_to_end(key)
        plan = cache[key]
        ANSWERED["resolver" if plan is None else "compiled"] += 1
        return plan
    try:
        plan = make()
    except NotCompiled:
        plan = None
    ANSWERED["resolver" if plan is None else "compiled"] += 1
    if key is not None:
        cache[key] = plan
        while len(cache) > PLANS_PER_SCHEMA:
            cache.popitem(last=False)
    return plan


class _Projections:
    """The distinct node projections of one plan, each compiled once."""

    def __init__(
        self,
        collector: Collector,
        dialect: str,
        served: Mapping[int, GeneratedTypes],
        hidden: Hidden,
    ) -> None:
        self._collector, self._dialect = collector, json_sql.for_dialect(dialect)
        self._served, self._hidden = served, hidden
        self.texts: list[str] = []
        self.uses_now = False

    def node(self, node_type: Any, field: Field) -> int:
        """The index of the projection writing the node that `field` selects."""
        text = self.case(node_type, field)
        if text not in self.texts:
            self.texts.append(text)
        return self.texts.index(text)

    def case(self, node_type: Any, field: Field) -> str:
        """The SQL writing one case for the selection: per business type when it is abstract."""
        schema = self._collector.schema
        by_text: dict[str, list[int]] = {}
        for type_id, generated in sorted(self._served.items()):
            runtime = schema.get_type(naming.type_names(generated.published.code)["Case"])
            if not isinstance(runtime, GraphQLObjectType):
                raise NotCompiled(f"no Case type for {generated.published.code}")
            if isinstance(node_type, GraphQLObjectType) and runtime is not node_type:
                raise NotCompiled("a list of one type holding another")
            hidden = self._hidden.get(type_id, frozenset())
            compiler = CaseCompiler(self._collector, self._dialect, generated, hidden)
            made = compiler.compile(runtime, field.nodes)
            self.uses_now = self.uses_now or made.uses_now
            by_text.setdefault(made.sql, []).append(type_id)
        if len(by_text) == 1 and isinstance(node_type, GraphQLObjectType):
            return next(iter(by_text))
        whens = " ".join(
            f"WHEN {CASE}.business_type_id IN ({', '.join(map(str, ids))}) THEN {text}"
            for text, ids in by_text.items()
        )
        return f"(CASE {whens} ELSE NULL END)" if whens else "NULL"


def list_plan(
    info: Any, dialect: str, served: Mapping[int, GeneratedTypes], hidden: Hidden
) -> ListPlan | None:
    """The plan of a case list root field, None when its selection is not covered."""

    def make() -> ListPlan:
        collector = Collector.of(info)
        connection = object_type(info.return_type)
        projections = _Projections(collector, dialect, served, hidden)
        parts: list[tuple[str, Part]] = []
        cursors = counts = ends = False
        for field in collector.fields(connection, info.field_nodes):
            name = field.name
            if name == "__typename":
                parts.append((field.key, Literal(f'"{connection.name}"')))
            elif name == "totalCount":
                counts = True
                parts.append((field.key, "totalCount"))
            elif name == "nodes":
                node_type = _node_type(connection.fields[name].type)
                parts.append((field.key, Nodes(projections.node(node_type, field))))
            elif name == "edges":
                edges, cursor = _edges(collector, connection, field, projections)
                cursors = cursors or cursor
                parts.append((field.key, edges))
            elif name == "pageInfo":
                shown = _page_info(collector, connection, field)
                ends = ends or any(m in ("startCursor", "endCursor") for _, m in shown.members)
                parts.append((field.key, shown))
            else:
                raise NotCompiled(f"{connection.name}.{name}")
        return ListPlan(
            tuple(parts), tuple(projections.texts), projections.uses_now, counts, cursors, ends
        )

    plan: ListPlan | None = _kept(info, hidden, make)
    return plan


def case_plan(
    info: Any, dialect: str, served: Mapping[int, GeneratedTypes], hidden: Hidden
) -> CasePlan | None:
    """The plan of the `case` root field, None when its selection is not covered."""

    def make() -> CasePlan:
        collector = Collector.of(info)
        node_type = _node_type(info.return_type)
        projections = _Projections(collector, dialect, served, hidden)
        field = Field(info.path.key, info.field_name, tuple(info.field_nodes))
        return CasePlan(projections.case(node_type, field), projections.uses_now)

    plan: CasePlan | None = _kept(info, hidden, make)
    return plan


def _node_type(kind: Any) -> GraphQLObjectType | GraphQLInterfaceType:
    """A case list's (or case field's) node type: one business type's Case, or the interface."""
    while hasattr(kind, "of_type"):
        kind = kind.of_type
    if not isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
        raise NotCompiled(f"{kind} is not a case type")
    return kind


def _edges(
    collector: Collector, connection: GraphQLObjectType, field: Field, projections: _Projections
) -> tuple[Edges, bool]:
    edge = object_type(connection.fields[field.name].type)
    members: list[tuple[str, str | Node | Literal]] = []
    cursor = False
    for sub in collector.fields(edge, field.nodes):
        if sub.name == "__typename":
            members.append((sub.key, Literal(f'"{edge.name}"')))
        elif sub.name == "cursor":
            cursor = True
            members.append((sub.key, "cursor"))
        elif sub.name == "node":
            node_type = _node_type(edge.fields[sub.name].type)
            members.append((sub.key, Node(projections.node(node_type, sub))))
        else:
            raise NotCompiled(f"{edge.name}.{sub.name}")
    return Edges(tuple(members)), cursor


_PAGE_INFO = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


def _page_info(collector: Collector, connection: GraphQLObjectType, field: Field) -> Info:
    target = object_type(connection.fields[field.name].type)
    members: list[tuple[str, str | Literal]] = []
    for sub in collector.fields(target, field.nodes):
        if sub.name == "__typename":
            members.append((sub.key, Literal(f'"{target.name}"')))
        elif sub.name in _PAGE_INFO:
            members.append((sub.key, sub.name))
        else:
            raise NotCompiled(f"{target.name}.{sub.name}")
    return Info(tuple(members))
