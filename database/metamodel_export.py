"""The stored metamodel as a bundle: what `exportMetamodel` and `yekuo metamodel export` print."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from database import fee_repo, metadata_repo, task_repo
from metamodel import responsibilities, serialization
from metamodel.bundle import Bundle
from metamodel.specs import BusinessTypeSpec


async def export_bundle(session: AsyncSession, *, now: dt.datetime) -> Bundle:
    """The database's metamodel as a bundle: applying it back changes nothing.

    A business type is exported as its latest published version's definition (in
    `business_types`), and its draft (in `drafts`) where it differs from that version or where
    the type has no published version; responsibilities as those in effect at `now`; every fee
    rule, charged or abolished.
    """
    served: list[BusinessTypeSpec] = []
    drafts: list[BusinessTypeSpec] = []
    for row in await metadata_repo.get_business_types(session):
        draft = serialization.business_type_from_dict(row.draft)
        latest = None
        if row.latest_version is not None:
            latest = await metadata_repo.get_version(session, row.code, row.latest_version)
        if latest is not None:
            served.append(latest.spec)
        if latest is None or serialization.business_type_to_dict(
            draft
        ) != serialization.business_type_to_dict(latest.spec):
            drafts.append(draft)
    routes = await task_repo.responsibilities(session)
    return Bundle(
        items=tuple((await metadata_repo.get_data_items(session)).values()),
        stages=tuple((await metadata_repo.get_stages(session)).values()),
        posts=tuple((await metadata_repo.get_posts(session)).values()),
        org_units=tuple((await metadata_repo.org_unit_specs(session)).values()),
        business_types=tuple(served),
        responsibilities=tuple(responsibilities.in_effect(routes, now)),
        fee_rules=tuple(rule for rule, _ in await fee_repo.rules(session)),
        drafts=tuple(drafts),
    )
