"""Running compiled plans: one statement, and its JSON texts spliced into the answer.

The database writes each case's JSON (`database.compiled_reads`); the server writes around it
only what it alone knows: the signed cursors, pageInfo, the total, typenames. The answer is a
`msgspec.Raw`, which the execution context passes through uncompleted (`resolvers.execution`)
and the response encoder copies as it is, so no case value is decoded or re-encoded on the way.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec

from database import compiled_reads, keyset, reference_repo
from database.case_reads import CaseScope
from database.reference_repo import Stamp
from metamodel import filters as f
from resolvers import paging
from resolvers.compiled_cases import CasePlan, Edges, Info, ListPlan, Literal, Nodes
from resolvers.reader import Reader
from schema.common import PageInfo

Count = Callable[[], Awaitable[int]]


class StaleStamps(Exception):
    """The caller was taken from the cache, and the stamps moved since: read it again.

    Raised only for a context with `verify_stamps` (the fast lane), which then hands the
    request to the usual path; nothing was written.
    """


async def _verify(ctx: Reader, session: Any, seen: tuple[Stamp, int] | None) -> None:
    """Refuse the read if the caller's stamps moved (read them now if no row carried them)."""
    expected = getattr(ctx, "verify_stamps", None)
    if expected is None:
        return
    if seen is None:  # the statement found no row to carry them: ask now (they only grow)
        seen = await reference_repo.stamps(session)
    if seen != expected:
        raise StaleStamps(f"stamps {seen} since {expected}")


async def run_list(
    ctx: Reader,
    plan: ListPlan,
    *,
    where: f.Filter,
    orders: Sequence[f.Order],
    chosen: keyset.Window,
    scope: CaseScope,
    bound_to: str,
    count: Count,
) -> msgspec.Raw:
    """A case list's connection as JSON, the page read in one statement.

    LookupError when the window names a case by id that is gone (as `case_reads.page_rows`).
    """
    now = ctx.now() if plan.uses_now else None
    verify = getattr(ctx, "verify_stamps", None) is not None
    async with ctx.db.read() as session:
        page = await compiled_reads.json_page(
            session,
            where,
            orders,
            chosen,
            scope=scope,
            projections=plan.projections,
            now=now,
            count=plan.counts,
            stamps=verify,
        )
        await _verify(ctx, session, page.stamps)
    positions = page.positions
    if plan.cursors:
        cursors = paging.edge_cursors(ctx.cursor_key, bound_to, positions)
    elif plan.end_cursors:  # pageInfo's two at most
        ends = positions[:1] + positions[1:][-1:]
        cursors = paging.edge_cursors(ctx.cursor_key, bound_to, ends)
    else:  # none is written: only whether there are any counts (`page_info` reads them)
        cursors = [""] * min(len(positions), 2)
    info = paging.page_info(chosen, cursors, page.more)
    total = page.total if page.total is not None else (await count() if plan.counts else 0)
    out: list[str] = []
    for index, (key, part) in enumerate(plan.parts):
        out.append(("{" if index == 0 else ",") + f'"{key}":')
        if isinstance(part, Literal):
            out.append(part.text)
        elif isinstance(part, Nodes):
            out.append("[" + ",".join(t[part.projection] for t in page.texts) + "]")
        elif isinstance(part, Edges):
            out.append(_edges(part, page.texts, cursors))
        elif isinstance(part, Info):
            out.append(_page_info(part, info))
        else:  # "totalCount"
            out.append(str(total))
    out.append("}" if plan.parts else "{}")
    return msgspec.Raw("".join(out).encode())


def _edges(part: Edges, texts: Sequence[tuple[str, ...]], cursors: Sequence[str]) -> str:
    edges: list[str] = []
    for row, text in enumerate(texts):
        members: list[str] = []
        for key, member in part.members:
            if isinstance(member, Literal):
                value = member.text
            elif isinstance(member, str):  # "cursor"
                value = json.dumps(cursors[row])
            else:
                value = text[member.projection]
            members.append(f'"{key}":{value}')
        edges.append("{" + ",".join(members) + "}")
    return "[" + ",".join(edges) + "]"


def _page_info(part: Info, info: PageInfo) -> str:
    values = {
        "hasNextPage": info.has_next_page,
        "hasPreviousPage": info.has_previous_page,
        "startCursor": info.start_cursor,
        "endCursor": info.end_cursor,
    }
    members = [
        f'"{key}":' + (member.text if isinstance(member, Literal) else json.dumps(values[member]))
        for key, member in part.members
    ]
    return "{" + ",".join(members) + "}"


async def run_case(
    ctx: Reader,
    plan: CasePlan,
    scope: CaseScope,
    *,
    case_id: int | None,
    number: str | None,
) -> msgspec.Raw | None:
    """One case as JSON (None: no case in scope, or of a type the schema does not serve)."""
    now = ctx.now() if plan.uses_now else None
    verify = getattr(ctx, "verify_stamps", None) is not None
    async with ctx.db.read() as session:
        found = await compiled_reads.json_case(
            session, scope, plan.projection, case_id=case_id, number=number, now=now, stamps=verify
        )
        await _verify(ctx, session, found.stamps)
    return None if found.text is None else msgspec.Raw(found.text.encode())
