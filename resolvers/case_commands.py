"""Whole-case commands at the GraphQL edge: arguments to `service.case_commands`, and back.

The service does the work in one transaction; the resolver turns its problems into UserErrors
and its saved case into the payload, priming the request's loaders with what the command
already holds, so building the answer reads nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from casework.model import CURRENT, StageStatus
from database.case_save import Saved
from resolvers import convert, objects
from resolvers.case_reads import case_object
from resolvers.context import Context
from schema.case_types import StageRef
from schema.common import user_errors
from schema.task_types import CasePayload
from service import case_commands as service
from service.case_commands import Outcome


def runtime(ctx: Context) -> service.Runtime:
    """The service's view of the request's context."""
    return service.Runtime(db=ctx.db, reference=ctx.reference_cache)


async def prime(ctx: Context, saved: Saved, generated: Any = None) -> Any:
    """The payload's case, with the request's loaders primed by what the command saved.

    `generated` builds it as one business type's Case (a create or update payload); without
    it the case is built as whatever type it is.
    """
    names = await ctx.stage_names()
    case_id = saved.case.id
    current = [
        StageRef(code=v.stage, name=names.get(v.stage, v.stage))
        for v in saved.visits
        if StageStatus(v.status) in CURRENT
    ]
    ctx.loaders.current_stages.prime(case_id, current, force=True)
    built = await objects.tasks(ctx, list(saved.tasks))
    ctx.loaders.tasks.prime(case_id, built, force=True)
    if generated is not None:
        return await case_object(ctx, saved.case, generated)
    return await objects.case(ctx, saved.case)


async def case_payload(ctx: Context, outcome: Outcome) -> CasePayload:
    """A CasePayload of a service outcome."""
    if outcome.problems or outcome.saved is None:
        return CasePayload(errors=user_errors(list(outcome.problems)))
    ctx.use_reference(outcome.reference)
    return CasePayload(case=await prime(ctx, outcome.saved))


def _actor(ctx: Context) -> Any:
    principal = ctx.principal
    assert principal is not None  # the policy lets only signed-in callers here
    return principal


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
    outcome = await service.suspend(
        runtime(ctx), _actor(ctx), convert.row_id(id), reason=reason, now=ctx.now()
    )
    return await case_payload(ctx, outcome)


@strawberry.mutation(description="Restart a suspended case's clocks where they stopped.")
async def resume_case(
    info: strawberry.Info[Context, Any],
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the suspended case.")],
) -> CasePayload:
    """MANAGER or ADMIN."""
    ctx = info.context
    outcome = await service.resume(runtime(ctx), _actor(ctx), convert.row_id(id), now=ctx.now())
    return await case_payload(ctx, outcome)


@strawberry.mutation(description="Close an unfinished case; its open tasks are cancelled.")
async def cancel_case(
    info: strawberry.Info[Context, Any],
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the case to stop.")],
    reason: Annotated[str, strawberry.argument(description="Why; kept in the case history.")],
) -> CasePayload:
    """MANAGER or ADMIN."""
    ctx = info.context
    outcome = await service.cancel(
        runtime(ctx), _actor(ctx), convert.row_id(id), reason=reason, now=ctx.now()
    )
    return await case_payload(ctx, outcome)


@strawberry.mutation(description="Submit a draft case: it enters its start stage.")
async def submit_case(
    info: strawberry.Info[Context, Any],
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The id of the draft case to submit.")
    ],
) -> CasePayload:
    """Whoever may update the case."""
    ctx = info.context
    outcome = await service.submit(runtime(ctx), _actor(ctx), convert.row_id(id), now=ctx.now())
    return await case_payload(ctx, outcome)


MUTATIONS: Sequence[Any] = [suspend_case, resume_case, cancel_case, submit_case]
