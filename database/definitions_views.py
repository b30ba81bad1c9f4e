"""Business types, org units and drafts as plain records, for the definitions' use cases.

The rows stay here: what leaves are frozen records with the definitions decoded into specs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from database import metadata_reads, metadata_repo
from database.metadata_tables import BusinessTypeRow
from database.records import OrgUnitRecord
from metamodel import serialization
from metamodel.snapshot import BusinessTypeStatus
from metamodel.specs import BusinessTypeSpec, BusinessTypeVersion, OrgUnitSpec, Problem


@dataclass(frozen=True, slots=True)
class VersionView:
    """A published version with who published it when."""

    published_at: dt.datetime
    published_by: str
    frozen: BusinessTypeVersion


@dataclass(frozen=True, slots=True)
class BusinessTypeView:
    """A business type: its draft, status and every published version, oldest first."""

    code: str
    status: str
    latest_version: int | None
    draft: BusinessTypeSpec
    versions: tuple[VersionView, ...]


async def _view(session: AsyncSession, row: BusinessTypeRow) -> BusinessTypeView:
    versions = await metadata_repo.get_versions(session, row.id)
    return BusinessTypeView(
        code=row.code,
        status=row.status,
        latest_version=row.latest_version,
        draft=serialization.business_type_from_dict(row.draft),
        versions=tuple(
            VersionView(
                v.published_at, v.published_by, serialization.version_from_dict(v.definition)
            )
            for v in versions
        ),
    )


async def business_type(session: AsyncSession, code: str) -> BusinessTypeView | None:
    """One business type by code, or None."""
    row = await metadata_repo.get_business_type(session, code)
    return None if row is None else await _view(session, row)


async def business_types(session: AsyncSession) -> list[BusinessTypeView]:
    """Every business type, by code."""
    return [await _view(session, r) for r in await metadata_repo.get_business_types(session)]


async def save_draft(session: AsyncSession, spec: BusinessTypeSpec, *, now: dt.datetime) -> None:
    """Save `spec` as its type's draft (creating the type when new)."""
    await metadata_repo.save_draft(session, spec, now=now)


async def retire(session: AsyncSession, code: str) -> str | None:
    """Close a published type to new cases; its status before (None: no such type).

    Only a PUBLISHED type changes; the caller reports any other status as a refusal.
    """
    row = await metadata_repo.lock_business_type(session, code)
    if row is None:
        return None
    before = row.status
    if before == BusinessTypeStatus.PUBLISHED.value:
        row.status = BusinessTypeStatus.RETIRED.value
        await session.flush()
    return before


async def save_org_unit(
    session: AsyncSession, unit: OrgUnitSpec, *, now: dt.datetime
) -> OrgUnitRecord | Problem:
    """Create, rename or move an org unit; the Problem (with its field) when it cannot be so."""
    parent = await metadata_repo.get_org_unit(session, unit.parent) if unit.parent else None
    if unit.parent and parent is None:
        return Problem("NOT_FOUND", f"no org unit '{unit.parent}'", ("parent",))
    if parent is not None and f"/{unit.code}/" in parent.path:
        return Problem(
            "VALIDATION",
            f"'{unit.parent}' is '{unit.code}' or below it; a unit cannot be its own ancestor",
            ("parent",),
        )
    if await metadata_repo.path_after_save(session, unit, parent) > metadata_repo.ORG_PATH_WIDTH:
        return Problem(
            "VALIDATION",
            "the org tree would be too deep: a unit's path (its codes from the top) holds at "
            f"most {metadata_repo.ORG_PATH_WIDTH} characters",
            ("parent",),
        )
    row = await metadata_repo.save_org_unit(session, unit, parent, now=now)
    return metadata_reads.org_unit_record(row)
