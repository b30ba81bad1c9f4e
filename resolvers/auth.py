"""Signing in: `login` issues a Bearer token; `me` tells the caller who they are."""

from __future__ import annotations

from typing import Any

import strawberry

from database import user_repo
from database.user_repo import Principal
from resolvers.context import Context
from schema.common import ErrorCode, user_error
from schema.metadata_types import LoginPayload, User

Info = strawberry.Info[Context, Any]

BAD_LOGIN = "unknown username or wrong password"
"""One message for both cases, so a caller cannot probe which usernames exist."""


def user_out(principal: Principal) -> User:
    """A principal for output."""
    return User(
        username=principal.username,
        name=principal.name,
        roles=sorted(principal.roles),
        posts=sorted(principal.posts),
        org_unit=principal.org_unit,
    )


@strawberry.mutation(description="Sign in; send the token as `Authorization: Bearer <token>`.")
async def login(info: Info, username: str, password: str) -> LoginPayload:
    """Check the password (argon2) and issue a token; disabled users get none."""
    ctx = info.context
    async with ctx.db.read() as session:
        row = await user_repo.get_row(session, username)
        principal = await user_repo.principal_of(session, row) if row else None
    ok = ctx.credentials.verify_password(row.password_hash if row else None, password)
    if not ok or principal is None or principal.disabled:
        return LoginPayload(errors=[user_error(ErrorCode.VALIDATION, BAD_LOGIN, ("password",))])
    token, expires_at = ctx.credentials.issue_token(principal)
    return LoginPayload(token=token, expires_at=expires_at, user=user_out(principal))


@strawberry.field(description="The signed-in user.")
def me(info: Info) -> User | None:
    """The caller, from the token."""
    principal = info.context.principal
    return None if principal is None else user_out(principal)


QUERIES: list[Any] = [me]
MUTATIONS: list[Any] = [login]
