"""Storage of definitions for the use cases of service/definitions: reads, writes, publishes.

Nothing here decides: what to write and publish comes from metamodel.bundle_plan and
metamodel.freezing. Every function runs in the caller's transaction and returns plain values
(specs and records), never a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from database import fee_repo, metadata_repo, responsibility_repo, task_repo
from database.metadata_tables import BusinessTypeRow
from metamodel import bundle_plan, freezing, serialization, validation
from metamodel.specs import BusinessTypeSpec, BusinessTypeVersion, FeeRuleSpec


@dataclass(frozen=True, slots=True)
class DraftRecord:
    """A business type's stored draft and the number of its latest version (None: never)."""

    code: str
    draft: BusinessTypeSpec
    latest_version: int | None


async def load(session: AsyncSession) -> bundle_plan.Stored:
    """The definitions as stored, for a plan or an apply."""
    rows = await metadata_repo.get_business_types(session)
    latest: dict[str, BusinessTypeVersion] = {}
    for row in rows:
        if row.latest_version is not None:
            version = await metadata_repo.get_version(session, row.code, row.latest_version)
            if version is not None:
                latest[row.code] = version
    return bundle_plan.Stored(
        snapshot=await metadata_repo.load_snapshot(session),
        items=await metadata_repo.get_data_items(session),
        item_uses=await metadata_repo.item_uses(session),
        stages=await metadata_repo.get_stages(session),
        posts=await metadata_repo.get_posts(session),
        units=await metadata_repo.org_unit_specs(session),
        drafts={row.code: dict(row.draft) for row in rows},
        latest=latest,
        routes=await task_repo.responsibilities(session),
        fee_rules={rule.code: rule for rule, _ in await fee_repo.rules(session)},
    )


async def catalog(
    session: AsyncSession, code: str, *, reserved_names: frozenset[str], now: dt.datetime
) -> validation.Catalog:
    """What a draft of `code` is validated against: the dictionary and every other live type."""
    items = await metadata_repo.get_data_items(session)
    snapshot = await metadata_repo.load_snapshot(session)
    return freezing.catalog(
        code,
        items=items,
        stages=await metadata_repo.get_stages(session),
        posts=await metadata_repo.get_posts(session),
        reserved_names=reserved_names,
        names=freezing.served_names(snapshot, items),
        routes=await task_repo.responsibilities(session),
        now=now,
    )


def _record(row: BusinessTypeRow) -> DraftRecord:
    draft = serialization.business_type_from_dict(row.draft)
    return DraftRecord(row.code, draft, row.latest_version)


async def lock_draft(session: AsyncSession, code: str) -> DraftRecord | None:
    """The type's draft, its row locked until the transaction ends (one publish at a time)."""
    row = await metadata_repo.lock_business_type(session, code)
    if row is None:
        return None
    return DraftRecord(
        row.code, serialization.business_type_from_dict(row.draft), row.latest_version
    )


async def get_draft(session: AsyncSession, code: str) -> DraftRecord | None:
    """The type's draft, unlocked."""
    row = await metadata_repo.get_business_type(session, code)
    if row is None:
        return None
    return DraftRecord(
        row.code, serialization.business_type_from_dict(row.draft), row.latest_version
    )


async def add_version(
    session: AsyncSession, version: BusinessTypeVersion, *, by: str, now: dt.datetime
) -> None:
    """Store `version` as the one served of its type (whose row the caller has locked)."""
    row = await metadata_repo.lock_business_type(session, version.code)
    assert row is not None  # its draft was read or saved in this transaction
    await metadata_repo.add_version(session, row, version, by=by, now=now)


async def write(
    session: AsyncSession, work: bundle_plan.Work, *, by: str, now: dt.datetime
) -> None:
    """Everything an apply decided but the publishes, in dependency order."""
    for item in work.write_items:
        await metadata_repo.save_data_item(session, item, now=now)
    for stage in work.write_stages:
        await metadata_repo.save_stage(session, stage, now=now)
    for post in work.write_posts:
        await metadata_repo.save_post(session, post, now=now)
    for unit in work.write_units:
        parent = await metadata_repo.get_org_unit(session, unit.parent) if unit.parent else None
        await metadata_repo.save_org_unit(session, unit, parent, now=now)
    for spec in work.write_drafts:
        await metadata_repo.save_draft(session, spec, now=now)
    for r in work.write_responsibilities:
        ids = await responsibility_repo.ids(
            session, stage=r.stage, post=r.post, business_type=r.business_type, org_unit=r.org_unit
        )
        stage_id, post_id = ids["stage"], ids["post"]
        assert stage_id is not None and post_id is not None  # checked while planning
        await responsibility_repo.assign(
            session,
            stage_id=stage_id,
            post_id=post_id,
            business_type_id=ids["business_type"],
            org_unit_id=ids["org_unit"],
            effective_from=now,
            by=by,
            now=now,
        )
    for rule in work.write_rules:
        await fee_repo.save_rule(session, rule, by=by, now=now)


async def publish(
    session: AsyncSession,
    specs: Sequence[BusinessTypeSpec],
    *,
    stored: bundle_plan.Stored,
    by: str,
    now: dt.datetime,
) -> list[tuple[str, int]]:
    """Freeze each spec over `stored` as its type's next version; (code, number) of each."""
    published: list[tuple[str, int]] = []
    for spec in specs:
        row = await metadata_repo.lock_business_type(session, spec.code)
        assert row is not None  # its draft was saved by the apply or before
        number = (row.latest_version or 0) + 1
        version = freezing.freeze(spec, stored.items, stored.stages, number)
        await metadata_repo.add_version(session, row, version, by=by, now=now)
        published.append((spec.code, number))
    return published


async def fee_rules(session: AsyncSession) -> list[tuple[FeeRuleSpec, int]]:
    """Every fee rule with its current version number, by code."""
    return await fee_repo.rules(session)
