"""Reading people: the principals of a subtree, posts and org units resolved in bulk."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.case_reads import in_subtree
from database.metadata_tables import OrgUnitRow, PostRow
from database.security_tables import UserPostRow, UserRow
from database.user_repo import Principal


async def principals(session: AsyncSession, *, org_path: str | None = None) -> list[Principal]:
    """Users by username (only those in the subtree at `org_path` when given), in 3 statements."""
    statement = select(UserRow).order_by(UserRow.username)
    if org_path is not None:
        statement = statement.where(in_subtree(UserRow.org_unit_id, org_path))
    users = list((await session.scalars(statement)).all())
    if not users:
        return []
    posts: dict[int, set[str]] = defaultdict(set)
    for user_id, code in await session.execute(
        select(UserPostRow.user_id, PostRow.code)
        .join(PostRow, PostRow.id == UserPostRow.post_id)
        .where(UserPostRow.user_id.in_([u.id for u in users]))
    ):
        posts[user_id].add(code)
    unit_ids = sorted({u.org_unit_id for u in users if u.org_unit_id is not None})
    units = {
        i: (c, p)
        for i, c, p in await session.execute(
            select(OrgUnitRow.id, OrgUnitRow.code, OrgUnitRow.path).where(
                OrgUnitRow.id.in_(unit_ids)
            )
        )
    }
    found = []
    for user in users:
        unit = units.get(user.org_unit_id) if user.org_unit_id is not None else None
        found.append(
            Principal(
                id=user.id,
                username=user.username,
                name=user.name,
                roles=frozenset(user.roles),
                posts=frozenset(posts[user.id]),
                org_unit=unit[0] if unit else None,
                org_path=unit[1] if unit else None,
                token_epoch=user.token_epoch,
                disabled=user.disabled,
            )
        )
    return found


async def exists(session: AsyncSession, username: str) -> bool:
    """Whether a user of that name exists."""
    found = await session.scalar(select(UserRow.id).where(UserRow.username == username))
    return found is not None
