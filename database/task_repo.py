"""Tasks as rows: kept in step with a case's visits, routed to posts, listed within a scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from casework import routing
from database.tables import (
    BusinessTypeRow,
    OrgUnitRow,
    PostRow,
    ResponsibilityRow,
    StageRow,
    TaskRow,
    UserRow,
)


class TaskStatus:
    """Task statuses (the API's TaskStatus enum)."""

    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


async def responsibilities(session: AsyncSession) -> list[routing.Responsibility]:
    """Every responsibility row, as the router reads them."""
    rows = await session.execute(
        select(
            StageRow.code,
            PostRow.code,
            BusinessTypeRow.code,
            OrgUnitRow.code,
            ResponsibilityRow.effective_from,
            ResponsibilityRow.effective_to,
        )
        .select_from(ResponsibilityRow)
        .join(StageRow, StageRow.id == ResponsibilityRow.stage_id)
        .join(PostRow, PostRow.id == ResponsibilityRow.post_id)
        .outerjoin(BusinessTypeRow, BusinessTypeRow.id == ResponsibilityRow.business_type_id)
        .outerjoin(OrgUnitRow, OrgUnitRow.id == ResponsibilityRow.org_unit_id)
        .order_by(ResponsibilityRow.id.desc())
    )
    return [
        routing.Responsibility(
            stage=stage,
            post=post,
            business_type=business_type,
            org_unit=org_unit,
            effective_from=start,
            effective_to=end,
        )
        for stage, post, business_type, org_unit, start, end in rows
    ]


def _in_subtree(org_path: str) -> ColumnElement[bool]:
    """Tasks whose unit is `org_path` or below it (a prefix test, not LIKE: `_` is a wildcard)."""
    return TaskRow.org_unit_id.in_(
        select(OrgUnitRow.id).where(func.substr(OrgUnitRow.path, 1, len(org_path)) == org_path)
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
    in_tree = _in_subtree(scope.org_path) if scope.org_path else false()
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
        parts.append(_in_subtree(wanted.org_path))
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
    return and_(true(), *parts)


def path_codes(path: str) -> list[str]:
    """Unit codes from the root down, from a materialised path `/a/b/c/`."""
    return [p for p in path.split("/") if p]


async def page(
    session: AsyncSession,
    condition: ColumnElement[bool],
    *,
    offset: int,
    limit: int,
) -> list[TaskRow]:
    """Tasks matching a condition, oldest first, one page."""
    statement = (
        select(TaskRow)
        .where(condition)
        .order_by(TaskRow.created_at, TaskRow.id)
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def count(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    """How many tasks match a condition."""
    return int(
        await session.scalar(select(func.count()).select_from(TaskRow).where(condition)) or 0
    )


async def by_case(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[TaskRow]]:
    """Every task of several cases, in order, by case id."""
    rows = await session.scalars(
        select(TaskRow).where(TaskRow.case_id.in_(case_ids)).order_by(TaskRow.id)
    )
    grouped: dict[int, list[TaskRow]] = {i: [] for i in case_ids}
    for task in rows:
        grouped[task.case_id].append(task)
    return grouped


async def usernames(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(username, name) by user id."""
    rows = await session.execute(
        select(UserRow.id, UserRow.username, UserRow.name).where(UserRow.id.in_(user_ids))
    )
    return {i: (u, n) for i, u, n in rows}
