"""Tasks: the caller's queue, listing within scope, and claim / assign / release / complete.

Only a holder of the task's post whose org unit is the task's unit or above it may claim or
complete it; managers (and administrators) may assign and release within their subtree.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from database import keyset, task_reads, task_repo
from database.user_repo import Principal
from metamodel.specs import Problem
from resolvers import objects, paging, policy, statistics
from resolvers.case_commands import prime, runtime
from resolvers.context import Context
from resolvers.convert import given, row_id
from schema.common import AFTER, BEFORE, FIRST, LAST, user_errors
from schema.task_types import (
    CompleteTaskInput,
    CompleteTaskPayload,
    TaskConnection,
    TaskEdge,
    TaskPayload,
    TaskWhere,
)
from service import case_commands as case_service
from service import task_commands
from service.case_commands import Outcome

Info = strawberry.Info[Context, Any]


def _scope(ctx: Context) -> task_reads.TaskScope:
    """What the caller may see (see `policy.task_scope`)."""
    principal = ctx.principal
    assert principal is not None
    return policy.task_scope(principal)


TASK_ORDERING = "tasks|createdAt:ASC|id:ASC"
"""What task cursors are bound to: `tasks` and `myTasks` are one ordering of one table seen
through two filters, so a position in one is the same position in the other."""


async def _connection(
    ctx: Context,
    condition: Any,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> TaskConnection:
    """One keyset page of tasks, oldest first."""
    width = len(task_reads.TASK_KEYS)
    chosen = paging.window(
        ctx.cursor_key, TASK_ORDERING, width, first=first, after=after, last=last, before=before
    )
    try:
        async with ctx.db.read() as session:
            found = await task_reads.page(session, condition, chosen)
    except LookupError as error:
        raise paging.gone(
            "after" if isinstance(chosen.after, keyset.RowPosition) else "before"
        ) from error
    nodes = await objects.tasks(ctx, found.tasks)

    async def count() -> int:
        async with ctx.db.read() as session:
            return await task_reads.count(session, condition)

    cursors = paging.edge_cursors(ctx.cursor_key, TASK_ORDERING, found.positions)
    edges = [TaskEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)]
    return TaskConnection(
        edges=edges,
        nodes=nodes,
        page_info=paging.page_info(chosen, cursors, found.more),
        count=count,
    )


First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]
Last = Annotated[int | None, strawberry.argument(description=LAST)]
Before = Annotated[str | None, strawberry.argument(description=BEFORE)]


@strawberry.field(
    description="Open tasks of the caller's posts in their org unit and below, and their own."
)
async def my_tasks(
    info: Info,
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
) -> TaskConnection:
    """The caller's work queue, oldest first."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    scope = task_reads.TaskScope(
        posts=principal.posts, org_path=principal.org_path, user_id=principal.id
    )
    wanted = task_reads.TaskFilter(statuses=task_repo.OPEN_TASK_STATUSES)
    condition = task_reads.and_all(
        task_reads.scope_condition(scope), task_reads.filter_condition(wanted)
    )
    return await _connection(ctx, condition, first, after, last, before)


@strawberry.field(description="Tasks within the caller's scope.")
async def tasks(
    info: Info,
    where: Annotated[
        TaskWhere | None,
        strawberry.argument(description="Which tasks; omitted: every task in scope."),
    ] = None,
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
) -> TaskConnection:
    """ADMIN: all; MANAGER: their subtree; STAFF: their posts in their subtree and their own."""
    ctx = info.context
    wanted = await statistics.task_filter(ctx, where)
    condition = task_reads.and_all(
        task_reads.scope_condition(_scope(ctx)), task_reads.filter_condition(wanted)
    )
    return await _connection(ctx, condition, first, after, last, before)


# -- commands -----------------------------------------------------------------------------------


async def _task_payload(ctx: Context, outcome: Outcome) -> TaskPayload:
    if outcome.problems or outcome.task is None:
        return TaskPayload(errors=user_errors(list(outcome.problems)))
    ctx.use_reference(outcome.reference)
    return TaskPayload(task=(await objects.tasks(ctx, [outcome.task]))[0])


def _actor(ctx: Context) -> Principal:
    principal = ctx.principal
    assert principal is not None  # the policy lets only signed-in callers here
    return principal


@strawberry.mutation(description="Take an open task of one of your posts.")
async def claim_task(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the task to take.")],
) -> TaskPayload:
    """Only a holder of the task's post within its org subtree."""
    ctx = info.context
    outcome = await task_commands.claim(runtime(ctx), _actor(ctx), row_id(id), now=ctx.now())
    return await _task_payload(ctx, outcome)


@strawberry.mutation(description="Give a task to a user who holds its post (MANAGER or ADMIN).")
async def assign_task(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the task to give.")],
    username: Annotated[
        str,
        strawberry.argument(
            description=(
                "The user who will hold the task; they must hold its post in its org unit or above."
            )
        ),
    ],
) -> TaskPayload:
    """An unassigned task may go to anyone in scope; otherwise the user must hold its post."""
    ctx = info.context
    outcome = await task_commands.assign(
        runtime(ctx), _actor(ctx), row_id(id), username=username, now=ctx.now()
    )
    return await _task_payload(ctx, outcome)


@strawberry.mutation(description="Give a claimed task back to its post's queue.")
async def release_task(
    info: Info,
    id: Annotated[
        strawberry.ID,
        strawberry.argument(description="The id of the task to put back in its post's queue."),
    ],
) -> TaskPayload:
    """The holder, or a manager of the task's org unit."""
    ctx = info.context
    outcome = await task_commands.release(runtime(ctx), _actor(ctx), row_id(id), now=ctx.now())
    return await _task_payload(ctx, outcome)


@strawberry.mutation(description="Finish a task with an outcome; the case moves on.")
async def complete_task(
    info: Info,
    input: Annotated[
        CompleteTaskInput,
        strawberry.argument(description="The task, its outcome and the data written with it."),
    ],
) -> CompleteTaskPayload:
    """Writes the stage's editable items, checks its required ones, then takes the transition."""
    ctx = info.context
    raw = input.data
    if raw is not None and raw is not strawberry.UNSET and not isinstance(raw, dict):
        problem = Problem("VALIDATION", "data is an object keyed by item", ("input", "data"))
        return CompleteTaskPayload(errors=user_errors([problem]))
    outcome = await case_service.complete_task(
        runtime(ctx),
        _actor(ctx),
        row_id(input.task_id),
        outcome=input.outcome,
        data=dict(raw) if isinstance(raw, dict) else {},
        comment=given(input.comment),
        expected_version=given(input.expected_version),
        now=ctx.now(),
    )
    if outcome.problems or outcome.saved is None or outcome.task is None:
        return CompleteTaskPayload(errors=user_errors(list(outcome.problems)))
    ctx.use_reference(outcome.reference)
    case = await prime(ctx, outcome.saved)
    return CompleteTaskPayload(
        task=(await objects.tasks(ctx, [outcome.task]))[0],
        case=case,
        warnings=user_errors(list(outcome.warnings)),
    )


QUERIES: list[Any] = [my_tasks, tasks]
MUTATIONS: list[Any] = [claim_task, assign_task, release_task, complete_task]
