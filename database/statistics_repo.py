"""Statistics computed in the database: one GROUP BY statement, the same on both dialects.

Only the handling-time difference needs a per-dialect expression (seconds between two
timestamps); everything else is portable SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Float, case, cast, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from database import task_repo
from database.case_tables import TaskRow
from database.metadata_tables import OrgUnitRow
from database.security_tables import UserRow


class TaskGroupBy(StrEnum):
    """What task statistics group by."""

    POST = "POST"
    ASSIGNEE = "ASSIGNEE"
    ORG_UNIT = "ORG_UNIT"
    STAGE = "STAGE"


@dataclass(frozen=True, slots=True)
class TaskGroup:
    """Counts of one group of tasks; keys follow the grouping order ('' where there is none)."""

    keys: tuple[str, ...]
    total: int
    open: int
    overdue: int
    completed: int
    avg_handling_seconds: float | None


def seconds_between(start: Any, end: Any, *, dialect: str) -> ColumnElement[float]:
    """`end - start` in seconds, as a float, in the dialect's own date arithmetic."""
    if dialect == "postgresql":
        return cast(extract("epoch", end - start), Float)
    # julianday keeps milliseconds; rounding to them drops the float noise of the day fraction
    return cast(func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3), Float)


async def task_groups(
    session: AsyncSession,
    condition: ColumnElement[bool],
    group_by: Sequence[TaskGroupBy],
    *,
    now: dt.datetime,
) -> list[TaskGroup]:
    """Open, overdue and completed tasks and the mean handling time, per group, in SQL."""
    holder = aliased(UserRow)  # aliases: the scope and filter subqueries name these tables
    unit = aliased(OrgUnitRow)
    columns = {
        TaskGroupBy.POST: TaskRow.post,
        TaskGroupBy.ASSIGNEE: holder.username,
        TaskGroupBy.ORG_UNIT: unit.code,
        TaskGroupBy.STAGE: TaskRow.stage,
    }
    keys = [columns[g] for g in group_by]
    is_open = TaskRow.status.in_(task_repo.OPEN_TASK_STATUSES)
    is_done = TaskRow.status == task_repo.TaskStatus.DONE
    overdue = is_open & TaskRow.due_at.is_not(None) & (TaskRow.due_at < now)
    handled = is_done & TaskRow.completed_at.is_not(None)
    dialect = session.get_bind().dialect.name
    statement = (
        select(
            *keys,
            func.count(),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((is_done, 1), else_=0)),
            func.avg(
                case(
                    (
                        handled,
                        seconds_between(TaskRow.created_at, TaskRow.completed_at, dialect=dialect),
                    ),
                    else_=None,
                )
            ),
        )
        .select_from(TaskRow)
        .join(unit, unit.id == TaskRow.org_unit_id)
        .outerjoin(holder, holder.id == TaskRow.assignee_id)
        .where(condition)
    )
    if keys:
        statement = statement.group_by(*keys)
    groups = []
    for row in await session.execute(statement):
        *found, total, open_, late, done, average = row
        if not total and keys:
            continue
        groups.append(
            TaskGroup(
                keys=tuple("" if k is None else str(k) for k in found),
                total=int(total),
                open=int(open_ or 0),
                overdue=int(late or 0),
                completed=int(done or 0),
                avg_handling_seconds=None if average is None else float(average),
            )
        )
    return sorted(groups, key=lambda g: g.keys)
