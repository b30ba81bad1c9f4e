"""deadlines(where): the limits cases are measured against, listed within the caller's scope.

Scoped exactly as cases are (`policy.case_scope`): ADMIN every case, MANAGER their org subtree,
STAFF the cases of their posts and their own in their subtree. So a supervisor lists the
deadlines warned today in their unit with `{warnedSince: <today 00:00>, orgUnit: …}`.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from database import case_reads, deadline_reads
from resolvers import paging, policy, where_inputs
from resolvers.context import Context
from resolvers.convert import given
from resolvers.deadline_out import deadline_out
from schema.common import AFTER, FIRST
from schema.deadline_types import DeadlineConnection, DeadlineEdge, DeadlineWhere

Info = strawberry.Info[Context, Any]
ORDERING = "deadlines|dueAt:ASC|id:ASC"
"""What deadline cursors are bound to."""


async def deadline_filter(
    ctx: Context, where: DeadlineWhere | None
) -> deadline_reads.DeadlineFilter:
    """`DeadlineWhere` as a repository filter; VALIDATION for oversized lists."""
    if where is None:
        return deadline_reads.DeadlineFilter()
    where_inputs.bound_lists(where, ("kind", "code", "stage"))
    org_path = await where_inputs.org_path(ctx, given(where.org_unit))
    return deadline_reads.DeadlineFilter(
        kinds=tuple(k.value for k in given(where.kind, [])),
        codes=tuple(given(where.code, [])),
        stages=tuple(given(where.stage, [])),
        warned=given(where.warned),
        breached=given(where.breached),
        met=given(where.met),
        due_before=given(where.due_before),
        due_after=given(where.due_after),
        warned_since=given(where.warned_since),
        org_path=org_path,
        business_type=given(where.business_type),
    )


@strawberry.field(
    description="Deadlines of the cases you may see (as `cases` scopes them), soonest due first: "
    "stage visits, milestone spans and whole-case limits, filtered by `where`."
)
async def deadlines(
    info: Info,
    where: Annotated[
        DeadlineWhere | None,
        strawberry.argument(description="Which deadlines; omitted: every one in scope."),
    ] = None,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
) -> DeadlineConnection:
    """One keyset page; totalCount is counted only when selected."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    wanted = await deadline_filter(ctx, where)
    condition = case_reads.scope_condition(policy.case_scope(principal)) & (
        deadline_reads.filter_condition(wanted)
    )
    chosen = paging.window(
        ctx.cursor_key, ORDERING, len(deadline_reads.KEYS), first=first, after=after
    )
    try:
        async with ctx.db.read() as session:
            found = await deadline_reads.page(session, condition, chosen)
    except LookupError as error:
        raise paging.gone("after") from error
    names = await ctx.stage_names()
    nodes = [deadline_out(d, names) for d in found.deadlines]

    async def count() -> int:
        async with ctx.db.read() as session:
            return await deadline_reads.count(session, condition)

    cursors = paging.edge_cursors(ctx.cursor_key, ORDERING, found.positions)
    return DeadlineConnection(
        edges=[DeadlineEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=paging.page_info(chosen, cursors, found.more),
        count=count,
    )


QUERIES: list[Any] = [deadlines]
