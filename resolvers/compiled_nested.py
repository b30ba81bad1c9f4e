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


def _named(
    collector: Collector,
    dialect: JsonDialect,
    target: GraphQLObjectType,
    nodes: Sequence[FieldNode],
    values: dict[str, str],
) -> str:
    """An object of named values (`code`, `name`, …) and its typename."""
    members: list[tuple[str, str]] = []
    for sub in collector.fields(target, nodes):
        if sub.name == "__typename":
            members.append((sub.key, typename(target)))
        elif sub.name in values:
            members.append((sub.key, dialect.quote(values[sub.name])))
        else:
            raise NotCompiled(f"{target.name}.{sub.name}")
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
    element = _named(collector, dialect, target, field.nodes, values)
    source = f"stage_instance AS v WHERE v.case_id = {CASE}.id AND v.status IN ({_CURRENT})"
    return dialect.array(element, source, "v.id")


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
    members: list[tuple[str, str]] = []
    for sub in collector.fields(target, field.nodes):
        name = sub.name
        if name == "__typename":
            value = typename(target)
        elif name == "id":
            value = d.id_string("t.id")
        elif name in ("status",):
            value = "('\"' || t.status || '\"')"
        elif name in ("outcome", "comment"):
            value = d.quote(f"t.{name}")
        elif name in ("createdAt", "dueAt", "completedAt"):
            column = {"createdAt": "created_at", "dueAt": "due_at", "completedAt": "completed_at"}
            value = d.instant(f"t.{column[name]}")
        elif name == "isOverdue":
            clock()
            value = d.boolean(
                f"t.status IN ({_OPEN_TASKS}) AND t.due_at IS NOT NULL AND t.due_at < {NOW}"
            )
        elif name == "stage":
            values = {"code": "t.stage", "name": _library_name("stage", "t.stage")}
            value = _named(collector, d, object_type(target.fields[name].type), sub.nodes, values)
        elif name == "post":
            values = {"code": "t.post", "name": _library_name("post", "t.post")}
            post = _named(collector, d, object_type(target.fields[name].type), sub.nodes, values)
            value = f"(CASE WHEN t.post IS NULL THEN 'null' ELSE {post} END)"
        elif name == "orgUnit":
            values = {"code": "u.code", "name": "u.name"}
            unit = _named(collector, d, object_type(target.fields[name].type), sub.nodes, values)
            value = f"(SELECT {unit} FROM org_unit AS u WHERE u.id = t.org_unit_id)"
        elif name == "assignee":
            values = {"username": "p.username", "name": "p.name"}
            user = _named(collector, d, object_type(target.fields[name].type), sub.nodes, values)
            value = (
                f"COALESCE((SELECT {user} FROM app_user AS p WHERE p.id = t.assignee_id), 'null')"
            )
        else:
            raise NotCompiled(f"{target.name}.{name}")
        members.append((sub.key, value))
    source = f"task AS t WHERE t.case_id = {CASE}.id"
    return dialect.array(dialect.object(members), source, "t.id")


def deadlines(
    collector: Collector, dialect: JsonDialect, parent: GraphQLObjectType, field: Field
) -> str:
    """`deadlines`: stage visits in order, then spans, then the case's (as `by_case` lists)."""
    target = object_type(parent.fields[field.name].type)
    d = dialect
    members: list[tuple[str, str]] = []
    for sub in collector.fields(target, field.nodes):
        name = sub.name
        if name == "__typename":
            value = typename(target)
        elif name == "kind":
            value = "('\"' || dl.kind || '\"')"
        elif name == "code":
            value = d.quote("dl.code")
        elif name in _DEADLINE_TIMES:
            value = d.instant(f"dl.{_DEADLINE_TIMES[name]}")
        elif name == "stage":
            values = {"code": "dl.stage", "name": _library_name("stage", "dl.stage")}
            stage = _named(collector, d, object_type(target.fields[name].type), sub.nodes, values)
            value = f"(CASE WHEN dl.stage IS NULL THEN 'null' ELSE {stage} END)"
        else:
            raise NotCompiled(f"{target.name}.{name}")
        members.append((sub.key, value))
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
