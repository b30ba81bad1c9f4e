"""Tasks as rows: kept in step with a case's visits, routed to posts, listed within a scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework import routing
from casework.model import CURRENT, Event, StageStatus
from database.tables import (
    BusinessTypeRow,
    CaseRow,
    OrgUnitRow,
    PostRow,
    ResponsibilityRow,
    StageInstanceRow,
    StageRow,
    TaskRow,
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


def path_codes(path: str) -> list[str]:
    """Unit codes from the root down, from a materialised path `/a/b/c/`."""
    return [p for p in path.split("/") if p]


async def sync(
    session: AsyncSession,
    case: CaseRow,
    *,
    business_type: str,
    now: dt.datetime,
) -> list[Event]:
    """Give every current visit an open task and close tasks whose visit is over.

    A visit nobody is responsible for still gets a task, with no post: it waits in the
    unassigned queue that managers see, and an event records it, so no case stalls silently.
    """
    visits = list(
        (
            await session.scalars(
                select(StageInstanceRow)
                .where(StageInstanceRow.case_id == case.id)
                .order_by(StageInstanceRow.id)
            )
        ).all()
    )
    tasks = {
        t.stage_instance_id: t
        for t in (await session.scalars(select(TaskRow).where(TaskRow.case_id == case.id))).all()
    }
    events: list[Event] = []
    routes: list[routing.Responsibility] | None = None
    unit = await session.get(OrgUnitRow, case.org_unit_id)
    org_path = path_codes(unit.path) if unit else []
    for index, visit in enumerate(visits):
        task = tasks.get(visit.id)
        current = StageStatus(visit.status) in CURRENT
        if current and task is None:
            if routes is None:
                routes = await responsibilities(session)
            chosen = routing.route(
                routes, business_type=business_type, stage=visit.stage, org_path=org_path, now=now
            )
            task = TaskRow(
                case_id=case.id,
                stage_instance_id=visit.id,
                stage=visit.stage,
                post=chosen.post if chosen else None,
                org_unit_id=case.org_unit_id,
                status=TaskStatus.OPEN,
                created_at=now,
                due_at=visit.due_at,
            )
            session.add(task)
            await session.flush()
            data = {"task": task.id, "stage": visit.stage, "post": task.post, "visit": index}
            events.append(Event("TASK_CREATED" if chosen else "TASK_UNASSIGNED", data))
        elif task is not None and task.status in OPEN_TASK_STATUSES:
            task.due_at = visit.due_at
            if not current:
                done = visit.status == StageStatus.DONE.value
                task.status = TaskStatus.DONE if done else TaskStatus.CANCELLED
                task.completed_at = now
                task.outcome = visit.outcome
    await session.flush()
    return events


async def get(session: AsyncSession, task_id: int, *, lock: bool = False) -> TaskRow | None:
    """A task by id."""
    statement = select(TaskRow).where(TaskRow.id == task_id)
    if lock:  # re-read under the lock: a row loaded earlier in the session may be stale
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(statement)


async def visit_index(session: AsyncSession, task: TaskRow) -> int:
    """The position of the task's visit among its case's visits (the engine's visit index)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(StageInstanceRow)
            .where(
                StageInstanceRow.case_id == task.case_id,
                StageInstanceRow.id < task.stage_instance_id,
            )
        )
        or 0
    )
