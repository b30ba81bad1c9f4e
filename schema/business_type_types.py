"""GraphQL shapes of a business type: its definition, its draft and its published versions.

A definition says which items, stages, transitions and archive mappings its cases use.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from metamodel.specs import BusinessGroup
from schema.case_types import CaseEndEnum
from schema.common import (
    Problem,
    TimeLimit,
    TimeLimitInput,
    UserError,
    describe_values,
)
from schema.effect_types import (
    EFFECTS_INPUT,
    REQUIREMENT_INPUT,
    REQUIRES_CUSTOMER,
    ArchiveMapping,
    ArchiveMappingInput,
    CustomerRequirementInput,
    CustomerRequirementOut,
    Effect,
    EffectInput,
)
from schema.rule_types import COMPUTE, RULES, Rule, RuleInput
from schema.span_types import SPANS, Span, SpanInput
from schema.transition_types import Transition as Transition
from schema.transition_types import TransitionInput as TransitionInput

U = strawberry.UNSET
SERVED = "the version new cases use (before a first publish, the draft)"


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
    compute: str | None = strawberry.field(default=None, description=COMPUTE)


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
    compute: str | None = strawberry.field(default=U, description=COMPUTE)


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
    end: CaseEndEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="How completing this end stage ends the case; null: COMPLETED (on an end "
        "stage) or not an end stage.",
    )
    reason: str | None = strawberry.field(
        default=None,
        description="The item that says why a REJECTED or WITHDRAWN end ends the case: required "
        "to finish the stage and shown to the applicant in caseProgress.",
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
    end: CaseEndEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U,
        description="How completing this stage ends the case; only on a stage with no outgoing "
        "transition; omitted: COMPLETED. REJECTED and WITHDRAWN close the case at once, cancel "
        "its other open work and archive nothing.",
    )
    reason: str | None = strawberry.field(
        default=U,
        description="With end REJECTED or WITHDRAWN (and only then): the STRING, TEXT or ENUM "
        "item that says why; required to finish the stage, and shown to the applicant in "
        "caseProgress whatever its visibleTo.",
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
    effects: list[Effect] = strawberry.field(
        default_factory=list,
        description="What each end changes in the customer file, in the order applied.",
    )
    customer_requirement: CustomerRequirementOut | None = strawberry.field(
        default=None,
        description="What the customer a case names must be for it to start; null: nothing.",
    )
    requires_customer: bool = strawberry.field(default=False, description=REQUIRES_CUSTOMER)
    spans: list[Span] = strawberry.field(default_factory=list, description=SPANS)
    rules: list[Rule] = strawberry.field(default_factory=list, description=RULES)


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
    effects: list[EffectInput] | None = strawberry.field(default=U, description=EFFECTS_INPUT)
    customer_requirement: CustomerRequirementInput | None = strawberry.field(
        default=U, description=REQUIREMENT_INPUT
    )
    spans: list[SpanInput] | None = strawberry.field(default=U, description=SPANS)
    rules: list[RuleInput] | None = strawberry.field(default=U, description=RULES)


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
    effects: list[Effect] = strawberry.field(
        default_factory=list, description=f"The effects of {SERVED}."
    )
    customer_requirement: CustomerRequirementOut | None = strawberry.field(
        default=None, description=f"The customer requirement of {SERVED}; null: none."
    )
    requires_customer: bool = strawberry.field(
        default=False,
        description=f"Whether a new case must name an existing customer, by {SERVED}.",
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
