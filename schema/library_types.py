"""GraphQL shapes of the libraries business types draw on: stages, posts and org units."""

from __future__ import annotations

import strawberry

from schema.common import (
    TimeLimit,
    TimeLimitInput,
    UserError,
)

U = strawberry.UNSET


@strawberry.type(description="A stage of the standard stage library (环节).")
class Stage:
    """A library stage."""

    code: str = strawberry.field(description="The stage's code.")
    name: str = strawberry.field(description="The stage's name, such as 现场勘查.")
    time_limit: TimeLimit | None = strawberry.field(
        description="The default time the stage may take; a business type may set its own."
    )
    description: str | None = strawberry.field(description="What is done at the stage.")


@strawberry.input(description="A library stage to create or replace.")
class UpsertStageInput:
    """A library stage."""

    code: str = strawberry.field(description="The stage's code.")
    name: str = strawberry.field(description="The stage's name.")
    time_limit: TimeLimitInput | None = strawberry.field(
        default=U, description="The default time the stage may take."
    )
    description: str | None = strawberry.field(default=U, description="What is done at the stage.")


@strawberry.type(
    description="The result of upsertStage: the library stage as saved, or why it was refused."
)
class UpsertStagePayload:
    """The result of upsertStage."""

    stage: Stage | None = strawberry.field(
        default=None, description="The stage as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


@strawberry.type(description="A post (岗位) that work is routed to.")
class Post:
    """A post."""

    code: str = strawberry.field(description="The post's code.")
    name: str = strawberry.field(description="The post's name, such as 受理员.")
    description: str | None = strawberry.field(
        description="What the post does, for administrators."
    )


@strawberry.input(description="A post to create or replace.")
class UpsertPostInput:
    """A post."""

    code: str = strawberry.field(description="The post's code.")
    name: str = strawberry.field(description="The post's name.")
    description: str | None = strawberry.field(default=U, description="What the post does.")


@strawberry.type(description="The result of upsertPost: the post as saved, or why it was refused.")
class UpsertPostPayload:
    """The result of upsertPost."""

    post: Post | None = strawberry.field(
        default=None, description="The post as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


@strawberry.type(description="A unit of the organisation tree.")
class OrgUnit:
    """An org unit; `parent` is the parent's code."""

    code: str = strawberry.field(description="The unit's code.")
    name: str = strawberry.field(description="The unit's name, such as a county company.")
    parent: str | None = strawberry.field(
        description="The code of the unit above; null for the root."
    )
    path: list[str] = strawberry.field(description="Codes from the root down to this unit.")


@strawberry.input(description="An org unit to create, rename or move.")
class UpsertOrgUnitInput:
    """An org unit; `parent` is the parent's code (none for the root)."""

    code: str = strawberry.field(description="The unit's code.")
    name: str = strawberry.field(description="The unit's name.")
    parent: str | None = strawberry.field(
        default=U, description="The code of the unit above; omitted for the root."
    )


@strawberry.type(
    description="The result of upsertOrgUnit: the org unit as saved, or why it was refused."
)
class UpsertOrgUnitPayload:
    """The result of upsertOrgUnit."""

    org_unit: OrgUnit | None = strawberry.field(
        default=None, description="The org unit as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
