"""GraphQL shapes of fee rules, assessed fees and payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from metamodel.specs import FeeRuleStatus
from schema.common import UserError

FeeRuleStatusEnum = strawberry.enum(
    FeeRuleStatus, name="FeeRuleStatus", description="Charged today, or abolished."
)
U = strawberry.UNSET


@strawberry.enum(description="Where an assessed fee stands.")
class FeeStatus(Enum):
    """DUE until paid or waived."""

    DUE = "DUE"
    PAID = "PAID"
    WAIVED = "WAIVED"


@strawberry.type(description="A fee (业扩收费) as metadata.")
class FeeRule:
    """Where it is assessed, when it applies (condition), and how much (amount formula)."""

    code: str
    name: str
    business_types: list[str]
    stage: str
    condition: str | None
    amount: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    status: FeeRuleStatusEnum  # type: ignore[valid-type]
    description: str | None
    version: int


@strawberry.input(description="A fee rule to create or replace; saving makes a new version.")
class UpsertFeeRuleInput:
    """condition and amount are expressions over data items (see the condition language)."""

    code: str
    name: str
    stage: str
    amount: str
    business_types: list[str] | None = U
    condition: str | None = U
    effective_from: dt.date | None = U
    effective_to: dt.date | None = U
    status: FeeRuleStatusEnum | None = U  # type: ignore[valid-type]
    description: str | None = U


@strawberry.type
class UpsertFeeRulePayload:
    """The result of upsertFeeRule."""

    fee_rule: FeeRule | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="An open case that cannot move into a fee rule's stage: the rule fails on its data."
)
class FeeRuleProblem:
    """Found by evaluating the rule on the case as it is now; fix the rule or the data."""

    rule: str = strawberry.field(description="The code of the fee rule that fails.")
    case_id: strawberry.ID = strawberry.field(description="The id of the blocked case.")
    number: str = strawberry.field(description="The number of the blocked case.")
    from_stage: str = strawberry.field(
        description="The stage the case is in, whose completion would enter the rule's stage."
    )
    stage: str = strawberry.field(description="The rule's stage, which the case cannot enter.")
    error: str = strawberry.field(description="Why the rule cannot be assessed on this case.")


@strawberry.type(description="A fee assessed on a case.")
class Fee:
    """The amount (2 places), its status, the rule version and inputs, and the working."""

    code: str
    name: str
    stage: str
    amount: Decimal
    status: FeeStatus
    rule_version: int
    inputs: JSON
    explanation: str
    assessed_at: dt.datetime
    settled_at: dt.datetime | None
    waived_reason: str | None


@strawberry.input(description="A payment of a fee; the amount must equal the amount due.")
class RecordPaymentInput:
    """A retry with the same idempotencyKey returns the first result."""

    case_id: strawberry.ID
    fee_code: str
    amount: Decimal
    method: str
    reference: str | None = U
    idempotency_key: str | None = U


@strawberry.input(description="Waive a fee (MANAGER), with a reason.")
class WaiveFeeInput:
    """The reason is kept in the case history."""

    case_id: strawberry.ID
    fee_code: str
    reason: str


@strawberry.type
class FeePayload:
    """The result of recordPayment and waiveFee."""

    fee: Fee | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
