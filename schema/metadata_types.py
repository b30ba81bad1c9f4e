"""GraphQL shapes of the metamodel: the dictionary, stages, posts, org units, business types."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from metamodel.specs import BusinessGroup, Role
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


@strawberry.input(description="A data item to create or replace.")
class UpsertDataItemInput:
    """min and max are strings in the item's own literal form, checked by its codec."""

    code: str
    label: str
    type: ItemTypeEnum  # type: ignore[valid-type]
    options: list[EnumOptionInput] | None = U
    unit: str | None = U
    min: str | None = U
    max: str | None = U
    max_length: int | None = U
    pattern: str | None = U
    indexed: bool | None = U
    description: str | None = U


@strawberry.type
class UpsertDataItemPayload:
    """The result of upsertDataItem."""

    data_item: DataItem | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


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
