"""GraphQL shapes of the metamodel: the dictionary, stages, posts, org units, business types."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from metamodel.specs import BusinessGroup, Role
from schema.case_types import BusinessTypeRef
from schema.common import (
    ItemTypeEnum,
    Problem,
    TimeLimit,
    TimeLimitInput,
    UserError,
    describe_values,
)

BusinessGroupEnum = describe_values(
    strawberry.enum(
        BusinessGroup,
        name="BusinessGroup",
        description="The family an application belongs to (业务类别).",
    ),
    {
        "NEW": "新装: a new connection.",
        "INCREASE": "增容: more capacity for an existing customer.",
        "TEMPORARY": "临时用电: a supply for a limited time.",
        "CHANGE": "变更用电: a change to an existing customer's supply or account.",
        "OTHER": "Any other kind of application.",
    },
)
RoleEnum = describe_values(
    strawberry.enum(Role, name="Role", description="What a user may do in general."),
    {
        "ADMIN": "Defines the metadata: dictionary, stages, posts, business types, fees, users.",
        "MANAGER": "Runs an org unit: responsibilities, assigning tasks, waivers, statistics.",
        "STAFF": "Works the tasks of their posts within their org unit.",
    },
)
U = strawberry.UNSET


@strawberry.type(description="One value of an ENUM item.")
class EnumOption:
    """An option of an ENUM item."""

    value: str = strawberry.field(description="The value stored and sent (UPPER_SNAKE).")
    label: str = strawberry.field(description="What people see.")


@strawberry.input(description="One value of an ENUM item.")
class EnumOptionInput:
    """An option of an ENUM item; `value` is UPPER_SNAKE."""

    value: str = strawberry.field(
        description="The value stored and sent (UPPER_SNAKE); fixed once cases may hold it."
    )
    label: str = strawberry.field(description="What people see.")


@strawberry.type(description="An entry of the data dictionary.")
class DataItem:
    """A typed field that business types use."""

    code: str = strawberry.field(
        description="The item's code (snake_case); generated fields are named after it."
    )
    label: str = strawberry.field(
        description="What people see the item called; the generated fields' description."
    )
    type: ItemTypeEnum = strawberry.field(description="The kind of value the item holds.")  # type: ignore[valid-type]
    options: list[EnumOption] = strawberry.field(
        description="The values of an ENUM item, in display order; empty for others."
    )
    unit: str | None = strawberry.field(
        description="The unit values are in, such as kVA; null when none."
    )
    min: str | None = strawberry.field(
        description="The smallest value accepted, in the item's literal form."
    )
    max: str | None = strawberry.field(
        description="The largest value accepted, in the item's literal form."
    )
    max_length: int | None = strawberry.field(
        description="The longest STRING or TEXT value accepted."
    )
    pattern: str | None = strawberry.field(
        description="A regular expression every STRING or TEXT value must match."
    )
    indexed: bool = strawberry.field(
        description="Whether filters on this item are served by a database index."
    )
    description: str | None = strawberry.field(
        description="What the item means, for administrators."
    )


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


@strawberry.type(
    description=(
        "The result of upsertDataItem: the dictionary entry, what changed in it, and which "
        "business types it affects."
    )
)
class UpsertDataItemPayload:
    """The result of upsertDataItem."""

    data_item: DataItem | None = strawberry.field(
        default=None, description="The dictionary entry as saved; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
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


# -- business types ------------------------------------------------------------------------------


@strawberry.type(description="How a business type uses a data item.")
class ItemUsage:
    """An item of a business type."""

    item: str = strawberry.field(description="The data item's code.")
    required_at: list[str] = strawberry.field(
        description="Stages that cannot be completed while the item is empty."
    )
    editable_at: list[str] = strawberry.field(
        description="Stages at which the item may be written; empty: at any stage."
    )
    visible_to: list[str] = strawberry.field(
        description="Posts that may read the item; empty: everyone who may read the case."
    )


@strawberry.input(description="How a business type uses a data item.")
class ItemUsageInput:
    """requiredAt: stages that need it to finish; editableAt: where it may be written."""

    item: str = strawberry.field(description="The data item's code.")
    required_at: list[str] | None = strawberry.field(
        default=U, description="Stages that cannot be completed while the item is empty."
    )
    editable_at: list[str] | None = strawberry.field(
        default=U,
        description=(
            "Stages at which the item may be written; omitted or empty: at any stage (and in "
            "DRAFT)."
        ),
    )
    visible_to: list[str] | None = strawberry.field(
        default=U,
        description=(
            "Posts that may read the item; omitted or empty: everyone who may read the case."
        ),
    )


@strawberry.type(description="How a business type uses a stage.")
class StageUsage:
    """A stage of a business type."""

    stage: str = strawberry.field(description="The library stage's code.")
    time_limit: TimeLimit | None = strawberry.field(
        description="The time the stage may take in this business type; null: the library default."
    )
    outcomes: list[str] = strawberry.field(
        description="The outcomes a task of this stage may be completed with."
    )
    requires_payment: bool = strawberry.field(
        description="Whether the stage cannot be left while fees are due."
    )
    waits_for_customer: bool = strawberry.field(
        description="Whether the stage waits for the applicant; deadlines stop meanwhile."
    )
    join: bool = strawberry.field(
        description="Whether it waits for every branch of a parallel split to arrive."
    )


@strawberry.input(description="How a business type uses a stage.")
class StageUsageInput:
    """outcomes default to [APPROVE]; join waits for every branch of a parallel split."""

    stage: str = strawberry.field(description="The library stage's code.")
    time_limit: TimeLimitInput | None = strawberry.field(
        default=U, description="The time the stage may take here; omitted: the library default."
    )
    outcomes: list[str] | None = strawberry.field(
        default=U, description="The outcomes a task may be completed with; omitted: [APPROVE]."
    )
    requires_payment: bool | None = strawberry.field(
        default=U,
        description="Whether the stage cannot be left while fees are due; omitted: false.",
    )
    waits_for_customer: bool | None = strawberry.field(
        default=U,
        description="Whether the stage waits for the applicant (deadlines stop); omitted: false.",
    )
    join: bool | None = strawberry.field(
        default=U,
        description="Whether it waits for every branch of a parallel split; omitted: false.",
    )


@strawberry.type(description="A move from one stage to others.")
class Transition:
    """Leave `from` with `outcome` for every stage in `to` when `condition` holds."""

    from_: str = strawberry.field(name="from", description="The stage the case leaves.")
    outcome: str = strawberry.field(description="The outcome that takes this way.")
    to: list[str] = strawberry.field(
        description="The stages entered; several are a parallel split."
    )
    condition: str | None = strawberry.field(
        description="When this way is taken; null: always. An expression: see docs/expressions.md."
    )


@strawberry.input(description="A move from one stage to others.")
class TransitionInput:
    """outcome defaults to APPROVE; several `to` stages are a parallel split."""

    from_: str = strawberry.field(name="from", description="The stage the case leaves.")
    to: list[str] = strawberry.field(
        description="The stages to enter; several make a parallel split."
    )
    outcome: str | None = strawberry.field(
        default=U, description="The outcome that takes this way; omitted: APPROVE."
    )
    condition: str | None = strawberry.field(
        default=U,
        description=(
            "When this way is taken, over the case's data items; omitted: always. An expression: "
            "see docs/expressions.md."
        ),
    )


@strawberry.type(description="Which data item fills an archive field.")
class ArchiveMapping:
    """An archive field and its item."""

    field: str = strawberry.field(
        description=(
            "The customer archive field filled when a case ends (customer_name, supply_address, "
            "contract_capacity, ...)."
        )
    )
    item: str = strawberry.field(
        description="The code of the data item whose value the archive field takes."
    )


@strawberry.input(description="Which data item fills an archive field.")
class ArchiveMappingInput:
    """An archive field and its item."""

    field: str = strawberry.field(
        description=(
            "The customer archive field to fill when a case ends (customer_name, id_number, "
            "supply_address, electricity_category, contract_capacity, voltage_level, "
            "meter_asset_no, ct_ratio, pt_ratio, start_reading)."
        )
    )
    item: str = strawberry.field(
        description="The code of the data item whose value the archive field takes."
    )


@strawberry.type(description="A business type definition (a draft or a published version).")
class BusinessTypeDefinition:
    """The whole definition."""

    code: str = strawberry.field(description="The business type's code.")
    name: str = strawberry.field(description="The name people see.")
    group: BusinessGroupEnum = strawberry.field(  # type: ignore[valid-type]
        description="The family of applications (业务类别)."
    )
    priority: int = strawberry.field(
        description="Default priority of new cases; higher is handled first."
    )
    description: str | None = strawberry.field(
        description="What the business type is for, for administrators."
    )
    time_limit: TimeLimit | None = strawberry.field(
        description="The time the whole case may take (承诺时限); null: no limit."
    )
    items: list[ItemUsage] = strawberry.field(
        description=(
            "The data items its cases carry, and at which stages each is required, editable and "
            "visible."
        )
    )
    stages: list[StageUsage] = strawberry.field(
        description=(
            "The library stages (环节) its cases pass through, with their limits and outcomes."
        )
    )
    transitions: list[Transition] = strawberry.field(
        description="How a case moves between stages, tried in the order listed."
    )
    start: str | None = strawberry.field(
        description="The code of the stage a submitted case enters first."
    )
    archive: list[ArchiveMapping] = strawberry.field(
        description="Which data items fill the customer archive when a case completes."
    )


@strawberry.input(description="A business type draft.")
class SaveBusinessTypeDraftInput:
    """The whole draft; saving replaces the previous draft."""

    code: str = strawberry.field(
        description="The business type's code (snake_case); generated GraphQL names come from it."
    )
    name: str = strawberry.field(description="The name people see, such as 低压居民新装.")
    group: BusinessGroupEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="The family of applications (业务类别); omitted: OTHER."
    )
    priority: int | None = strawberry.field(
        default=U, description="Default priority of new cases; higher is handled first."
    )
    description: str | None = strawberry.field(
        default=U, description="What the business type is for."
    )
    time_limit: TimeLimitInput | None = strawberry.field(
        default=U, description="The time the whole case may take (承诺时限); omitted: no limit."
    )
    items: list[ItemUsageInput] | None = strawberry.field(
        default=U,
        description=(
            "The data items its cases carry, with where each is required, editable and visible."
        ),
    )
    stages: list[StageUsageInput] | None = strawberry.field(
        default=U, description="The library stages its cases pass through."
    )
    transitions: list[TransitionInput] | None = strawberry.field(
        default=U, description="How a case moves between stages, tried in this order."
    )
    start: str | None = strawberry.field(
        default=U, description="The code of the stage a submitted case enters first."
    )
    archive: list[ArchiveMappingInput] | None = strawberry.field(
        default=U,
        description=(
            "Which data items fill archive fields; a field left out takes the item of the same "
            "code."
        ),
    )


@strawberry.type(
    description="A business type's published version; cases opened under it follow it to their end."
)
class BusinessTypeVersion:
    """A frozen version."""

    version: int = strawberry.field(description="The version number, counting from 1.")
    published_at: dt.datetime = strawberry.field(description="When it was published.")
    published_by: str = strawberry.field(
        description="The username of the administrator who published it."
    )
    definition: BusinessTypeDefinition = strawberry.field(
        description="The definition as frozen at publishing."
    )


@strawberry.enum(description="The language a business type's flow diagram is drawn in.")
class DiagramFormat(Enum):
    """Formats a business type's flow can be drawn in."""

    MERMAID = strawberry.enum_value("MERMAID", description="Mermaid flowchart text.")


@strawberry.type(description="An application category (业务类别).")
class BusinessType:
    """A business type with its draft and its published versions."""

    code: str = strawberry.field(
        description=(
            "The business type's code (snake_case); it names the generated GraphQL types and never"
            " changes."
        )
    )
    name: str = strawberry.field(description="The name people see, such as 低压居民新装.")
    group: BusinessGroupEnum = strawberry.field(  # type: ignore[valid-type]
        description="The family of applications it belongs to (业务类别)."
    )
    status: str = strawberry.field(
        description=(
            "DRAFT (never published), PUBLISHED (open for new cases) or RETIRED (only existing "
            "cases go on)."
        )
    )
    latest_version: int | None = strawberry.field(
        description="The number of the version new cases use; null until the first publish."
    )
    draft: BusinessTypeDefinition = strawberry.field(
        description=(
            "The definition being edited; publishBusinessType turns it into the next version."
        )
    )
    versions: list[BusinessTypeVersion] = strawberry.field(
        description=(
            "Every published version, oldest first; a case keeps the version it was opened with."
        )
    )
    mermaid: strawberry.Private[str]

    @strawberry.field(description="The flow of the latest version (or the draft) as a diagram.")
    def diagram(
        self,
        format: Annotated[
            DiagramFormat,
            strawberry.argument(description="The diagram language; only MERMAID so far."),
        ] = DiagramFormat.MERMAID,
    ) -> str:
        """Only MERMAID exists so far."""
        return self.mermaid


@strawberry.type(
    description=(
        "The result of saveBusinessTypeDraft: the saved draft and the problems publishing it would"
        " meet."
    )
)
class SaveBusinessTypeDraftPayload:
    """The result of saveBusinessTypeDraft; `problems` are what publishing would refuse."""

    business_type: BusinessType | None = strawberry.field(
        default=None, description="The business type with the saved draft; null when refused."
    )
    problems: list[Problem] = strawberry.field(
        default_factory=list,
        description="What publishing the draft would refuse; saving keeps the draft anyway.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
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


# -- people ---------------------------------------------------------------------------------------


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
