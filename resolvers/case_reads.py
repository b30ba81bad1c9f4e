"""Reading cases: records to generated GraphQL objects, and paged lists with a lazy total."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError

from casework import archive
from database import case_reads as stored
from database.records import CaseRecord
from database.user_repo import Principal
from metamodel import datatypes
from metamodel import filters as f
from metamodel.specs import CaseStatus
from resolvers import case_filters, policy
from resolvers.reader import Reader
from schema.case_types import BusinessTypeRef, OrgUnitRef
from schema.common import PageInfo
from schema.type_classes import GeneratedTypes

DEFAULT_PAGE = 50
MAX_PAGE = 200
OPEN = frozenset({CaseStatus.DRAFT.value, CaseStatus.IN_PROGRESS.value, CaseStatus.SUSPENDED.value})


def encode_cursor(offset: int) -> str:
    """An opaque cursor for a position in a list."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


_LONGEST_CURSOR = 32
_MOST_POSITION_DIGITS = 9
"""Positions up to 999,999,999: far past any list, and within every database's integers."""


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor stands for (after it); VALIDATION for anything we did not make."""
    if not cursor:
        return 0
    try:
        if len(cursor) > _LONGEST_CURSOR:
            raise ValueError("too long")
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if (
            kind != "o"
            or not (value.isascii() and value.isdigit())
            or len(value) > _MOST_POSITION_DIGITS
        ):
            raise ValueError(kind)
        return int(value) + 1
    except (ValueError, UnicodeDecodeError) as error:
        raise GraphQLError(
            "'after' is not a cursor of this list: pass a cursor the list returned",
            extensions={"code": "VALIDATION", "path": ["after"]},
        ) from error


def page_size(first: int | None) -> int:
    """`first`, checked against the page size limit."""
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise GraphQLError(
            f"first must be between 0 and {MAX_PAGE}", extensions={"code": "VALIDATION"}
        )
    return size


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
    items = {**generated.published.retired_items, **generated.published.latest.items}
    hidden = policy.hidden_items(ctx.principal, generated.published)
    values = {
        code: datatypes.from_json(items[code], raw)
        for code, raw in row.data.items()
        if code in items and raw is not None and code not in hidden
    }
    derived: frozenset[tuple[str, str]] = frozenset()
    if hidden:  # event data the archive worked out from hidden items, by the case's version
        latest = generated.published.latest
        pinned = (
            latest
            if row.business_type_version == latest.version
            else await ctx.versions.get(ctx.db, latest.code, row.business_type_version)
        )
        derived = archive.hidden_event_keys(archive.hidden_fields(pinned, hidden))
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
    where: f.Filter,
    orders: Sequence[f.Order],
    first: int | None,
    after: str | None,
    generated_by_type: Mapping[int, GeneratedTypes],
    connection: type,
    edge: type,
) -> Any:
    """One page of cases as a connection; `totalCount` runs its query only when selected."""
    principal = ctx.principal
    assert principal is not None
    scope = policy.case_scope(principal)
    forbid_hidden_filter(principal, where, orders, generated_by_type)
    size = page_size(first)
    offset = decode_cursor(after)
    async with ctx.db.read() as session:
        rows = await stored.page_rows(
            session, where, orders, offset=offset, limit=size + 1, scope=scope
        )
    more = len(rows) > size
    rows = rows[:size]
    nodes = [await case_object(ctx, r, generated_by_type[r.business_type_id]) for r in rows]
    edges = [edge(cursor=encode_cursor(offset + i), node=n) for i, n in enumerate(nodes)]

    async def count() -> int:
        async with ctx.db.read() as session:
            return await stored.count_matching(session, where, scope)

    return connection(
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
