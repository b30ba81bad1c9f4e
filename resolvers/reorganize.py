"""reorganizePosts at the GraphQL edge: arguments to `service.reorganize`, and back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from casework.handovers import Handover
from casework.moves import Move
from database.reorg_records import ReorganizationView
from resolvers import objects
from resolvers.context import Context
from resolvers.convert import given
from schema import engine_types as et
from schema import reorg_types as rt
from schema.common import user_errors
from schema.library_types import Post, Stage
from service import reorganize as reorganizing

Info = strawberry.Info[Context, Any]


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
    done = await reorganizing.reorganize(
        ctx.db,
        principal,
        moves,
        effective_from=given(input.effective_from),
        reassign_open_tasks=bool(input.reassign_open_tasks),
        dry_run=bool(input.dry_run),
        now=ctx.now(),
    )
    if done.problems or done.outcome is None or done.at is None:
        return rt.ReorganizePostsPayload(errors=user_errors(list(done.problems)))
    outcome, at = done.outcome, done.at
    planned = outcome.plan
    return rt.ReorganizePostsPayload(
        moved_responsibilities=len(planned.handovers),
        reassigned_tasks=len(planned.tasks),
        released_tasks=sum(1 for t in planned.tasks if t.release),
        tasks=await objects.tasks(ctx, outcome.tasks),
        responsibilities=await _responsibilities_out(ctx, planned.handovers, at),
        reorganization=reorganization_out(outcome.record) if outcome.record else None,
    )


QUERIES: list[Any] = []
MUTATIONS: list[Any] = [reorganize_posts]
