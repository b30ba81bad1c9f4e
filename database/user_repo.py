"""People as rows: users, their roles, posts and org unit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from database import throttle_repo
from database.tables import OrgUnitRow, PostRow, UserPostRow, UserRow

SIGN_IN = "signin"
"""The throttle scope of passwords; its targets are usernames, known or not."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: what authorisation decisions are made from."""

    id: int
    username: str
    name: str
    roles: frozenset[str]
    posts: frozenset[str]
    org_unit: str | None
    org_path: str | None
    token_epoch: int
    disabled: bool


async def get_row(session: AsyncSession, username: str) -> UserRow | None:
    """A user row by username."""
    return await session.scalar(select(UserRow).where(UserRow.username == username))


async def get_principal(session: AsyncSession, user_id: int) -> Principal | None:
    """The principal for a user id, with posts and org unit resolved."""
    row = await session.get(UserRow, user_id)
    return None if row is None else await principal_of(session, row)


async def principal_of(session: AsyncSession, row: UserRow) -> Principal:
    """The principal of a user row."""
    posts = (
        await session.scalars(
            select(PostRow.code)
            .join(UserPostRow, UserPostRow.post_id == PostRow.id)
            .where(UserPostRow.user_id == row.id)
        )
    ).all()
    unit = await session.get(OrgUnitRow, row.org_unit_id) if row.org_unit_id else None
    return Principal(
        id=row.id,
        username=row.username,
        name=row.name,
        roles=frozenset(row.roles),
        posts=frozenset(posts),
        org_unit=unit.code if unit else None,
        org_path=unit.path if unit else None,
        token_epoch=row.token_epoch,
        disabled=row.disabled,
    )


async def save(
    session: AsyncSession,
    *,
    username: str,
    name: str,
    password_hash: str | None,
    roles: Sequence[str],
    org_unit_id: int | None,
    post_codes: Sequence[str],
    now: dt.datetime,
) -> UserRow:
    """Create or update a user; a new password ends every token issued before it.

    A password set by an administrator also lifts a failed-login lock-out (and clears guesses
    counted against a username before it existed).
    """
    row = await get_row(session, username)
    if row is None:
        if password_hash is None:
            raise ValueError("a new user needs a password")
        row = UserRow(
            username=username,
            name=name,
            password_hash=password_hash,
            roles=list(roles),
            org_unit_id=org_unit_id,
            disabled=False,
            token_epoch=0,
            created_at=now,
        )
        session.add(row)
        await session.flush()
    else:
        row.name, row.roles, row.org_unit_id = name, list(roles), org_unit_id
        if password_hash is not None:
            row.password_hash = password_hash
            row.token_epoch += 1
    if password_hash is not None:
        await throttle_repo.clear_target(session, SIGN_IN, username)
    post_ids = (
        await session.scalars(select(PostRow.id).where(PostRow.code.in_(list(post_codes))))
    ).all()
    if len(post_ids) != len(set(post_codes)):
        raise ValueError("unknown post code")
    await session.execute(delete(UserPostRow).where(UserPostRow.user_id == row.id))
    for post_id in post_ids:
        session.add(UserPostRow(user_id=row.id, post_id=post_id))
    await session.flush()
    return row


async def set_password(
    session: AsyncSession, username: str, *, password_hash: str
) -> UserRow | None:
    """Give a user a new password: ends every token issued before and lifts a lock-out.

    None when there is no such user. Roles, posts and `disabled` are left as they are.
    """
    row = await session.scalar(
        select(UserRow).where(UserRow.username == username).with_for_update()
    )
    if row is None:
        return None
    row.password_hash = password_hash
    row.token_epoch += 1
    await throttle_repo.clear_target(session, SIGN_IN, username)
    await session.flush()
    return row


async def set_disabled(session: AsyncSession, row: UserRow, disabled: bool) -> None:
    """Disable or enable a user; disabling ends every token issued before."""
    if row.disabled != disabled:
        row.disabled = disabled
        row.token_epoch += 1
        await session.flush()


async def count_users(session: AsyncSession) -> int:
    """How many users exist."""
    return int(await session.scalar(select(func.count()).select_from(UserRow)) or 0)
