"""A case's current stages and tasks, compiled into the case's own JSON (`compiled_selection`).

Each is a correlated subquery that writes a JSON array, in the order the resolver path gives
(visits and tasks by id), with names read as the resolver path reads them: a stage's or
post's name from the library, its code where the library has none. A task's `case` is left
to the resolver path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphql import FieldNode, GraphQLObjectType

from casework.model import StageStatus
from casework.reorganization import OPEN_TASK_STATUSES
from database import deadline_reads
from database.json_sql import JsonDialect, sql_string
from resolvers.compiled_selection_base import (
    CASE,
    NOW,
    Collector,
    Field,
    NotCompiled,
    object_type,
    typename,
)

_CURRENT = ", ".join(sql_string(s.value) for s in (StageStatus.ACTIVE, StageStatus.WAITING))
_OPEN_TASKS = ", ".join(sql_string(s) for s in sorted(OPEN_TASK_STATUSES))


def named(
    collector: Collector,
    dialect: JsonDialect,
    target: GraphQLObjectType,
    nodes: Sequence[FieldNode],
    values: dict[str, str],
) -> str:
    """An object of named text values (`code`, `name`, …) and its typename."""
    members = _members(
        collector,
        target,
        Field("", "", tuple(nodes)),
        lambda sub: dialect.quote(values[sub.name]) if sub.name in values else None,
    )
    return dialect.object(members)


def _library_name(table: str, code: str) -> str:
    """A stage's or post's name from the library, its code where the library has none."""
    return f"COALESCE((SELECT n.name FROM {table} AS n WHERE n.code = {code}), {code})"


def current_stages(
    collector: Collector, dialect: JsonDialect, parent: GraphQLObjectType, field: Field
) -> str:
    """`currentStages`: the ACTIVE and WAITING visits, in the order they began."""
    target = object_type(parent.fields[field.name].type)
    values = {"code": "v.stage", "name": _library_name("stage", "v.stage")}
    element = named(collector, dialect, target, field.nodes, values)
    source = f"stage_instance AS v WHERE v.case_id = {CASE}.id AND v.status IN ({_CURRENT})"
    return dialect.array(element, source, "v.id")


def _members(
    collector: Collector,
    target: GraphQLObjectType,
    field: Field,
    value_of: Callable[[Field], str | None],
) -> list[tuple[str, str]]:
    """The selected members of an object: typenames, and each field's SQL (None: not covered)."""
    members: list[tuple[str, str]] = []
    for sub in collector.fields(target, field.nodes):
        value = typename(target) if sub.name == "__typename" else value_of(sub)
        if value is None:
            raise NotCompiled(f"{target.name}.{sub.name}")
        members.append((sub.key, value))
    return members


def tasks(
    collector: Collector,
    dialect: JsonDialect,
    parent: GraphQLObjectType,
    field: Field,
    clock: Callable[[], None],
) -> str:
    """`tasks`: every task of the case, oldest first; `clock()` is called if it reads now."""
    target = object_type(parent.fields[field.name].type)
    d = dialect
    times = {"createdAt": "created_at", "dueAt": "due_at", "completedAt": "completed_at"}
    references = {
        "stage": ({"code": "t.stage", "name": _library_name("stage", "t.stage")}, "{}"),
        "post": (
            {"code": "t.post", "name": _library_name("post", "t.post")},
            "(CASE WHEN t.post IS NULL THEN 'null' ELSE {} END)",
        ),
        "orgUnit": (
            {"code": "u.code", "name": "u.name"},
            "(SELECT {} FROM org_unit AS u WHERE u.id = t.org_unit_id)",
        ),
        "assignee": (
            {"username": "p.username", "name": "p.name"},
            "COALESCE((SELECT {} FROM app_user AS p WHERE p.id = t.assignee_id), 'null')",
        ),
    }

    def value_of(sub: Field) -> str | None:
        name = sub.name
        if name == "id":
            return d.id_string("t.id")
        if name == "status":
            return "('\"' || t.status || '\"')"
        if name in ("outcome", "comment"):
            return d.quote(f"t.{name}")
        if name in times:
            return d.instant(f"t.{times[name]}")
        if name == "isOverdue":
            clock()
            return d.boolean(
                f"t.status IN ({_OPEN_TASKS}) AND t.due_at IS NOT NULL AND t.due_at < {NOW}"
            )
        if name in references:
            values, around = references[name]
            kind = object_type(target.fields[name].type)
            return around.format(named(collector, d, kind, sub.nodes, values))
        return None

    members = _members(collector, target, field, value_of)
    source = f"task AS t WHERE t.case_id = {CASE}.id"
    return dialect.array(dialect.object(members), source, "t.id")


def deadlines(
    collector: Collector, dialect: JsonDialect, parent: GraphQLObjectType, field: Field
) -> str:
    """`deadlines`: stage visits in order, then spans, then the case's (as `by_case` lists)."""
    target = object_type(parent.fields[field.name].type)
    d = dialect

    def value_of(sub: Field) -> str | None:
        name = sub.name
        if name == "kind":
            return "('\"' || dl.kind || '\"')"
        if name == "code":
            return d.quote("dl.code")
        if name in _DEADLINE_TIMES:
            return d.instant(f"dl.{_DEADLINE_TIMES[name]}")
        if name == "stage":
            values = {"code": "dl.stage", "name": _library_name("stage", "dl.stage")}
            stage = named(collector, d, object_type(target.fields[name].type), sub.nodes, values)
            return f"(CASE WHEN dl.stage IS NULL THEN 'null' ELSE {stage} END)"
        return None

    members = _members(collector, target, field, value_of)
    union = deadline_reads.union_sql(d.name)
    source = f"{union} AS dl WHERE dl.case_id = {CASE}.id"
    rank = "(CASE dl.kind WHEN 'STAGE' THEN 0 WHEN 'SPAN' THEN 1 ELSE 2 END), dl.id"
    return dialect.array(dialect.object(members), source, rank)


_DEADLINE_TIMES = {
    "dueAt": "due_at",
    "warnedAt": "warned_at",
    "breachedAt": "breached_at",
    "metAt": "met_at",
}
