"""Responsibilities as rows: assigned from a date, replaced (never deleted) by the next one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from database.metadata_tables import (
    BusinessTypeRow,
    OrgUnitRow,
    PostRow,
    ResponsibilityRow,
    StageRow,
)


@dataclass(frozen=True, slots=True)
class ResponsibilityView:
    """A responsibility with codes and names resolved."""

    id: int
    stage: str
    stage_name: str
    post: str
    post_name: str
    business_type: str | None
    org_unit: str | None
    effective_from: dt.datetime
    effective_to: dt.datetime | None


async def assign(
    session: AsyncSession,
    *,
    stage_id: int,
    post_id: int,
    business_type_id: int | None,
    org_unit_id: int | None,
    effective_from: dt.datetime,
    by: str,
    now: dt.datetime,
) -> int:
    """Make `post` responsible from `effective_from`; the one it replaces ends then. Its id."""
    current = (
        await session.scalars(
            select(ResponsibilityRow)
            .where(
                ResponsibilityRow.stage_id == stage_id,
                ResponsibilityRow.business_type_id.is_(None)
                if business_type_id is None
                else ResponsibilityRow.business_type_id == business_type_id,
                ResponsibilityRow.org_unit_id.is_(None)
                if org_unit_id is None
                else ResponsibilityRow.org_unit_id == org_unit_id,
                (ResponsibilityRow.effective_to.is_(None))
                | (ResponsibilityRow.effective_to > effective_from),
            )
            .with_for_update()
        )
    ).all()
    for row in current:
        if row.effective_from >= effective_from:
            row.effective_to = row.effective_from  # superseded before it began: empty period
        else:
            row.effective_to = effective_from
    row = ResponsibilityRow(
        business_type_id=business_type_id,
        stage_id=stage_id,
        org_unit_id=org_unit_id,
        post_id=post_id,
        effective_from=effective_from,
        effective_to=None,
        created_at=now,
        created_by=by,
    )
    session.add(row)
    await session.flush()
    return row.id


async def views(
    session: AsyncSession,
    *,
    post: str | None = None,
    stage: str | None = None,
    business_type: str | None = None,
    org_unit: str | None = None,
) -> list[ResponsibilityView]:
    """Responsibilities with their history, filtered by codes."""
    bt = aliased(BusinessTypeRow)
    unit = aliased(OrgUnitRow)
    statement = (
        select(
            ResponsibilityRow.id,
            StageRow.code,
            StageRow.name,
            PostRow.code,
            PostRow.name,
            bt.code,
            unit.code,
            ResponsibilityRow.effective_from,
            ResponsibilityRow.effective_to,
        )
        .select_from(ResponsibilityRow)
        .join(StageRow, StageRow.id == ResponsibilityRow.stage_id)
        .join(PostRow, PostRow.id == ResponsibilityRow.post_id)
        .outerjoin(bt, bt.id == ResponsibilityRow.business_type_id)
        .outerjoin(unit, unit.id == ResponsibilityRow.org_unit_id)
        .order_by(StageRow.code, ResponsibilityRow.effective_from, ResponsibilityRow.id)
    )
    if post is not None:
        statement = statement.where(PostRow.code == post)
    if stage is not None:
        statement = statement.where(StageRow.code == stage)
    if business_type is not None:
        statement = statement.where(bt.code == business_type)
    if org_unit is not None:
        statement = statement.where(unit.code == org_unit)
    rows = await session.execute(statement)
    return [ResponsibilityView(*r) for r in rows]


async def ids(
    session: AsyncSession, *, stage: str, post: str, business_type: str | None, org_unit: str | None
) -> dict[str, int | None]:
    """Row ids of the codes a responsibility names (None where a code is unknown or absent)."""

    async def one(table: type, code: str | None) -> int | None:
        if code is None:
            return None
        return await session.scalar(select(table.id).where(table.code == code))  # type: ignore[attr-defined]

    return {
        "stage": await one(StageRow, stage),
        "post": await one(PostRow, post),
        "business_type": await one(BusinessTypeRow, business_type),
        "org_unit": await one(OrgUnitRow, org_unit),
    }
