"""GraphQL shapes of people: users, their roles, and signing in."""

from __future__ import annotations

import datetime as dt

import strawberry

from metamodel.specs import Role
from schema.common import (
    UserError,
    describe_values,
)

RoleEnum = describe_values(
    strawberry.enum(Role, name="Role", description="What a user may do in general."),
    {
        "ADMIN": "Defines the metadata: dictionary, stages, posts, business types, fees, users.",
        "MANAGER": "Runs an org unit: responsibilities, assigning tasks, waivers, statistics.",
        "STAFF": "Works the tasks of their posts within their org unit.",
    },
)


@strawberry.type(description="A person who signs in.")
class User:
    """A user."""

    username: str = strawberry.field(description="The name the user signs in with.")
    name: str = strawberry.field(description="The person's name.")
    roles: list[RoleEnum] = strawberry.field(description="What the user may do in general.")  # type: ignore[valid-type]
    posts: list[str] = strawberry.field(description="Codes of the posts the user holds.")
    org_unit: str | None = strawberry.field(
        description="The code of the user's org unit; null for none."
    )
    disabled: bool = strawberry.field(
        default=False, description="Whether the user is barred from signing in."
    )


@strawberry.type(
    description=(
        "The result of login: a Bearer token for the Authorization header, or why sign-in failed."
    )
)
class LoginPayload:
    """The result of login: a Bearer token on success."""

    token: str | None = strawberry.field(
        default=None,
        description="The Bearer token to send in the Authorization header; null when refused.",
    )
    expires_at: dt.datetime | None = strawberry.field(
        default=None, description="When the token stops working."
    )
    user: User | None = strawberry.field(default=None, description="The signed-in user.")
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
