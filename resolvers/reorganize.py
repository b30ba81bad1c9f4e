"""reorganizePosts: hand posts' responsibilities and open tasks to other posts, in one go.

A MANAGER may move work within their org subtree only (every move names an org unit there);
an ADMIN anywhere, and only an ADMIN may leave a move's org unit out. The planning is pure
(`casework.reorganization`); `database.reorg_repo` reads the state and writes the plan in the
mutation's one transaction, so a refusal or a dry run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from casework.reorganization import Handover, Move
from database import reorg_repo, task_reads
from database.reorg_repo import ReorganizationView, State
from database.user_repo import Principal
from metamodel.specs import Problem
from resolvers import objects, policy
from resolvers.context import Context
from resolvers.convert import given
from schema import engine_types as et
from schema import reorg_types as rt
from schema.common import user_error, user_errors
from schema.metadata_types import Post, Stage

Info = strawberry.Info[Context, Any]


def _forbidden(principal: Principal, moves: Sequence[Move], state: State) -> list[Problem]:
    """Moves outside the caller's org subtree (a move without an org unit: ADMIN only)."""
    if policy.is_admin(principal):
        return []
    problems = []
    for i, move in enumerate(moves):
        path = ("input", "moves", i, "orgUnit")
        if move.org_unit is None:
            problems.append(
                Problem(
                    "FORBIDDEN",
                    "only an ADMIN may move work in every org unit; name a unit of your subtree",
                    path,
                )
            )
        elif move.org_unit in state.unit_paths and not policy.manages(
            principal, state.unit_paths[move.org_unit]
        ):
            problems.append(
                Problem("FORBIDDEN", f"org unit '{move.org_unit}' is outside your subtree", path)
            )
    return problems


async def _responsibilities_out(
    ctx: Context, handovers: Sequence[Handover], at: dt.datetime
) -> list[et.Responsibility]:
    posts = await ctx.post_names()
    stages = await ctx.stage_names()
    return [
        et.Responsibility(
            post=Post(code=h.to_post, name=posts.get(h.to_post, h.to_post), description=None),
            stage=Stage(
                code=h.stage, name=stages.get(h.stage, h.stage), time_limit=None, description=None
            ),
            business_type=et.CodeRef(code=h.business_type) if h.business_type else None,
            org_unit=et.CodeRef(code=h.org_unit) if h.org_unit else None,
            effective_from=at,
            effective_to=None,
        )
        for h in handovers
    ]


def reorganization_out(row: ReorganizationView) -> rt.Reorganization:
    """A recorded reorganisation for output."""
    return rt.Reorganization(
        id=strawberry.ID(str(row.id)),
        moves=[
            rt.PostMove(
                from_post=m.from_post,
                to_post=m.to_post,
                stage=m.stage,
                business_type=m.business_type,
                org_unit=m.org_unit,
            )
            for m in row.moves
        ],
        effective_from=row.effective_from,
        reassign_open_tasks=row.reassign_open_tasks,
        status=rt.ReorganizationStatus(row.status),
        moved_responsibilities=row.moved_responsibilities,
        reassigned_tasks=row.reassigned_tasks,
        created_at=row.created_at,
        created_by=row.created_by,
        applied_at=row.applied_at,
    )


@strawberry.mutation(
    description="Hand posts' responsibilities (and their open tasks) to other posts, now or "
    "from a later moment (MANAGER within their org subtree, ADMIN anywhere)."
)
async def reorganize_posts(
    info: Info,
    input: Annotated[
        rt.ReorganizePostsInput,
        strawberry.argument(
            description="The moves, when they take effect, and whether to move open tasks."
        ),
    ],
) -> rt.ReorganizePostsPayload:
    """Every move replaces fromPost by toPost within its filters; history is kept."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    moves = [
        Move(
            from_post=m.from_post,
            to_post=m.to_post,
            stage=given(m.stage),
            business_type=given(m.business_type),
            org_unit=given(m.org_unit),
        )
        for m in input.moves
    ]
    now = ctx.now()
    requested: dt.datetime | None = given(input.effective_from)
    if requested is not None and requested.tzinfo is None:
        return rt.ReorganizePostsPayload(
            errors=[
                user_error(
                    "VALIDATION",
                    "effectiveFrom needs a time zone (e.g. +08:00)",
                    ("input", "effectiveFrom"),
                )
            ]
        )
    at = requested if requested is not None and requested > now else now
    dry_run = bool(input.dry_run)
    by = principal.username
    async with ctx.db.read() if dry_run else ctx.db.transaction() as session:
        if not dry_run:
            await reorg_repo.serialise(session)
        state = await reorg_repo.load(session)
        refused = _forbidden(principal, moves, state)
        if refused:
            return rt.ReorganizePostsPayload(errors=user_errors(refused))
        outcome = await reorg_repo.reorganize(
            session,
            state,
            moves,
            at=at,
            now=now,
            by=by,
            reassign_open_tasks=bool(input.reassign_open_tasks),
            dry_run=dry_run,
        )
    if outcome.plan.problems:
        return rt.ReorganizePostsPayload(errors=user_errors(list(outcome.plan.problems)))
    planned = outcome.plan
    return rt.ReorganizePostsPayload(
        moved_responsibilities=len(planned.handovers),
        reassigned_tasks=len(planned.tasks),
        released_tasks=sum(1 for t in planned.tasks if t.release),
        tasks=await objects.tasks(ctx, [task_reads.task_record(t) for t in outcome.tasks]),
        responsibilities=await _responsibilities_out(ctx, planned.handovers, at),
        reorganization=reorganization_out(outcome.record) if outcome.record else None,
    )


QUERIES: list[Any] = []
MUTATIONS: list[Any] = [reorganize_posts]
