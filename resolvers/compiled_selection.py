"""A case's selection set compiled to one SQL expression that writes its JSON.

The query compiler's first half: given the fields a validated operation selects on a case
(through fragments, aliases and `@skip`/`@include`, collected as graphql-core collects them
for execution), write the SQL that builds the case's JSON object, key for key in the order the
response has them, with each value formatted as the resolver path formats it
(`database.json_sql`). An item the caller may not read is written `null`, as the resolver path
leaves it out. The current stages, tasks and deadlines are subqueries (`compiled_nested`). A field
the compiler does not cover (fees, the customer, events, a task's or deadline's case) raises
`NotCompiled`, and the root field runs on the resolver path instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLEnumType, GraphQLNonNull, GraphQLObjectType

from casework.model import OPEN_STATUSES
from database import json_sql
from database.json_sql import JsonDialect, sql_string
from metamodel import value_forms
from metamodel.specs import DataItemSpec, ItemType
from resolvers import compiled_nested
from resolvers.compiled_selection_base import (
    CASE,
    NOW,
    Collector,
    Field,
    NotCompiled,
    object_type,
    typename,
)
from schema.type_classes import GeneratedTypes

_OPEN = ", ".join(sql_string(s.value) for s in sorted(OPEN_STATUSES, key=lambda s: s.value))

_SCALAR_COLUMNS = {
    "number": "quote",
    "customerNumber": "quote",
    "businessTypeVersion": "integer",
    "priority": "integer",
    "version": "integer",
    "createdAt": "instant",
    "submittedAt": "instant",
    "completedAt": "instant",
    "dueAt": "instant",
}
_COLUMN_OF = {
    "number": "number",
    "customerNumber": "customer_number",
    "businessTypeVersion": "business_type_version",
    "priority": "priority",
    "version": "version",
    "createdAt": "created_at",
    "submittedAt": "submitted_at",
    "completedAt": "completed_at",
    "dueAt": "due_at",
}


@dataclass(frozen=True, slots=True)
class CaseJson:
    """The SQL writing one case's JSON, and whether it reads the request's clock."""

    sql: str
    uses_now: bool


class CaseCompiler:
    """Compiles the selection on one business type's Case object (see the module note)."""

    def __init__(
        self,
        collector: Collector,
        dialect: JsonDialect,
        generated: GeneratedTypes,
        hidden: frozenset[str],
    ) -> None:
        self._collector, self._dialect = collector, dialect
        self._generated, self._hidden = generated, hidden
        self._uses_now = False

    def compile(self, runtime: GraphQLObjectType, nodes: Sequence[FieldNode]) -> CaseJson:
        """The case object's JSON for the fields `nodes` select on `runtime`."""
        members = [
            (f.key, self._case_field(runtime, f)) for f in self._collector.fields(runtime, nodes)
        ]
        return CaseJson(self._dialect.object(members), self._uses_now)

    def _case_field(self, runtime: GraphQLObjectType, field: Field) -> str:
        d, name = self._dialect, field.name
        if name == "__typename":
            return typename(runtime)
        if name == "id":
            return d.id_string(f"{CASE}.id")
        if name == "status":
            return f"('\"' || {CASE}.status || '\"')"
        if name in _SCALAR_COLUMNS:
            column = f"{CASE}.{_COLUMN_OF[name]}"
            return str(getattr(d, _SCALAR_COLUMNS[name])(column))
        if name == "isOverdue":
            self._uses_now = True
            return d.boolean(
                f"{CASE}.due_at IS NOT NULL AND {CASE}.status IN ({_OPEN}) "
                f"AND {CASE}.due_at < {NOW}"
            )
        if name == "businessType":
            return self._reference(runtime, field, "business_type", f"{CASE}.business_type_id")
        if name == "orgUnit":
            return self._reference(runtime, field, "org_unit", f"{CASE}.org_unit_id")
        if name == "data":
            return self._data(runtime, field)
        if name == "currentStages":
            return compiled_nested.current_stages(self._collector, d, runtime, field)
        if name == "deadlines":
            return compiled_nested.deadlines(self._collector, d, runtime, field)
        if name == "tasks":
            return compiled_nested.tasks(self._collector, d, runtime, field, self._reads_clock)
        raise NotCompiled(f"Case.{name}")

    def _reads_clock(self) -> None:
        self._uses_now = True

    def _reference(self, runtime: GraphQLObjectType, field: Field, table: str, key: str) -> str:
        """A {code, name} reference read from its table by id."""
        target = object_type(runtime.fields[field.name].type)
        values = {"code": "r.code", "name": "r.name"}
        made = compiled_nested.named(self._collector, self._dialect, target, field.nodes, values)
        return f"(SELECT {made} FROM {table} AS r WHERE r.id = {key})"

    def _data(self, runtime: GraphQLObjectType, field: Field) -> str:
        target = object_type(runtime.fields[field.name].type)
        codes = _codes_by_field(target, self._generated.attrs)
        items = self._generated.readable
        members: list[tuple[str, str]] = []
        for sub in self._collector.fields(target, field.nodes):
            if sub.name == "__typename":
                members.append((sub.key, typename(target)))
                continue
            code = codes.get(sub.name)
            spec = items.get(code) if code is not None else None
            if code is None or spec is None:
                raise NotCompiled(f"{target.name}.{sub.name}")
            if code in self._hidden:
                members.append((sub.key, json_sql.NULL))
            elif spec.type is ItemType.LIST:
                members.append((sub.key, self._entries(target, sub, spec)))
            else:
                value_type = target.fields[sub.name].type
                members.append(
                    (sub.key, _item_sql(self._dialect, f"{CASE}.data", code, spec, value_type))
                )
        return self._dialect.object(members)

    def _entries(self, parent: GraphQLObjectType, field: Field, spec: DataItemSpec) -> str:
        """A LIST item: its entries in order, each an object of the selected fields."""
        entry_type = object_type(parent.fields[field.name].type)
        classes = self._generated.entries.get(spec.code)
        if classes is None:
            raise NotCompiled(f"{parent.name}.{field.name}")
        codes = _codes_by_field(entry_type, classes.attrs)
        fields = {f.code: f for f in spec.fields}
        d = self._dialect
        element = "e.value"
        members: list[tuple[str, str]] = []
        for sub in self._collector.fields(entry_type, field.nodes):
            if sub.name == "__typename":
                members.append((sub.key, typename(entry_type)))
                continue
            code = codes.get(sub.name)
            if code is None or code not in fields:
                raise NotCompiled(f"{entry_type.name}.{sub.name}")
            value_type = entry_type.fields[sub.name].type
            members.append((sub.key, _item_sql(d, element, code, fields[code], value_type)))
        entry = d.object(members)
        key = sql_string(spec.code)
        if d.postgresql:
            source = f"{CASE}.data -> {key}"
            entries = (
                f"(SELECT COALESCE('[' || string_agg({entry}, ',' ORDER BY e.n) || ']', '[]') "
                f"FROM jsonb_array_elements({source}) WITH ORDINALITY AS e(value, n))"
            )
            return f"(CASE WHEN jsonb_typeof({source}) = 'array' THEN {entries} ELSE 'null' END)"
        path = sql_string("$." + spec.code)
        entries = (
            f"(SELECT COALESCE('[' || group_concat({entry}, ',') || ']', '[]') "
            f"FROM json_each({CASE}.data, {path}) AS e)"
        )
        return (
            f"(CASE WHEN json_type({CASE}.data, {path}) = 'array' THEN {entries} ELSE 'null' END)"
        )


def _codes_by_field(target: GraphQLObjectType, attrs: Mapping[str, str]) -> dict[str, str]:
    """GraphQL field name -> item (or entry field) code, through the Python attribute."""
    by_attr = {attr: code for code, attr in attrs.items()}
    found: dict[str, str] = {}
    for name, field in target.fields.items():
        definition = (field.extensions or {}).get("strawberry-definition")
        attr = getattr(definition, "python_name", None)
        if attr in by_attr:
            found[name] = by_attr[attr]
    return found


def _item_sql(
    dialect: JsonDialect, source: str, code: str, spec: DataItemSpec, value_type: Any
) -> str:
    """One stored scalar value as JSON, ENUM options by the names of the field's enum."""
    names: dict[str, str] | None = None
    if spec.type is ItemType.ENUM:
        kind = value_type.of_type if isinstance(value_type, GraphQLNonNull) else value_type
        if not isinstance(kind, GraphQLEnumType):
            raise NotCompiled(f"item {code} is not an enum field")
        names = {}
        for member in kind.values.values():
            stored = getattr(member.value, "value", member.value)
            if isinstance(stored, str):
                names[stored] = str(kind.serialize(stored))
    scale = value_forms.declared_scale(spec) if spec.type is ItemType.DECIMAL else None
    return dialect.item(source, code, spec.type, scale=scale, names=names)
