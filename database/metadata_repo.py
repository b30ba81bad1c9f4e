"""Reading and writing metadata rows: the dictionary, stages, posts, org units, business types."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from database.metadata_tables import (
    BusinessTypeRow,
    BusinessTypeVersionRow,
    DataItemRow,
    MetadataRevisionRow,
    OrgUnitRow,
    PostRow,
    StageRow,
)
from metamodel import item_changes, serialization
from metamodel.snapshot import (
    BusinessTypeStatus,
    MetamodelSnapshot,
    PublishedType,
    audiences_of,
)
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    DataItemSpec,
    OrgUnitSpec,
    PostSpec,
    StageSpec,
)

NOTIFY_CHANNEL = "yekuo_metadata"


async def bump_revision(session: AsyncSession, *, now: dt.datetime) -> int:
    """Advance the metadata revision; PostgreSQL NOTIFYs listeners when the transaction commits."""
    result = await session.execute(
        update(MetadataRevisionRow)
        .where(MetadataRevisionRow.id == 1)
        .values(revision=MetadataRevisionRow.revision + 1, changed_at=now)
        .returning(MetadataRevisionRow.revision)
    )
    revision = int(result.scalar_one())
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}, '{revision}'"))
    return revision


async def get_revision(session: AsyncSession) -> int:
    """The current metadata revision."""
    result = await session.execute(
        select(MetadataRevisionRow.revision).where(MetadataRevisionRow.id == 1)
    )
    return int(result.scalar_one())


# -- data items ---------------------------------------------------------------------------------


async def get_data_items(session: AsyncSession) -> dict[str, DataItemSpec]:
    """The whole data dictionary by code, in code order."""
    rows = (await session.scalars(select(DataItemRow).order_by(DataItemRow.code))).all()
    return {row.code: serialization.data_item_from_dict(row.spec) for row in rows}


async def get_data_item(session: AsyncSession, code: str) -> DataItemSpec | None:
    """One data item, or None."""
    row = await session.scalar(select(DataItemRow).where(DataItemRow.code == code))
    return None if row is None else serialization.data_item_from_dict(row.spec)


async def save_data_item(session: AsyncSession, item: DataItemSpec, *, now: dt.datetime) -> None:
    """Insert or replace a data item."""
    row = await session.scalar(
        select(DataItemRow).where(DataItemRow.code == item.code).with_for_update()
    )
    spec = serialization.data_item_to_dict(item)
    if row is None:
        session.add(DataItemRow(code=item.code, type=item.type.value, spec=spec, updated_at=now))
    else:
        row.type, row.spec, row.updated_at = item.type.value, spec, now
    await session.flush()


# -- stages, posts, org units --------------------------------------------------------------------


async def get_stages(session: AsyncSession) -> dict[str, StageSpec]:
    """The stage library by code."""
    rows = (await session.scalars(select(StageRow).order_by(StageRow.code))).all()
    return {row.code: serialization.stage_from_dict(row.spec) for row in rows}


async def save_stage(session: AsyncSession, stage: StageSpec, *, now: dt.datetime) -> None:
    """Insert or replace a library stage."""
    row = await session.scalar(select(StageRow).where(StageRow.code == stage.code))
    spec = serialization.stage_to_dict(stage)
    if row is None:
        session.add(StageRow(code=stage.code, name=stage.name, spec=spec, updated_at=now))
    else:
        row.name, row.spec, row.updated_at = stage.name, spec, now
    await session.flush()


async def get_posts(session: AsyncSession) -> dict[str, PostSpec]:
    """Every post by code."""
    rows = (await session.scalars(select(PostRow).order_by(PostRow.code))).all()
    return {r.code: PostSpec(r.code, r.name, r.description) for r in rows}


async def save_post(session: AsyncSession, post: PostSpec, *, now: dt.datetime) -> None:
    """Insert or replace a post."""
    row = await session.scalar(select(PostRow).where(PostRow.code == post.code))
    if row is None:
        session.add(
            PostRow(code=post.code, name=post.name, description=post.description, updated_at=now)
        )
    else:
        row.name, row.description, row.updated_at = post.name, post.description, now
    await session.flush()


async def get_org_units(session: AsyncSession) -> list[OrgUnitRow]:
    """Every org unit, parents before children."""
    return list((await session.scalars(select(OrgUnitRow).order_by(OrgUnitRow.path))).all())


async def get_org_unit(session: AsyncSession, code: str) -> OrgUnitRow | None:
    """One org unit row by code."""
    return await session.scalar(select(OrgUnitRow).where(OrgUnitRow.code == code))


async def org_unit_specs(session: AsyncSession) -> dict[str, OrgUnitSpec]:
    """Every org unit as a spec, by code."""
    rows = await get_org_units(session)
    codes = {r.id: r.code for r in rows}
    return {
        r.code: OrgUnitSpec(r.code, r.name, codes.get(r.parent_id) if r.parent_id else None)
        for r in rows
    }


ORG_PATH_WIDTH: int = OrgUnitRow.__table__.c.path.type.length  # type: ignore[attr-defined]
"""The most characters an org unit's path (`/province/city/…/`) holds."""


async def path_after_save(
    session: AsyncSession, unit: OrgUnitSpec, parent: OrgUnitRow | None
) -> int:
    """The longest path a save of `unit` under `parent` would leave, its subtree's included."""
    path = f"{parent.path if parent else '/'}{unit.code}/"
    row = await get_org_unit(session, unit.code)
    if row is None:
        return len(path)
    deepest = await session.scalar(
        select(func.max(func.length(OrgUnitRow.path))).where(
            OrgUnitRow.path.startswith(row.path, autoescape=True)
        )
    )
    return len(path) + int(deepest or len(row.path)) - len(row.path)


async def save_org_unit(
    session: AsyncSession, unit: OrgUnitSpec, parent: OrgUnitRow | None, *, now: dt.datetime
) -> OrgUnitRow:
    """Insert or move/rename an org unit, keeping every descendant's path right."""
    path = f"{parent.path if parent else '/'}{unit.code}/"
    row = await get_org_unit(session, unit.code)
    if row is None:
        row = OrgUnitRow(
            code=unit.code,
            name=unit.name,
            parent_id=parent.id if parent else None,
            path=path,
            updated_at=now,
        )
        session.add(row)
    else:
        old_path = row.path
        row.name, row.parent_id, row.path, row.updated_at = (
            unit.name,
            parent.id if parent else None,
            path,
            now,
        )
        if old_path != path:
            descendants = await session.scalars(
                select(OrgUnitRow).where(
                    OrgUnitRow.path.startswith(old_path, autoescape=True), OrgUnitRow.id != row.id
                )
            )
            for child in descendants:
                child.path = path + child.path[len(old_path) :]
    await session.flush()
    return row


# -- business types ------------------------------------------------------------------------------


async def get_business_type(session: AsyncSession, code: str) -> BusinessTypeRow | None:
    """One business type row, or None."""
    return await session.scalar(select(BusinessTypeRow).where(BusinessTypeRow.code == code))


async def get_business_types(session: AsyncSession) -> list[BusinessTypeRow]:
    """Every business type row, in code order."""
    return list(
        (await session.scalars(select(BusinessTypeRow).order_by(BusinessTypeRow.code))).all()
    )


async def save_draft(
    session: AsyncSession, spec: BusinessTypeSpec, *, now: dt.datetime
) -> BusinessTypeRow:
    """Store a draft; a published type keeps serving its latest version until the next publish."""
    row = await session.scalar(
        select(BusinessTypeRow).where(BusinessTypeRow.code == spec.code).with_for_update()
    )
    draft = serialization.business_type_to_dict(spec)
    if row is None:
        row = BusinessTypeRow(
            code=spec.code,
            name=spec.name,
            group=spec.group.value,
            status=BusinessTypeStatus.DRAFT.value,
            draft=draft,
            draft_updated_at=now,
            created_at=now,
        )
        session.add(row)
    else:
        row.draft, row.draft_updated_at = draft, now
    await session.flush()
    return row


async def lock_business_type(session: AsyncSession, code: str) -> BusinessTypeRow | None:
    """The business type row, locked for a publish so two publishes cannot share a number."""
    return await session.scalar(
        select(BusinessTypeRow).where(BusinessTypeRow.code == code).with_for_update()
    )


async def add_version(
    session: AsyncSession,
    row: BusinessTypeRow,
    version: BusinessTypeVersion,
    *,
    by: str,
    now: dt.datetime,
) -> None:
    """Freeze a published version and make it the one served."""
    session.add(
        BusinessTypeVersionRow(
            business_type_id=row.id,
            version=version.version,
            definition=serialization.version_to_dict(version),
            published_at=now,
            published_by=by,
        )
    )
    row.latest_version = version.version
    row.name = version.spec.name
    row.group = version.spec.group.value
    row.status = BusinessTypeStatus.PUBLISHED.value
    await session.flush()


async def get_versions(
    session: AsyncSession, business_type_id: int
) -> list[BusinessTypeVersionRow]:
    """Every published version of a type, oldest first."""
    return list(
        (
            await session.scalars(
                select(BusinessTypeVersionRow)
                .where(BusinessTypeVersionRow.business_type_id == business_type_id)
                .order_by(BusinessTypeVersionRow.version)
            )
        ).all()
    )


async def get_version(
    session: AsyncSession, business_type_code: str, version: int
) -> BusinessTypeVersion | None:
    """One published version by type code and number."""
    definition = await session.scalar(
        select(BusinessTypeVersionRow.definition)
        .join(BusinessTypeRow, BusinessTypeRow.id == BusinessTypeVersionRow.business_type_id)
        .where(
            BusinessTypeRow.code == business_type_code, BusinessTypeVersionRow.version == version
        )
    )
    return None if definition is None else serialization.version_from_dict(definition)


async def item_uses(session: AsyncSession) -> dict[str, list[item_changes.ItemUse]]:
    """By item code: every business type whose published versions use it, with what each froze."""
    rows = (
        await session.execute(
            select(BusinessTypeRow.code, BusinessTypeRow.name, BusinessTypeVersionRow.definition)
            .join(BusinessTypeRow, BusinessTypeRow.id == BusinessTypeVersionRow.business_type_id)
            .order_by(BusinessTypeRow.code, BusinessTypeVersionRow.version)
        )
    ).all()
    found: dict[str, dict[str, tuple[str, list[int], list[DataItemSpec]]]] = {}
    for code, name, definition in rows:
        for raw in definition.get("items", ()):
            _, versions, frozen = found.setdefault(raw["code"], {}).setdefault(code, (name, [], []))
            versions.append(int(definition["version"]))
            frozen.append(serialization.data_item_from_dict(raw))
    return {
        item: [
            item_changes.ItemUse(code, name, tuple(versions), tuple(frozen))
            for code, (name, versions, frozen) in by_type.items()
        ]
        for item, by_type in found.items()
    }


async def load_snapshot(session: AsyncSession) -> MetamodelSnapshot:
    """Everything the schema is generated from, read in one transaction."""
    revision = await get_revision(session)
    items = await get_data_items(session)
    rows = [
        r
        for r in await get_business_types(session)
        if r.latest_version is not None and r.status != BusinessTypeStatus.DRAFT.value
    ]
    versions = (
        await session.execute(
            select(BusinessTypeVersionRow.business_type_id, BusinessTypeVersionRow.definition)
            .where(BusinessTypeVersionRow.business_type_id.in_([r.id for r in rows]))
            .order_by(BusinessTypeVersionRow.version)
        )
    ).all()
    by_type: dict[int, list[BusinessTypeVersion]] = {}
    for type_id, definition in versions:
        by_type.setdefault(type_id, []).append(serialization.version_from_dict(definition))
    published: list[PublishedType] = []
    for row in rows:
        history = by_type.get(row.id, [])
        if not history:
            continue
        latest = history[-1]
        retired: dict[str, DataItemSpec] = {}
        for older in history[:-1]:
            for code, item in older.items.items():
                if code not in latest.items:
                    retired[code] = item
        published.append(
            PublishedType(
                code=row.code,
                name=row.name,
                group=BusinessGroup(row.group),
                status=BusinessTypeStatus(row.status),
                latest=latest,
                retired_items=retired,
                audiences=audiences_of(history),
            )
        )
    return MetamodelSnapshot(revision=revision, types=tuple(published), items=items)
