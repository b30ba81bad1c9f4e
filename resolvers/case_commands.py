"""Running an engine command on a stored case: load, apply, save, keep tasks in step, archive.

Every command runs in one transaction with the case row locked, so two commands on one case
queue instead of interleaving, and a refused command changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry

from casework import fees, lifecycle
from casework.calendar import WorkCalendar
from casework.model import CURRENT, CaseState, Event, Refused
from database import archive_repo, case_reads, case_repo, fee_repo, task_repo
from database.session import Session
from database.tables import CaseRow, OrgUnitRow
from metamodel.specs import CaseStatus, Problem
from resolvers import convert, objects, policy
from resolvers.context import Context
from schema.common import ErrorCode, user_error, user_errors
from schema.task_types import CasePayload

PureCommand = Callable[
    [CaseState, lifecycle.Definition, WorkCalendar], tuple[CaseState, list[Event]]
]
Command = Callable[
    [CaseState, lifecycle.Definition, WorkCalendar], Awaitable[tuple[CaseState, list[Event]]]
]
"""An engine command; async so it may read what it needs (e.g. unpaid fees) first."""


def pure(command: PureCommand) -> Command:
    """An engine command that needs nothing more than the state, definition and calendar."""

    async def run_pure(
        state: CaseState, definition: lifecycle.Definition, calendar: WorkCalendar
    ) -> tuple[CaseState, list[Event]]:
        return command(state, definition, calendar)

    return run_pure


async def run(
    ctx: Context,
    session: Session,
    row: CaseRow,
    command: Command,
    *,
    before: list[Event] | None = None,
) -> list[Problem]:
    """Apply `command` to a locked case row and persist everything it changes."""
    actor = ctx.principal.username if ctx.principal else "system"
    types, _, _ = await ctx.codes()
    code = types[row.business_type_id]
    definition = await ctx.versions.definition(ctx.db, code, row.business_type_version)
    calendar = await ctx.calendar()
    state, visits = await case_repo.load_state(session, row, definition.version)
    try:
        new_state, events = await command(state, definition, calendar)
    except Refused as refused:
        return refused.problems
    now = ctx.now()
    await case_repo.save(
        session,
        row,
        new_state,
        definition.version,
        [*(before or []), *events],
        known_stages=visits,
        actor=actor,
        now=now,
    )
    await settle(ctx, session, row, state, new_state, definition, actor=actor)
    return []


async def settle(
    ctx: Context,
    session: Session,
    row: CaseRow,
    before: CaseState,
    after: CaseState,
    definition: lifecycle.Definition,
    *,
    actor: str,
) -> None:
    """What follows a state change: tasks for current visits, fees of stages entered, archive."""
    now = ctx.now()
    code = definition.version.code
    events = await task_repo.sync(session, row, business_type=code, now=now)
    entered = [
        visit.stage
        for index, visit in enumerate(after.stages)
        if visit.status in CURRENT
        and (index >= len(before.stages) or before.stages[index].status not in CURRENT)
    ]
    if entered:
        rules = await fee_repo.rules(session)
        day = (await ctx.calendar()).local_date(now)
        for stage in entered:
            try:
                found = fees.assess(
                    rules,
                    business_type=code,
                    stage=stage,
                    items=definition.version.items,
                    data=after.data,
                    day=day,
                )
            except fees.RuleFailed as failed:
                # A fee that cannot be computed must not let the case through unpaid: the
                # whole command is refused (and rolled back) until the data allows it.
                raise Refused(
                    [
                        Problem(
                            "VALIDATION",
                            f"fee {failed.code} of stage {stage} cannot be assessed: "
                            f"{failed.message}",
                            ("input", "data"),
                        )
                    ]
                ) from failed
            events.extend(await fee_repo.record(session, row.id, found, now=now))
    if after.status is CaseStatus.COMPLETED and before.status is not CaseStatus.COMPLETED:
        events.extend(await archive_repo.write(session, row, definition.version, after, now=now))
    if events:
        await case_repo.append_events(session, row, events, actor=actor, now=now)


def manages(ctx: Context, org_path: str) -> bool:
    """Whether the caller manages the unit at `org_path` (see `policy.manages`)."""
    return policy.manages(ctx.principal, org_path)


async def _case_change(
    ctx: Context, case_id: strawberry.ID, command: Command, *, needs_manager: bool = True
) -> CasePayload:
    """Lock, authorise and run a whole-case command."""
    try:
        return await _case_change_in_transaction(ctx, case_id, command, needs_manager=needs_manager)
    except Refused as refused:  # raised after writes began: the transaction was rolled back
        return CasePayload(errors=user_errors(refused.problems))


async def _case_change_in_transaction(
    ctx: Context, case_id: strawberry.ID, command: Command, *, needs_manager: bool
) -> CasePayload:
    pk = convert.row_id(case_id)
    async with ctx.db.transaction() as session:
        row = await case_repo.get(session, pk, lock=True)
        unit = await session.get(OrgUnitRow, row.org_unit_id) if row else None
        if row is None or unit is None:
            return CasePayload(
                errors=[user_error(ErrorCode.NOT_FOUND, f"no case '{case_id}'", ("id",))]
            )
        principal = ctx.principal
        assert principal is not None
        if not needs_manager and not await case_reads.visible(
            session, row.id, policy.case_scope(principal)
        ):
            return CasePayload(
                errors=[user_error(ErrorCode.NOT_FOUND, f"no case '{case_id}'", ("id",))]
            )
        if needs_manager and not manages(ctx, unit.path):
            return CasePayload(
                errors=[
                    user_error(
                        ErrorCode.FORBIDDEN,
                        "only an ADMIN, or a MANAGER of the case's org unit, may do this",
                        ("id",),
                    )
                ]
            )
        problems = await run(ctx, session, row, command)
        if problems:
            return CasePayload(errors=user_errors(problems))
    return CasePayload(case=await objects.case(ctx, case_reads.case_record(row)))


@strawberry.mutation(
    description="Stop a case's clocks; its tasks cannot be completed until resumed."
)
async def suspend_case(
    info: strawberry.Info[Context, Any],
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the case to pause.")],
    reason: Annotated[str, strawberry.argument(description="Why; kept in the case history.")],
) -> CasePayload:
    """MANAGER or ADMIN."""
    ctx = info.context
    return await _case_change(
        ctx, id, pure(lambda s, d, c: lifecycle.suspend(s, reason=reason, now=ctx.now(), clock=c))
    )


@strawberry.mutation(description="Restart a suspended case's clocks where they stopped.")
async def resume_case(
    info: strawberry.Info[Context, Any],
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the suspended case.")],
) -> CasePayload:
    """MANAGER or ADMIN."""
    ctx = info.context
    return await _case_change(
        ctx, id, pure(lambda s, d, c: lifecycle.resume(s, d, now=ctx.now(), clock=c))
    )


@strawberry.mutation(description="Close an unfinished case; its open tasks are cancelled.")
async def cancel_case(
    info: strawberry.Info[Context, Any],
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the case to stop.")],
    reason: Annotated[str, strawberry.argument(description="Why; kept in the case history.")],
) -> CasePayload:
    """MANAGER or ADMIN."""
    ctx = info.context
    return await _case_change(
        ctx, id, pure(lambda s, d, c: lifecycle.cancel(s, reason=reason, now=ctx.now(), clock=c))
    )


@strawberry.mutation(description="Submit a draft case: it enters its start stage.")
async def submit_case(
    info: strawberry.Info[Context, Any],
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The id of the draft case to submit.")
    ],
) -> CasePayload:
    """Whoever may update the case."""
    ctx = info.context
    return await _case_change(
        ctx,
        id,
        pure(lambda s, d, c: lifecycle.submit(s, d, now=ctx.now(), clock=c)),
        needs_manager=False,
    )


MUTATIONS: list[Any] = [suspend_case, resume_case, cancel_case, submit_case]
