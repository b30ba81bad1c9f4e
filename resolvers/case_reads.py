"""Reading cases: records to generated GraphQL objects, and paged lists with a lazy total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import strawberry

from casework import effect_events, file_redaction
from casework.model import OPEN_STATUSES
from database import case_reads as stored
from database import keyset
from database.records import CaseRecord
from database.user_repo import Principal
from metamodel import datatypes
from metamodel import filters as f
from metamodel.specs import CaseStatus
from resolvers import case_filters, compiled_cases, compiled_pages, paging, policy
from resolvers.reader import Reader
from schema.case_types import BusinessTypeRef, OrgUnitRef
from schema.type_classes import GeneratedTypes

OPEN = frozenset(s.value for s in OPEN_STATUSES)
"""The statuses a case can be overdue in (REJECTED and WITHDRAWN cases are closed)."""


async def hidden_by_type(ctx: Reader) -> dict[int, frozenset[str]]:
    """Business type id -> the items the caller may not read (in any version of the type)."""
    types, _, _ = await ctx.codes()
    return {
        i: policy.hidden_items(ctx.principal, ctx.generated[code].published)
        for i, code in types.items()
        if code in ctx.generated
    }


def hidden_of(
    hidden: Mapping[int, frozenset[str]], ctx: Reader, type_id: int
) -> frozenset[str] | None:
    """The items hidden on cases of one type; None (every item) for a type not served."""
    found = hidden.get(type_id)
    if found is None and policy.is_admin(ctx.principal):
        return frozenset()
    return found


async def case_object(ctx: Reader, row: CaseRecord, generated: GeneratedTypes) -> Any:
    """A case as its business type's generated Case object."""
    types, units, names = await ctx.codes()
    items = generated.readable
    hidden = policy.hidden_items(ctx.principal, generated.published)
    values = {
        code: datatypes.from_json(items[code], raw)
        for code, raw in row.data.items()
        if code in items and raw is not None and code not in hidden
    }
    derived: frozenset[tuple[str, str]] = frozenset()
    if hidden:  # event data the effects took from hidden items, by the case's version
        latest = generated.published.latest
        pinned = (
            latest
            if row.business_type_version == latest.version
            else await ctx.versions.get(ctx.db, latest.code, row.business_type_version)
        )
        derived = file_redaction.event_keys(file_redaction.redaction(pinned, hidden))
        derived |= effect_events.hidden_effect_keys(pinned, hidden)
    unit_code, unit_name = units.get(row.org_unit_id, ("", ""))
    now = ctx.now()
    return generated.case(
        id=strawberry.ID(str(row.id)),
        number=row.number,
        business_type=BusinessTypeRef(
            code=types[row.business_type_id], name=names[row.business_type_id]
        ),
        business_type_version=row.business_type_version,
        status=CaseStatus(row.status),
        org_unit=OrgUnitRef(code=unit_code, name=unit_name),
        customer_number=row.customer_number,
        priority=row.priority,
        created_at=row.created_at,
        submitted_at=row.submitted_at,
        completed_at=row.completed_at,
        due_at=row.due_at,
        is_overdue=bool(row.due_at and row.status in OPEN and row.due_at < now),
        version=row.version,
        pk=row.id,
        data=generated.build_data(values),
        hidden=hidden,
        hidden_event_keys=derived,
    )


def forbid_hidden_filter(
    principal: Principal,
    where: f.Filter,
    orders: Sequence[f.Order],
    generated_by_type: Mapping[int, GeneratedTypes],
) -> None:
    """Refuse a filter or ordering on an item hidden from the caller in a type it reads.

    Everything counted or listed over a filter asks this first (the lists, caseStatistics):
    a count over a hidden item would reveal it one question at a time.
    """
    used = case_filters.data_codes(where) | {
        o.field.code for o in orders if isinstance(o.field, f.DataField)
    }
    for generated in generated_by_type.values():
        policy.forbid_hidden(
            used, policy.hidden_items(principal, generated.published), "the filter"
        )


async def page(
    ctx: Reader,
    *,
    list_name: str,
    where: f.Filter,
    orders: Sequence[f.Order],
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    generated_by_type: Mapping[int, GeneratedTypes],
    connection: type,
    edge: type,
    plan: compiled_cases.ListPlan | None = None,
) -> Any:
    """One keyset page of cases as a connection; `totalCount` runs its query only when selected.

    Cursors are bound to `list_name` and the ordering (see `resolvers.paging`). With a compiled
    plan, the same page (same checks, scope and window) is answered as JSON the database wrote.
    """
    principal = ctx.principal
    assert principal is not None
    scope = policy.case_scope(principal, await ctx.org_units())
    forbid_hidden_filter(principal, where, orders, generated_by_type)
    bound_to, width = paging.case_ordering(list_name, orders)
    chosen = paging.window(
        ctx.cursor_key, bound_to, width, first=first, after=after, last=last, before=before
    )

    async def count() -> int:
        async with ctx.db.read() as session:
            return await stored.count_matching(session, where, scope)

    try:
        if plan is not None:
            return await compiled_pages.run_list(
                ctx,
                plan,
                where=where,
                orders=orders,
                chosen=chosen,
                scope=scope,
                bound_to=bound_to,
                count=count,
            )
        async with ctx.db.read() as session:
            found = await stored.page_rows(session, where, orders, chosen, scope=scope)
    except LookupError as error:
        raise paging.gone(
            "after" if isinstance(chosen.after, keyset.RowPosition) else "before"
        ) from error
    nodes = [await case_object(ctx, r, generated_by_type[r.business_type_id]) for r in found.cases]
    cursors = paging.edge_cursors(ctx.cursor_key, bound_to, found.positions)
    edges = [edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)]
    return connection(
        edges=edges,
        nodes=nodes,
        page_info=paging.page_info(chosen, cursors, found.more),
        count=count,
    )
