"""Tasks: the caller's queue, listing within scope, and claim / assign / release / complete.

Only a holder of the task's post whose org unit is the task's unit or above it may claim or
complete it; managers (and administrators) may assign and release within their subtree.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from casework import lifecycle
from casework.calendar import WorkCalendar
from casework.model import CaseState, Event, Refused
from database import case_reads, case_repo, fee_repo, task_reads, task_repo, user_repo
from database.session import Session
from database.tables import OrgUnitRow, TaskRow
from metamodel import datatypes, naming
from metamodel.specs import Problem
from resolvers import case_commands, objects, policy, statistics
from resolvers.case_reads import decode_cursor, encode_cursor, page_size
from resolvers.context import Context
from resolvers.convert import given, row_id
from schema.common import AFTER, FIRST, ErrorCode, PageInfo, UserError, user_error, user_errors
from schema.task_types import (
    CompleteTaskInput,
    CompleteTaskPayload,
    TaskConnection,
    TaskEdge,
    TaskPayload,
    TaskWhere,
)

Info = strawberry.Info[Context, Any]


def _scope(ctx: Context) -> task_reads.TaskScope:
    """What the caller may see (see `policy.task_scope`)."""
    principal = ctx.principal
    assert principal is not None
    return policy.task_scope(principal)


async def _connection(
    ctx: Context, condition: Any, first: int | None, after: str | None
) -> TaskConnection:
    size = page_size(first)
    offset = decode_cursor(after)
    async with ctx.db.read() as session:
        rows = await task_reads.page(session, condition, offset=offset, limit=size + 1)
    more = len(rows) > size
    nodes = await objects.tasks(ctx, rows[:size])

    async def count() -> int:
        async with ctx.db.read() as session:
            return await task_reads.count(session, condition)

    # The same cursors `after` accepts: a node's cursor stands for its position in the list.
    edges = [TaskEdge(cursor=encode_cursor(offset + i), node=n) for i, n in enumerate(nodes)]
    return TaskConnection(
        edges=edges,
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=more,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count=count,
    )


First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]


@strawberry.field(
    description="Open tasks of the caller's posts in their org unit and below, and their own."
)
async def my_tasks(
    info: Info,
    first: First = None,
    after: After = None,
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
    return await _connection(ctx, condition, first, after)


@strawberry.field(description="Tasks within the caller's scope.")
async def tasks(
    info: Info,
    where: Annotated[
        TaskWhere | None,
        strawberry.argument(description="Which tasks; omitted: every task in scope."),
    ] = None,
    first: First = None,
    after: After = None,
) -> TaskConnection:
    """ADMIN: all; MANAGER: their subtree; STAFF: their posts in their subtree and their own."""
    ctx = info.context
    wanted = await statistics.task_filter(ctx, where)
    condition = task_reads.and_all(
        task_reads.scope_condition(_scope(ctx)), task_reads.filter_condition(wanted)
    )
    return await _connection(ctx, condition, first, after)


# -- commands -----------------------------------------------------------------------------------


def _forbidden(message: str) -> list[UserError]:
    return [user_error(ErrorCode.FORBIDDEN, message, ("id",))]


async def _task_and_unit(
    session: Session, task_id: strawberry.ID
) -> tuple[TaskRow | None, OrgUnitRow | None]:
    pk = row_id(task_id)
    task = await task_repo.get(session, pk)
    if task is None:
        return None, None
    case = await case_repo.get(session, task.case_id, lock=True)  # orders writers of one case
    task = await task_repo.get(session, pk, lock=True)
    unit = await session.get(OrgUnitRow, task.org_unit_id) if task and case else None
    return task, unit


def _may_work(ctx: Context, task: TaskRow, unit: OrgUnitRow) -> bool:
    """Whether the caller holds the task's post in a unit at or above the task's unit."""
    return policy.may_work(ctx.principal, task.post, unit.path)


async def _event(ctx: Context, session: Session, task: TaskRow, action: str, **data: Any) -> None:
    case = await case_repo.get(session, task.case_id)
    assert case is not None
    actor = ctx.principal.username if ctx.principal else "system"
    event = Event(action, {"task": task.id, "stage": task.stage, **data})
    await case_repo.append_events(session, case, [event], actor=actor, now=ctx.now())


@strawberry.mutation(description="Take an open task of one of your posts.")
async def claim_task(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the task to take.")],
) -> TaskPayload:
    """Only a holder of the task's post within its org subtree."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    async with ctx.db.transaction() as session:
        task, unit = await _task_and_unit(session, id)
        if task is None or unit is None:
            return TaskPayload(errors=[user_error(ErrorCode.NOT_FOUND, f"no task '{id}'", ("id",))])
        if not _may_work(ctx, task, unit):
            return TaskPayload(
                errors=_forbidden("only a holder of the task's post in its org unit may claim it")
            )
        if task.status != task_repo.TaskStatus.OPEN:
            return TaskPayload(
                errors=[
                    user_error(ErrorCode.INVALID_TRANSITION, f"the task is {task.status}", ("id",))
                ]
            )
        task.status, task.assignee_id, task.claimed_at = (
            task_repo.TaskStatus.CLAIMED,
            principal.id,
            ctx.now(),
        )
        await _event(ctx, session, task, "TASK_CLAIMED", assignee=principal.username)
    return TaskPayload(task=(await objects.tasks(ctx, [task_reads.task_record(task)]))[0])


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
    async with ctx.db.transaction() as session:
        task, unit = await _task_and_unit(session, id)
        if task is None or unit is None:
            return TaskPayload(errors=[user_error(ErrorCode.NOT_FOUND, f"no task '{id}'", ("id",))])
        if not case_commands.manages(ctx, unit.path):
            return TaskPayload(
                errors=_forbidden("only a manager of the task's org unit may assign it")
            )
        if task.status not in task_repo.OPEN_TASK_STATUSES:
            return TaskPayload(
                errors=[
                    user_error(ErrorCode.INVALID_TRANSITION, f"the task is {task.status}", ("id",))
                ]
            )
        row = await user_repo.get_row(session, username)
        person = await user_repo.principal_of(session, row) if row else None
        if person is None or person.disabled:
            return TaskPayload(
                errors=[user_error(ErrorCode.NOT_FOUND, f"no user '{username}'", ("username",))]
            )
        in_tree = bool(person.org_path and unit.path.startswith(person.org_path))
        holds = task.post is None or task.post in person.posts
        if not (in_tree and holds):
            return TaskPayload(
                errors=[
                    user_error(
                        ErrorCode.VALIDATION,
                        f"{username} does not hold post {task.post} for org unit {unit.code}",
                        ("username",),
                    )
                ]
            )
        previous = task.assignee_id
        task.status, task.assignee_id, task.claimed_at = (
            task_repo.TaskStatus.CLAIMED,
            person.id,
            ctx.now(),
        )
        await _event(ctx, session, task, "TASK_ASSIGNED", assignee=username, previous=previous)
    return TaskPayload(task=(await objects.tasks(ctx, [task_reads.task_record(task)]))[0])


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
    principal = ctx.principal
    assert principal is not None
    async with ctx.db.transaction() as session:
        task, unit = await _task_and_unit(session, id)
        if task is None or unit is None:
            return TaskPayload(errors=[user_error(ErrorCode.NOT_FOUND, f"no task '{id}'", ("id",))])
        if task.assignee_id != principal.id and not case_commands.manages(ctx, unit.path):
            return TaskPayload(
                errors=_forbidden("only the task's holder or a manager may release it")
            )
        if task.status != task_repo.TaskStatus.CLAIMED:
            return TaskPayload(
                errors=[
                    user_error(ErrorCode.INVALID_TRANSITION, f"the task is {task.status}", ("id",))
                ]
            )
        task.status, task.assignee_id, task.claimed_at = task_repo.TaskStatus.OPEN, None, None
        await _event(ctx, session, task, "TASK_RELEASED")
    return TaskPayload(task=(await objects.tasks(ctx, [task_reads.task_record(task)]))[0])


def _data_values(raw: Any, items: dict[str, Any]) -> tuple[dict[str, object], list[Problem]]:
    """JSON data keyed by camelCase field name or item code, as {item code: raw value}."""
    if raw is None or raw is strawberry.UNSET:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [Problem("VALIDATION", "data is an object keyed by item", ("input", "data"))]
    by_field = {naming.camel(code): code for code in items}
    values: dict[str, object] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        code = key if key in items else by_field.get(key)
        if code is None:
            problems.append(
                Problem(
                    "VALIDATION", f"'{key}' is not an item of this case", ("input", "data", key)
                )
            )
        else:
            values[code] = value
    return values, problems


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
    try:
        return await _complete(ctx, input)
    except (_Refusal, Refused) as refusal:
        return CompleteTaskPayload(errors=user_errors(refusal.problems))


async def _complete(ctx: Context, input: CompleteTaskInput) -> CompleteTaskPayload:
    principal = ctx.principal
    assert principal is not None
    async with ctx.db.transaction() as session:
        task, unit = await _task_and_unit(session, input.task_id)
        if task is None or unit is None:
            return CompleteTaskPayload(
                errors=[
                    user_error(
                        ErrorCode.NOT_FOUND, f"no task '{input.task_id}'", ("input", "taskId")
                    )
                ]
            )
        case = await case_repo.get(session, task.case_id)
        assert case is not None
        mine = task.status == task_repo.TaskStatus.CLAIMED and task.assignee_id == principal.id
        may_take = task.status == task_repo.TaskStatus.OPEN and _may_work(ctx, task, unit)
        if not (mine or may_take):
            if task.status not in task_repo.OPEN_TASK_STATUSES:
                code, message = ErrorCode.INVALID_TRANSITION, f"the task is {task.status}"
            else:
                code, message = (
                    ErrorCode.FORBIDDEN,
                    "only the task's holder, or a holder of its post, may complete it",
                )
            return CompleteTaskPayload(errors=[user_error(code, message, ("input", "taskId"))])
        expected = given(input.expected_version)
        if expected is not None and expected != case.version:
            return CompleteTaskPayload(
                errors=[
                    user_error(
                        ErrorCode.CONFLICT,
                        f"the case changed since you read it (now version {case.version})",
                        ("input", "expectedVersion"),
                    )
                ]
            )
        types, _, _ = await ctx.codes()
        definition = await ctx.versions.definition(
            ctx.db, types[case.business_type_id], case.business_type_version
        )
        raw, problems = _data_values(input.data, dict(definition.version.items))
        clean, coerce_problems = datatypes.validate_data(
            definition.version.items, raw, path=("input", "data")
        )
        problems += coerce_problems
        if problems:
            return CompleteTaskPayload(errors=user_errors(problems))
        visit = await task_repo.visit_index(session, task)
        if may_take:
            task.assignee_id, task.claimed_at = principal.id, ctx.now()
        task.comment = given(input.comment)
        completed = Event(
            "TASK_COMPLETED", {"task": task.id, "stage": task.stage, "outcome": input.outcome}
        )
        unpaid = await fee_repo.unpaid(session, case.id, task.stage)

        async def finish(
            state: CaseState, definition: lifecycle.Definition, calendar: WorkCalendar
        ) -> tuple[CaseState, list[Event]]:
            return lifecycle.complete(
                state,
                definition,
                visit=visit,
                outcome=input.outcome,
                changes=clean,
                now=ctx.now(),
                clock=calendar,
                unpaid_fees=unpaid,
            )

        problems = await case_commands.run(ctx, session, case, finish, before=[completed])
        if problems:
            raise _Refusal(problems)
    return CompleteTaskPayload(
        task=(await objects.tasks(ctx, [task_reads.task_record(task)]))[0],
        case=await objects.case(ctx, case_reads.case_record(case)),
    )


class _Refusal(Exception):
    """Raised inside the transaction so that nothing of a refused completion is kept."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("refused")
        self.problems = problems


QUERIES: list[Any] = [my_tasks, tasks]
MUTATIONS: list[Any] = [claim_task, assign_task, release_task, complete_task]
