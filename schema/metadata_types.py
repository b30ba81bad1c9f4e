"""GraphQL shapes of the metamodel: the dictionary, stages, posts, org units, business types."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from metamodel.specs import BusinessGroup, Role
from schema.case_types import BusinessTypeRef
from schema.common import ItemTypeEnum, Problem, TimeLimit, TimeLimitInput, UserError

BusinessGroupEnum = strawberry.enum(
    BusinessGroup, name="BusinessGroup", description="业务类别 family."
)
RoleEnum = strawberry.enum(Role, name="Role", description="What a user may do in general.")
U = strawberry.UNSET


@strawberry.type(description="One value of an ENUM item.")
class EnumOption:
    """An option of an ENUM item."""

    value: str
    label: str


@strawberry.input(description="One value of an ENUM item.")
class EnumOptionInput:
    """An option of an ENUM item; `value` is UPPER_SNAKE."""

    value: str
    label: str


@strawberry.type(description="An entry of the data dictionary.")
class DataItem:
    """A typed field that business types use."""

    code: str
    label: str
    type: ItemTypeEnum  # type: ignore[valid-type]
    options: list[EnumOption]
    unit: str | None
    min: str | None
    max: str | None
    max_length: int | None
    pattern: str | None
    indexed: bool
    description: str | None


KEPT = " Omitted: an existing item keeps its value; null: cleared."


@strawberry.input(
    description=(
        "A data item to create or change. On an existing item, a field left out keeps its "
        "stored value and an explicit null clears it, so a partial upsert changes only what it "
        "names; a new item needs label and type."
    )
)
class UpsertDataItemInput:
    """min and max are strings in the item's own literal form, checked by its codec."""

    code: str = strawberry.field(
        description="The item's code (snake_case); it names the item everywhere and never changes."
    )
    label: str | None = strawberry.field(
        default=U,
        description=(
            "What people see the item called (the generated fields' description). Required for "
            "a new item; omitted or null, an existing item keeps its label."
        ),
    )
    type: ItemTypeEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U,
        description=(
            "The kind of value. Required for a new item; omitted or null, an existing item "
            "keeps its type. Fixed once a published version uses the item."
        ),
    )
    options: list[EnumOptionInput] | None = strawberry.field(
        default=U,
        description="The values of an ENUM item, in display order." + KEPT,
    )
    unit: str | None = strawberry.field(
        default=U, description="The unit values are in, such as kVA." + KEPT
    )
    min: str | None = strawberry.field(
        default=U, description="The smallest value accepted, in the item's literal form." + KEPT
    )
    max: str | None = strawberry.field(
        default=U, description="The largest value accepted, in the item's literal form." + KEPT
    )
    max_length: int | None = strawberry.field(
        default=U, description="The longest STRING or TEXT value accepted." + KEPT
    )
    pattern: str | None = strawberry.field(
        default=U,
        description="A regular expression every STRING or TEXT value must match." + KEPT,
    )
    indexed: bool | None = strawberry.field(
        default=U,
        description="Whether filters on this item are served by a database index." + KEPT,
    )
    description: str | None = strawberry.field(
        default=U, description="What the item means, for administrators." + KEPT
    )


@strawberry.type(description="One property of a data item, before and after a change.")
class ItemPropertyChange:
    """A changed property; ENUM options appear one by one as `options.VALUE` (their label)."""

    property: str = strawberry.field(
        description=(
            "The property as named in UpsertDataItemInput (label, maxLength, …), or "
            "options.VALUE for one ENUM option."
        )
    )
    before: str | None = strawberry.field(
        description="The value before, as text; null where it was not set or did not exist."
    )
    after: str | None = strawberry.field(
        description="The value after, as text; null where it is cleared or removed."
    )


@strawberry.type(
    description="A business type whose published versions use a data item, and what changes for it."
)
class ItemImpact:
    """The effect of a data item change on one business type."""

    business_type: BusinessTypeRef = strawberry.field(
        description="The business type whose published versions use the item."
    )
    versions: list[int] = strawberry.field(
        description="The numbers of its published versions that use the item."
    )
    changes: list[ItemPropertyChange] = strawberry.field(
        description=(
            "How the item its latest such version froze differs from the item after the change: "
            "what the type takes up when it is next published."
        )
    )


@strawberry.type
class UpsertDataItemPayload:
    """The result of upsertDataItem."""

    data_item: DataItem | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
    changes: list[ItemPropertyChange] = strawberry.field(
        default_factory=list,
        description="What the upsert changes in the dictionary entry (all set properties if new).",
    )
    impact: list[ItemImpact] = strawberry.field(
        default_factory=list,
        description=(
            "Every business type whose published versions use the item, with what changes for it; "
            "reported on a dry run and on a refusal too."
        ),
    )
    schema_changes: SchemaChanges | None = strawberry.field(
        default=None,
        description=(
            "What the change does to API clients at once (the dictionary-wide filters and the "
            "shared ENUM types), found as publishBusinessType finds them."
        ),
    )


@strawberry.type(description="A stage of the standard stage library (环节).")
class Stage:
    """A library stage."""

    code: str
    name: str
    time_limit: TimeLimit | None
    description: str | None


@strawberry.input(description="A library stage to create or replace.")
class UpsertStageInput:
    """A library stage."""

    code: str
    name: str
    time_limit: TimeLimitInput | None = U
    description: str | None = U


@strawberry.type
class UpsertStagePayload:
    """The result of upsertStage."""

    stage: Stage | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A post (岗位) that work is routed to.")
class Post:
    """A post."""

    code: str
    name: str
    description: str | None


@strawberry.input(description="A post to create or replace.")
class UpsertPostInput:
    """A post."""

    code: str
    name: str
    description: str | None = U


@strawberry.type
class UpsertPostPayload:
    """The result of upsertPost."""

    post: Post | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A unit of the organisation tree.")
class OrgUnit:
    """An org unit; `parent` is the parent's code."""

    code: str
    name: str
    parent: str | None
    path: list[str] = strawberry.field(description="Codes from the root down to this unit.")


@strawberry.input(description="An org unit to create, rename or move.")
class UpsertOrgUnitInput:
    """An org unit; `parent` is the parent's code (none for the root)."""

    code: str
    name: str
    parent: str | None = U


@strawberry.type
class UpsertOrgUnitPayload:
    """The result of upsertOrgUnit."""

    org_unit: OrgUnit | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- business types ------------------------------------------------------------------------------


@strawberry.type(description="How a business type uses a data item.")
class ItemUsage:
    """An item of a business type."""

    item: str
    required_at: list[str]
    editable_at: list[str]
    visible_to: list[str]


@strawberry.input(description="How a business type uses a data item.")
class ItemUsageInput:
    """requiredAt: stages that need it to finish; editableAt: where it may be written."""

    item: str
    required_at: list[str] | None = U
    editable_at: list[str] | None = U
    visible_to: list[str] | None = U


@strawberry.type(description="How a business type uses a stage.")
class StageUsage:
    """A stage of a business type."""

    stage: str
    time_limit: TimeLimit | None
    outcomes: list[str]
    requires_payment: bool
    waits_for_customer: bool
    join: bool


@strawberry.input(description="How a business type uses a stage.")
class StageUsageInput:
    """outcomes default to [APPROVE]; join waits for every branch of a parallel split."""

    stage: str
    time_limit: TimeLimitInput | None = U
    outcomes: list[str] | None = U
    requires_payment: bool | None = U
    waits_for_customer: bool | None = U
    join: bool | None = U


@strawberry.type(description="A move from one stage to others.")
class Transition:
    """Leave `from` with `outcome` for every stage in `to` when `condition` holds."""

    from_: str = strawberry.field(name="from")
    outcome: str
    to: list[str]
    condition: str | None


@strawberry.input(description="A move from one stage to others.")
class TransitionInput:
    """outcome defaults to APPROVE; several `to` stages are a parallel split."""

    from_: str = strawberry.field(name="from")
    to: list[str]
    outcome: str | None = U
    condition: str | None = U


@strawberry.type(description="Which data item fills an archive field.")
class ArchiveMapping:
    """An archive field and its item."""

    field: str
    item: str


@strawberry.input(description="Which data item fills an archive field.")
class ArchiveMappingInput:
    """An archive field and its item."""

    field: str
    item: str


@strawberry.type(description="A business type definition (a draft or a published version).")
class BusinessTypeDefinition:
    """The whole definition."""

    code: str
    name: str
    group: BusinessGroupEnum  # type: ignore[valid-type]
    priority: int
    description: str | None
    time_limit: TimeLimit | None
    items: list[ItemUsage]
    stages: list[StageUsage]
    transitions: list[Transition]
    start: str | None
    archive: list[ArchiveMapping]


@strawberry.input(description="A business type draft.")
class SaveBusinessTypeDraftInput:
    """The whole draft; saving replaces the previous draft."""

    code: str
    name: str
    group: BusinessGroupEnum | None = U  # type: ignore[valid-type]
    priority: int | None = U
    description: str | None = U
    time_limit: TimeLimitInput | None = U
    items: list[ItemUsageInput] | None = U
    stages: list[StageUsageInput] | None = U
    transitions: list[TransitionInput] | None = U
    start: str | None = U
    archive: list[ArchiveMappingInput] | None = U


@strawberry.type(description="A published version.")
class BusinessTypeVersion:
    """A frozen version."""

    version: int
    published_at: dt.datetime
    published_by: str
    definition: BusinessTypeDefinition


@strawberry.enum(description="Diagram formats.")
class DiagramFormat(Enum):
    """Formats a business type's flow can be drawn in."""

    MERMAID = "MERMAID"


@strawberry.type(description="An application category (业务类别).")
class BusinessType:
    """A business type with its draft and its published versions."""

    code: str
    name: str
    group: BusinessGroupEnum  # type: ignore[valid-type]
    status: str
    latest_version: int | None
    draft: BusinessTypeDefinition
    versions: list[BusinessTypeVersion]
    mermaid: strawberry.Private[str]

    @strawberry.field(description="The flow of the latest version (or the draft) as a diagram.")
    def diagram(self, format: DiagramFormat = DiagramFormat.MERMAID) -> str:
        """Only MERMAID exists so far."""
        return self.mermaid


@strawberry.type
class SaveBusinessTypeDraftPayload:
    """The result of saveBusinessTypeDraft; `problems` are what publishing would refuse."""

    business_type: BusinessType | None = None
    problems: list[Problem] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One change between the live schema and the one a publish makes.")
class SchemaChange:
    """A change found by graphql-core's change finders."""

    type: str
    description: str


@strawberry.type(description="What a publish changes for API clients.")
class SchemaChanges:
    """Breaking changes need allowBreaking; dangerous ones are reported."""

    breaking: list[SchemaChange]
    dangerous: list[SchemaChange]


@strawberry.type
class PublishBusinessTypePayload:
    """The result of publishBusinessType."""

    version: int | None = None
    problems: list[Problem] = strawberry.field(default_factory=list)
    schema_changes: SchemaChanges | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RetireBusinessTypePayload:
    """The result of retireBusinessType."""

    business_type: BusinessType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- people ---------------------------------------------------------------------------------------


@strawberry.type(description="A person who signs in.")
class User:
    """A user."""

    username: str
    name: str
    roles: list[RoleEnum]  # type: ignore[valid-type]
    posts: list[str]
    org_unit: str | None
    disabled: bool = False


@strawberry.type
class LoginPayload:
    """The result of login: a Bearer token on success."""

    token: str | None = None
    expires_at: dt.datetime | None = None
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
