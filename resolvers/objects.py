"""Rows to GraphQL objects, in batches, for loaders and payloads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from database import task_repo
from database.tables import CaseRow, TaskRow
from resolvers.case_reads import case_object
from resolvers.context import Context
from schema.case_types import OrgUnitRef, StageRef
from schema.task_types import PostRef, Task, TaskStatus, UserRef


async def cases(ctx: Context, rows: Sequence[CaseRow]) -> list[Any]:
    """Generated Case objects for case rows (None for a type the schema does not serve)."""
    types, _, _ = await ctx.codes()
    built: list[Any] = []
    for row in rows:
        generated = ctx.generated.get(types.get(row.business_type_id, ""))
        built.append(None if generated is None else await case_object(ctx, row, generated))
    return built


async def case(ctx: Context, row: CaseRow) -> Any:
    """One generated Case object."""
    return (await cases(ctx, [row]))[0]


async def tasks(ctx: Context, rows: Sequence[TaskRow]) -> list[Task]:
    """Task objects, with names read once for the batch."""
    stage_names = await ctx.stage_names()
    post_names = await ctx.post_names()
    _, units, _ = await ctx.codes()
    caller = ctx.principal
    # The caller's own name is known: a queue of one's own tasks reads no user.
    people = {caller.id: (caller.username, caller.name)} if caller else {}
    others = sorted({r.assignee_id for r in rows if r.assignee_id is not None} - set(people))
    if others:
        async with ctx.db.read() as session:
            people.update(await task_repo.usernames(session, others))
    now = ctx.now()
    built = []
    for row in rows:
        unit_code, unit_name = units.get(row.org_unit_id, ("", ""))
        person = people.get(row.assignee_id) if row.assignee_id is not None else None
        open_ = row.status in task_repo.OPEN_TASK_STATUSES
        built.append(
            Task(
                id=strawberry.ID(str(row.id)),
                stage=StageRef(code=row.stage, name=stage_names.get(row.stage, row.stage)),
                post=PostRef(code=row.post, name=post_names.get(row.post, row.post))
                if row.post
                else None,
                assignee=UserRef(username=person[0], name=person[1]) if person else None,
                org_unit=OrgUnitRef(code=unit_code, name=unit_name),
                status=TaskStatus(row.status),
                outcome=row.outcome,
                comment=row.comment,
                created_at=row.created_at,
                due_at=row.due_at,
                completed_at=row.completed_at,
                is_overdue=bool(open_ and row.due_at and row.due_at < now),
                case_pk=row.case_id,
            )
        )
    return built
