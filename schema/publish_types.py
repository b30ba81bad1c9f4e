"""GraphQL shapes of publishing and retiring business types, and of schema changes."""

from __future__ import annotations

import strawberry

from schema.business_type_types import BusinessType
from schema.common import (
    Problem,
    UserError,
)


@strawberry.type(description="One change between the live schema and the one a publish makes.")
class SchemaChange:
    """A change found by graphql-core's change finders."""

    type: str = strawberry.field(
        description=(
            "The kind of change, as graphql-core names it (FIELD_REMOVED, TYPE_CHANGED_KIND, ...)."
        )
    )
    description: str = strawberry.field(
        description="The change in words, naming the type and field."
    )


@strawberry.type(description="What a publish changes for API clients.")
class SchemaChanges:
    """Breaking changes need allowBreaking; dangerous ones are reported."""

    breaking: list[SchemaChange] = strawberry.field(
        description="Changes that break existing queries; publishing them needs allowBreaking."
    )
    dangerous: list[SchemaChange] = strawberry.field(
        description="Changes that may change what existing queries get, such as a new enum value."
    )


@strawberry.type(
    description=(
        "The result of publishBusinessType: the new version number, or the problems and schema "
        "changes that stopped it."
    )
)
class PublishBusinessTypePayload:
    """The result of publishBusinessType."""

    version: int | None = strawberry.field(
        default=None, description="The version published; null for a dry run or a refusal."
    )
    problems: list[Problem] = strawberry.field(
        default_factory=list,
        description="What is wrong with the draft; any problem stops the publish.",
    )
    schema_changes: SchemaChanges | None = strawberry.field(
        default=None, description="What the publish changes (or would change) for API clients."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


@strawberry.type(
    description="The result of retireBusinessType: the business type, no longer open for new cases."
)
class RetireBusinessTypePayload:
    """The result of retireBusinessType."""

    business_type: BusinessType | None = strawberry.field(
        default=None, description="The retired business type; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
