"""Reading tasks: scopes and filters as SQL, pages, counts, a case's tasks, holders' names.

Returns records (`database.records.TaskRecord`), never rows; the command side keeps its own
locked reads in `database.task_repo`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, inspect, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from database import keyset
from database.case_reads import in_subtree
from database.case_tables import StageInstanceRow, TaskRow
from database.records import TaskRecord
from database.security_tables import UserRow
from database.task_repo import OPEN_TASK_STATUSES


def task_record(row: TaskRow | Any) -> TaskRecord:
    """A copy of a task row (also for a command that holds the row it just wrote)."""
    return TaskRecord(
        id=row.id,
        case_id=row.case_id,
        stage_instance_id=row.stage_instance_id,
        stage=row.stage,
        post=row.post,
        org_unit_id=row.org_unit_id,
        assignee_id=row.assignee_id,
        status=row.status,
        outcome=row.outcome,
        comment=row.comment,
        created_at=row.created_at,
        claimed_at=row.claimed_at,
        completed_at=row.completed_at,
        due_at=row.due_at,
    )


def and_all(*parts: ColumnElement[bool]) -> ColumnElement[bool]:
    """Every condition."""
    return and_(true(), *parts)


@dataclass(frozen=True, slots=True)
class TaskScope:
    """Which tasks a caller may see: all, or their posts (and own tasks) within a subtree."""

    everything: bool = False
    posts: frozenset[str] = frozenset()
    org_path: str | None = None
    user_id: int | None = None
    whole_tree: bool = False


def scope_condition(scope: TaskScope) -> ColumnElement[bool]:
    """SQL for a scope: posts held within the org subtree, own tasks, and (managers) the queue."""
    if scope.everything:
        return true()
    in_tree = in_subtree(TaskRow.org_unit_id, scope.org_path) if scope.org_path else false()
    parts: list[ColumnElement[bool]] = []
    if scope.whole_tree:
        parts.append(in_tree)
    elif scope.posts:
        parts.append(and_(TaskRow.post.in_(sorted(scope.posts)), in_tree))
    if scope.user_id is not None:
        parts.append(TaskRow.assignee_id == scope.user_id)
    return or_(*parts) if parts else false()


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """What `tasks(where)` can ask for."""

    statuses: tuple[str, ...] = ()
    posts: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    assignee: str | None = None
    org_path: str | None = None
    case_id: int | None = None
    overdue_at: dt.datetime | None = None
    unassigned: bool | None = None
    warned: bool | None = None
    due_before: dt.datetime | None = None
    not_overdue_at: dt.datetime | None = None


def filter_condition(wanted: TaskFilter) -> ColumnElement[bool]:
    """SQL for a task filter."""
    parts: list[ColumnElement[bool]] = []
    if wanted.statuses:
        parts.append(TaskRow.status.in_(wanted.statuses))
    if wanted.posts:
        parts.append(TaskRow.post.in_(wanted.posts))
    if wanted.stages:
        parts.append(TaskRow.stage.in_(wanted.stages))
    if wanted.assignee is not None:
        parts.append(
            TaskRow.assignee_id.in_(select(UserRow.id).where(UserRow.username == wanted.assignee))
        )
    if wanted.org_path is not None:
        parts.append(in_subtree(TaskRow.org_unit_id, wanted.org_path))
    if wanted.case_id is not None:
        parts.append(TaskRow.case_id == wanted.case_id)
    if wanted.overdue_at is not None:
        parts.append(
            and_(
                TaskRow.status.in_(OPEN_TASK_STATUSES),
                TaskRow.due_at.is_not(None),
                TaskRow.due_at < wanted.overdue_at,
            )
        )
    if wanted.unassigned is not None:
        parts.append(TaskRow.post.is_(None) if wanted.unassigned else TaskRow.post.is_not(None))
    if wanted.not_overdue_at is not None:
        parts.append(
            not_(
                and_(
                    TaskRow.status.in_(OPEN_TASK_STATUSES),
                    TaskRow.due_at.is_not(None),
                    TaskRow.due_at < wanted.not_overdue_at,
                )
            )
        )
    if wanted.due_before is not None:
        parts.append(TaskRow.due_at < wanted.due_before)
    if wanted.warned is not None:
        warned = exists().where(
            StageInstanceRow.id == TaskRow.stage_instance_id,
            StageInstanceRow.warned_at.is_not(None),
        )
        parts.append(warned if wanted.warned else not_(warned))
    return and_(true(), *parts)


_TASK_COLUMNS = inspect(TaskRow).columns

TASK_KEYS: tuple[keyset.SortKey, ...] = (
    keyset.SortKey(_TASK_COLUMNS["created_at"], nullable=False),
    keyset.SortKey(_TASK_COLUMNS["id"], nullable=False),
)
"""Task lists read oldest first, the id breaking ties: both keys are never null."""


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of tasks in list order, each with its position, and whether more lie beyond."""

    tasks: list[TaskRecord]
    positions: list[tuple[object, ...]]
    more: bool


async def page(
    session: AsyncSession, condition: ColumnElement[bool], window: keyset.Window
) -> TaskPage:
    """Tasks matching a condition, oldest first, one keyset page (see `keyset.fetch`)."""
    rows, more = await keyset.fetch(
        session, select(TaskRow).where(condition), TASK_KEYS, window, id_column=_TASK_COLUMNS["id"]
    )
    return TaskPage(
        tasks=[task_record(row[0]) for row in rows],
        positions=[tuple(row[1:]) for row in rows],
        more=more,
    )


async def count(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    """How many tasks match a condition."""
    return int(
        await session.scalar(select(func.count()).select_from(TaskRow).where(condition)) or 0
    )


async def by_case(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[TaskRecord]]:
    """Every task of several cases, in order, by case id."""
    rows = await session.scalars(
        select(TaskRow).where(TaskRow.case_id.in_(case_ids)).order_by(TaskRow.id)
    )
    grouped: dict[int, list[TaskRecord]] = {i: [] for i in case_ids}
    for task in rows:
        grouped[task.case_id].append(task_record(task))
    return grouped


async def usernames(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(username, name) by user id."""
    rows = await session.execute(
        select(UserRow.id, UserRow.username, UserRow.name).where(UserRow.id.in_(user_ids))
    )
    return {i: (u, n) for i, u, n in rows}
