"""People: administrators create and change users; managers list those of their subtree."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from database import metadata_reads, metadata_repo, user_reads, user_repo
from metamodel.specs import Role
from resolvers import policy
from resolvers.auth import user_out
from resolvers.context import Context
from resolvers.convert import given
from schema.common import ErrorCode, UserError, user_error
from schema.user_types import RoleEnum, User

Info = strawberry.Info[Context, Any]
MIN_PASSWORD = 8
U = strawberry.UNSET


@strawberry.input(description="A user to create or change; leave password out to keep it.")
class UpsertUserInput:
    """A new password, or disabling, ends every token issued before."""

    username: str = strawberry.field(description="The name the user signs in with.")
    name: str = strawberry.field(description="The person's name.")
    roles: list[RoleEnum] = strawberry.field(description="What the user may do in general.")  # type: ignore[valid-type]
    password: str | None = strawberry.field(
        default=U, description="A new password; omitted: unchanged (required for a new user)."
    )
    posts: list[str] | None = strawberry.field(
        default=U, description="Codes of the posts the user holds."
    )
    org_unit: str | None = strawberry.field(
        default=U, description="The code of the user's org unit."
    )
    disabled: bool | None = strawberry.field(
        default=U, description="true: the user can no longer sign in."
    )


@strawberry.type(description="The result of upsertUser: the user as saved, or why it was refused.")
class UpsertUserPayload:
    """The result of upsertUser."""

    user: User | None = strawberry.field(
        default=None, description="The user as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


@strawberry.mutation(description="Create or change a user (ADMIN).")
async def upsert_user(
    info: Info,
    input: Annotated[
        UpsertUserInput, strawberry.argument(description="The user to create or change.")
    ],
) -> UpsertUserPayload:
    """Posts and org unit must exist; a new user needs a password of at least 8 characters."""
    ctx = info.context
    password = given(input.password)
    errors: list[UserError] = []
    if not input.username or len(input.username) > 63 or not input.username.isprintable():
        errors.append(
            user_error(
                ErrorCode.VALIDATION,
                "a username is 1-63 printable characters",
                ("input", "username"),
            )
        )
    if password is not None and len(password) < MIN_PASSWORD:
        errors.append(
            user_error(
                ErrorCode.VALIDATION,
                f"a password has at least {MIN_PASSWORD} characters",
                ("input", "password"),
            )
        )
    if not input.roles:
        errors.append(user_error(ErrorCode.REQUIRED, "give the user a role", ("input", "roles")))
    # Hashed before the transaction: argon2 is slow and must not hold the database's locks.
    password_hash = (
        await ctx.credentials.hash_password(password) if password and not errors else None
    )
    async with ctx.db.transaction() as session:
        known_user = await user_reads.exists(session, input.username)
        if not known_user and password is None:
            errors.append(
                user_error(ErrorCode.REQUIRED, "a new user needs a password", ("input", "password"))
            )
        known = await metadata_repo.get_posts(session)
        posts = list(given(input.posts, []))
        errors += [
            user_error(ErrorCode.NOT_FOUND, f"no post '{p}'", ("input", "posts", i))
            for i, p in enumerate(posts)
            if p not in known
        ]
        unit_code = given(input.org_unit)
        unit = await metadata_reads.org_unit(session, unit_code) if unit_code else None
        if unit_code and unit is None:
            errors.append(
                user_error(ErrorCode.NOT_FOUND, f"no org unit '{unit_code}'", ("input", "orgUnit"))
            )
        if errors:
            return UpsertUserPayload(errors=errors)
        saved = await user_repo.save(
            session,
            username=input.username,
            name=input.name,
            password_hash=password_hash,
            roles=[Role(r).value for r in input.roles],
            org_unit_id=unit.id if unit else None,
            post_codes=posts,
            now=ctx.now(),
            disabled=None if given(input.disabled) is None else bool(input.disabled),
        )
    return UpsertUserPayload(user=user_out(saved))


@strawberry.field(description="Users (ADMIN: all; MANAGER: those of their org subtree).")
async def users(info: Info) -> list[User]:
    """By username."""
    ctx = info.context
    principal = ctx.principal
    assert principal is not None
    subtree = None if policy.is_admin(principal) else principal.org_path or "/nowhere/"
    async with ctx.db.read() as session:
        found = await user_reads.principals(session, org_path=subtree)
    return [user_out(p) for p in found]


QUERIES: list[Any] = [users]
MUTATIONS: list[Any] = [upsert_user]
