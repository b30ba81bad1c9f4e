"""Signing in: `login` issues a Bearer token; `me` tells the caller who they are."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry

from database import throttle_repo, user_repo
from database.user_repo import Principal
from resolvers.context import Context
from schema.common import ErrorCode, user_error
from schema.user_types import LoginPayload, User

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
async def login(
    info: Info,
    username: Annotated[str, strawberry.argument(description="The name the user signs in with.")],
    password: Annotated[str, strawberry.argument(description="The user's password.")],
) -> LoginPayload:
    """Check the password (argon2) and issue a token.

    The guess is counted as wrong before the password is checked and taken back if it was
    right, so concurrent guesses get no more checks than the lock-out allows (the policy:
    `server.security`). An unknown username goes through the same steps as a known one (the
    same counters, delay and check, against a dummy hash), and every refusal reads the same.
    """
    ctx = info.context
    policy = ctx.credentials.lockout
    async with ctx.db.transaction() as session:
        attempt = await throttle_repo.reserve(
            session,
            user_repo.SIGN_IN,
            target=username,
            source=ctx.source_address,
            limits=policy.limits,
            now=ctx.now(),
        )
        row = None if attempt is None else await user_repo.sign_in(session, username)
    if attempt is None:
        return _refused()
    # The delay and the check run after the counters' transaction: no row stays locked.
    await asyncio.sleep(policy.delay(attempt.source_failures))
    ok = await ctx.credentials.verify_password(row.password_hash if row else None, password)
    if not ok or row is None or row.disabled:
        return _refused()
    async with ctx.db.transaction() as session:
        principal = await user_repo.get_principal(session, row.id)
        # A password or status changed meanwhile (a new epoch) is checked again next time.
        if principal is None or principal.disabled or principal.token_epoch != row.token_epoch:
            return _refused()
        await throttle_repo.forgive(session, attempt)
    token, expires_at = ctx.credentials.issue_token(principal)
    return LoginPayload(token=token, expires_at=expires_at, user=user_out(principal))


def _refused() -> LoginPayload:
    return LoginPayload(errors=[user_error(ErrorCode.VALIDATION, BAD_LOGIN, ("password",))])


@strawberry.field(description="The signed-in user.")
def me(info: Info) -> User | None:
    """The caller, from the token."""
    principal = info.context.principal
    return None if principal is None else user_out(principal)


QUERIES: list[Any] = [me]
MUTATIONS: list[Any] = [login]
