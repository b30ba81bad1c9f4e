"""Tasks as rows: kept in step with a case's visits, routed to posts, listed within a scope."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from casework import routing
from database.metadata_tables import (
    BusinessTypeRow,
    OrgUnitRow,
    PostRow,
    ResponsibilityRow,
    StageRow,
)


class TaskStatus:
    """Task statuses (the API's TaskStatus enum)."""

    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED)


async def responsibilities(session: AsyncSession) -> list[routing.Responsibility]:
    """Every responsibility row, as the router reads them."""
    rows = await session.execute(
        select(
            StageRow.code,
            PostRow.code,
            BusinessTypeRow.code,
            OrgUnitRow.code,
            ResponsibilityRow.effective_from,
            ResponsibilityRow.effective_to,
        )
        .select_from(ResponsibilityRow)
        .join(StageRow, StageRow.id == ResponsibilityRow.stage_id)
        .join(PostRow, PostRow.id == ResponsibilityRow.post_id)
        .outerjoin(BusinessTypeRow, BusinessTypeRow.id == ResponsibilityRow.business_type_id)
        .outerjoin(OrgUnitRow, OrgUnitRow.id == ResponsibilityRow.org_unit_id)
        .order_by(ResponsibilityRow.id.desc())
    )
    return [
        routing.Responsibility(
            stage=stage,
            post=post,
            business_type=business_type,
            org_unit=org_unit,
            effective_from=start,
            effective_to=end,
        )
        for stage, post, business_type, org_unit, start, end in rows
    ]


def path_codes(path: str) -> list[str]:
    """Unit codes from the root down, from a materialised path `/a/b/c/`."""
    return [p for p in path.split("/") if p]
