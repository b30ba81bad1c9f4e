"""People as rows: users, their roles, posts and org unit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from database import throttle_repo
from database.metadata_tables import OrgUnitRow, PostRow
from database.security_tables import UserPostRow, UserRow

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


@dataclass(frozen=True, slots=True)
class SignIn:
    """What checking a password needs of a user, and nothing more."""

    id: int
    password_hash: str
    disabled: bool
    token_epoch: int


async def sign_in(session: AsyncSession, username: str) -> SignIn | None:
    """The password hash and status of a user by username, for signing in."""
    found = (
        await session.execute(
            select(UserRow.id, UserRow.password_hash, UserRow.disabled, UserRow.token_epoch).where(
                UserRow.username == username
            )
        )
    ).first()
    return None if found is None else SignIn(*found)


async def get_row(session: AsyncSession, username: str) -> UserRow | None:
    """A user row by username."""
    return await session.scalar(select(UserRow).where(UserRow.username == username))


async def principal_by_username(session: AsyncSession, username: str) -> Principal | None:
    """The principal of a username, or None."""
    row = await get_row(session, username)
    return None if row is None else await _principal_of(session, row)


_POSTS = (
    select(func.aggregate_strings(PostRow.code, ","))
    .join(UserPostRow, UserPostRow.post_id == PostRow.id)
    .where(UserPostRow.user_id == UserRow.id)
    .scalar_subquery()
)
PRINCIPAL = (
    select(
        UserRow.id,
        UserRow.username,
        UserRow.name,
        UserRow.roles,
        UserRow.token_epoch,
        UserRow.disabled,
        OrgUnitRow.code,
        OrgUnitRow.path,
        _POSTS,
    )
    .outerjoin(OrgUnitRow, OrgUnitRow.id == UserRow.org_unit_id)
    .where(UserRow.id == bindparam("user_id"))
)
"""The caller behind a token, posts and org unit included: one statement, built once."""


async def get_principal(session: AsyncSession, user_id: int) -> Principal | None:
    """The principal for a user id (every request with a token asks this)."""
    found = (await (await session.connection()).execute(PRINCIPAL, {"user_id": user_id})).first()
    if found is None:
        return None
    user_id, username, name, roles, epoch, disabled, unit_code, unit_path, codes = found
    return Principal(
        id=user_id,
        username=username,
        name=name,
        roles=frozenset(roles),
        posts=frozenset(codes.split(",")) if codes else frozenset(),
        org_unit=unit_code,
        org_path=unit_path,
        token_epoch=epoch,
        disabled=disabled,
    )


async def _principal_of(session: AsyncSession, row: UserRow) -> Principal:
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
    disabled: bool | None = None,
) -> Principal:
    """Create or update a user; a new password ends every token issued before it.

    A password set by an administrator also lifts a failed-login lock-out (and clears guesses
    counted against a username before it existed). `disabled`, when given, disables or
    enables the user (disabling also ends their tokens).
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
    if disabled is not None:
        await _set_disabled(session, row, disabled)
    return await _principal_of(session, row)


async def set_password(
    session: AsyncSession, username: str, *, password_hash: str
) -> Principal | None:
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
    return await _principal_of(session, row)


async def _set_disabled(session: AsyncSession, row: UserRow, disabled: bool) -> None:
    """Disable or enable a user; disabling ends every token issued before."""
    if row.disabled != disabled:
        row.disabled = disabled
        row.token_epoch += 1
        await session.flush()


async def count_users(session: AsyncSession) -> int:
    """How many users exist."""
    return int(await session.scalar(select(func.count()).select_from(UserRow)) or 0)
