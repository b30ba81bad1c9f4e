"""Signing in: `login` issues a Bearer token; `me` tells the caller who they are."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import strawberry

from database import user_repo
from database.user_repo import Principal
from resolvers.context import Context
from schema.common import ErrorCode, user_error
from schema.metadata_types import LoginPayload, User

Info = strawberry.Info[Context, Any]

BAD_LOGIN = "unknown username, wrong password, or the account is locked or disabled"
"""One message for both cases, so a caller cannot probe which usernames exist."""


def user_out(principal: Principal) -> User:
    """A principal for output."""
    return User(
        username=principal.username,
        name=principal.name,
        roles=sorted(principal.roles),
        posts=sorted(principal.posts),
        org_unit=principal.org_unit,
        disabled=principal.disabled,
    )


@strawberry.mutation(description="Sign in; send the token as `Authorization: Bearer <token>`.")
async def login(info: Info, username: str, password: str) -> LoginPayload:
    """Check the password (argon2) and issue a token.

    Failures slow the next attempts down and, past a limit, lock the account for a while;
    a locked or disabled account gets no token, and every refusal reads the same.
    """
    ctx = info.context
    policy = ctx.credentials.lockout
    now = dt.datetime.now(dt.UTC)  # lock-outs run on wall-clock time, like tokens
    async with ctx.db.read() as session:
        row = await user_repo.get_row(session, username)
        principal = await user_repo.principal_of(session, row) if row else None
    if row is not None and row.failed_logins >= policy.slow_after:
        await asyncio.sleep(policy.delay(row.failed_logins))
    ok = await ctx.credentials.verify_password(row.password_hash if row else None, password)
    locked = row is not None and row.locked_until is not None and now < row.locked_until
    if not ok or locked or principal is None or principal.disabled:
        if row is not None and not ok:
            async with ctx.db.transaction() as session:
                await user_repo.record_failed_login(
                    session, row.id, now=now, limit=policy.max_failures, lock_for=policy.lock_for
                )
        return LoginPayload(errors=[user_error(ErrorCode.VALIDATION, BAD_LOGIN, ("password",))])
    if row is not None and row.failed_logins:
        async with ctx.db.transaction() as session:
            await user_repo.clear_failed_logins(session, row.id)
    token, expires_at = ctx.credentials.issue_token(principal)
    return LoginPayload(token=token, expires_at=expires_at, user=user_out(principal))


@strawberry.field(description="The signed-in user.")
def me(info: Info) -> User | None:
    """The caller, from the token."""
    principal = info.context.principal
    return None if principal is None else user_out(principal)


QUERIES: list[Any] = [me]
MUTATIONS: list[Any] = [login]
