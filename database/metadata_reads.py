"""Reading org units and business types as records, for resolvers that name them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.records import BusinessTypeRecord, OrgUnitRecord


def org_unit_record(row: OrgUnitRow) -> OrgUnitRecord:
    """A copy of an org unit row."""
    return OrgUnitRecord(
        id=row.id, code=row.code, name=row.name, parent_id=row.parent_id, path=row.path
    )


def business_type_record(row: BusinessTypeRow) -> BusinessTypeRecord:
    """A copy of a business type row's identity."""
    return BusinessTypeRecord(
        id=row.id,
        code=row.code,
        name=row.name,
        status=row.status,
        latest_version=row.latest_version,
    )


async def org_units(session: AsyncSession) -> list[OrgUnitRecord]:
    """Every org unit, parents before children."""
    rows = await session.scalars(select(OrgUnitRow).order_by(OrgUnitRow.path))
    return [org_unit_record(r) for r in rows]


async def org_unit(session: AsyncSession, code: str) -> OrgUnitRecord | None:
    """One org unit by code."""
    row = await session.scalar(select(OrgUnitRow).where(OrgUnitRow.code == code))
    return None if row is None else org_unit_record(row)


async def business_types(session: AsyncSession) -> list[BusinessTypeRecord]:
    """Every business type, in code order."""
    rows = await session.scalars(select(BusinessTypeRow).order_by(BusinessTypeRow.code))
    return [business_type_record(r) for r in rows]


async def business_type_draft(session: AsyncSession, code: str) -> dict[str, Any] | None:
    """A business type's draft as saved (None when there is no such type)."""
    draft: dict[str, Any] | None = await session.scalar(
        select(BusinessTypeRow.draft).where(BusinessTypeRow.code == code)
    )
    return draft
