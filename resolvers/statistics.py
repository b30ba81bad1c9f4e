"""taskStatistics: who is behind, counted in SQL within the caller's scope."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from database import statistics_repo, task_reads
from database.statistics_repo import TaskGroupBy as GroupKey
from resolvers import policy, where_inputs
from resolvers.context import Context
from resolvers.convert import given, row_id
from schema.reorg_types import TaskGroupBy, TaskGroupStatistics
from schema.task_types import TaskWhere

Info = strawberry.Info[Context, Any]
SECONDS_PER_HOUR = 3600.0


def statistics_scope(ctx: Context) -> task_reads.TaskScope:
    """ADMIN: every task; MANAGER: every task of their org subtree (whatever its post)."""
    principal = ctx.principal
    assert principal is not None
    if policy.is_admin(principal):
        return task_reads.TaskScope(everything=True)
    return task_reads.TaskScope(org_path=principal.org_path, whole_tree=True)


async def task_filter(ctx: Context, where: TaskWhere | None) -> task_reads.TaskFilter:
    """`TaskWhere` as a repository filter (as `tasks(where)` reads it)."""
    if where is None:
        return task_reads.TaskFilter()
    where_inputs.bound_lists(where, ("status", "post", "stage"))
    org_path = await where_inputs.org_path(ctx, given(where.org_unit))
    case_pk = given(where.case)
    return task_reads.TaskFilter(
        statuses=tuple(s.value for s in given(where.status, [])),
        posts=tuple(given(where.post, [])),
        stages=tuple(given(where.stage, [])),
        assignee=given(where.assignee),
        org_path=org_path,
        case_id=None if case_pk is None else row_id(case_pk),
        overdue_at=ctx.now() if given(where.is_overdue) or given(where.overdue) else None,
        unassigned=given(where.unassigned),
        warned=given(where.warned),
        due_before=given(where.due_before),
        not_overdue_at=ctx.now() if given(where.overdue) is False else None,
    )


@strawberry.field(
    description="Task counts per post, holder, org unit and/or stage within your scope "
    "(ADMIN: everything; MANAGER: your org subtree): open, overdue, completed, handling time."
)
async def task_statistics(
    info: Info,
    group_by: Annotated[
        list[TaskGroupBy] | None,
        strawberry.argument(
            description="What to group tasks by, in this order; omitted: one group of every task."
        ),
    ] = None,
    where: Annotated[
        TaskWhere | None,
        strawberry.argument(description="Which tasks to count; omitted: every task in scope."),
    ] = None,
) -> list[TaskGroupStatistics]:
    """One entry per group, keys in `groupBy` order; without groupBy, one entry for all."""
    ctx = info.context
    condition = task_reads.and_all(
        task_reads.scope_condition(statistics_scope(ctx)),
        task_reads.filter_condition(await task_filter(ctx, where)),
    )
    keys = [GroupKey(g.name) for g in group_by or []]  # names are the values
    async with ctx.db.read() as session:
        groups = await statistics_repo.task_groups(session, condition, keys, now=ctx.now())
    return [
        TaskGroupStatistics(
            keys=list(g.keys),
            total=g.total,
            open=g.open,
            overdue=g.overdue,
            completed=g.completed,
            avg_handling_seconds=g.avg_handling_seconds,
            avg_handling_hours=None
            if g.avg_handling_seconds is None
            else g.avg_handling_seconds / SECONDS_PER_HOUR,
        )
        for g in groups
    ]


QUERIES: list[Any] = [task_statistics]
MUTATIONS: list[Any] = []
