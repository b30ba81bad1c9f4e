"""The reference data every request reads, loaded in one go, and the number that dates it.

Names, codes, the org tree, the calendar, responsibilities and fee rules change rarely and are
read by every command; each process keeps them (see `service.reference`) and asks one cheap
question per request, `stamp`, to know whether its copy is still current. The stamp moves with
every write to those tables: triggers (migration 0009) see to it, whoever writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework import routing
from database import calendar_repo, fee_repo, metadata_reads, task_repo
from database.metadata_tables import (
    BusinessTypeRow,
    MetadataRevisionRow,
    PostRow,
    StageRow,
)
from database.records import OrgUnitRecord
from metamodel.specs import FeeRuleSpec

Stamp = tuple[int, int]
"""(metadata revision, reference revision): equal stamps mean equal reference data."""


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Everything `load` reads, as plain values shared by every request of a process."""

    stamp: Stamp
    business_types: Mapping[int, tuple[str, str]]
    """Business type id -> (code, name)."""
    org_units: Mapping[int, OrgUnitRecord]
    stage_names: Mapping[str, str]
    post_names: Mapping[str, str]
    calendar_overrides: Mapping[dt.date, tuple[bool, str | None]]
    responsibilities: tuple[routing.Responsibility, ...]
    fee_rules: tuple[tuple[FeeRuleSpec, int], ...]


STAMP = select(
    MetadataRevisionRow.revision,
    MetadataRevisionRow.reference_revision,
    MetadataRevisionRow.security_revision,
).where(MetadataRevisionRow.id == 1)
"""Built once: every request runs it."""
STAMP_COLUMNS = tuple(
    select(column).where(MetadataRevisionRow.id == 1).scalar_subquery()
    for column in (
        MetadataRevisionRow.revision,
        MetadataRevisionRow.reference_revision,
        MetadataRevisionRow.security_revision,
    )
)
"""The stamps as three columns another statement can carry (`compiled_reads`)."""


def stamps_of(values: Sequence[object]) -> tuple[Stamp, int]:
    """(stamp, security revision) from the three values of `STAMP_COLUMNS`."""
    revision, reference, security = values
    return (int(revision), int(reference)), int(security)  # type: ignore[call-overload]


async def stamp(session: AsyncSession) -> Stamp:
    """The current stamp: one indexed read of one row."""
    return (await stamps(session))[0]


async def stamps(session: AsyncSession) -> tuple[Stamp, int]:
    """The stamp and the security revision (who may do what), in the same one statement.

    A request with a token asks both at once: its caller and the reference data are then
    known current without a statement of their own.
    """
    revision, reference, security = (await (await session.connection()).execute(STAMP)).one()
    return (int(revision), int(reference)), int(security)


async def load(session: AsyncSession, current: Stamp) -> ReferenceData:
    """The reference data as of `current` (read in the caller's transaction)."""
    types = await session.execute(
        select(BusinessTypeRow.id, BusinessTypeRow.code, BusinessTypeRow.name)
    )
    stages = await session.execute(select(StageRow.code, StageRow.name))
    posts = await session.execute(select(PostRow.code, PostRow.name))
    return ReferenceData(
        stamp=current,
        business_types={i: (code, name) for i, code, name in types},
        org_units={u.id: u for u in await metadata_reads.org_units(session)},
        stage_names=dict(stages.all()),
        post_names=dict(posts.all()),
        calendar_overrides=await calendar_repo.get_overrides(session),
        responsibilities=tuple(await task_repo.responsibilities(session)),
        fee_rules=tuple(await fee_repo.rules(session)),
    )
