"""GraphQL shapes of fee rules, assessed fees and payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from metamodel.specs import FeeRuleStatus
from schema.common import UserError, describe_values

FeeRuleStatusEnum = describe_values(
    strawberry.enum(
        FeeRuleStatus, name="FeeRuleStatus", description="Charged today, or abolished."
    ),
    {
        "ACTIVE": "Charged to cases that meet the condition.",
        "ABOLISHED": "No longer charged; kept for fees already assessed.",
    },
)
U = strawberry.UNSET


@strawberry.enum(description="Where an assessed fee stands.")
class FeeStatus(Enum):
    """DUE until paid or waived."""

    DUE = strawberry.enum_value(
        "DUE",
        description="Assessed and not yet paid in full (payments may cover part of it) nor "
        "waived; the case may wait for it.",
    )
    PAID = strawberry.enum_value("PAID", description="Paid in full.")
    WAIVED = strawberry.enum_value("WAIVED", description="Waived by a manager, with a reason.")


@strawberry.type(description="A fee (业扩收费) as metadata.")
class FeeRule:
    """Where it is assessed, when it applies (condition), and how much (amount formula)."""

    code: str = strawberry.field(description="The rule's code.")
    name: str = strawberry.field(description="The fee's name, shown to applicants.")
    business_types: list[str] = strawberry.field(
        description="Codes of the business types it applies to."
    )
    stage: str = strawberry.field(description="The stage whose entry assesses the fee.")
    condition: str | None = strawberry.field(
        description="When the fee applies; null: always. An expression: see docs/expressions.md."
    )
    amount: str = strawberry.field(
        description=(
            "The formula that computes the amount in yuan. An expression: see docs/expressions.md."
        )
    )
    effective_from: dt.date | None = strawberry.field(
        description="First day it applies; null: from the start."
    )
    effective_to: dt.date | None = strawberry.field(
        description="Last day it applies; null: open-ended."
    )
    status: FeeRuleStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Whether it is charged or abolished."
    )
    description: str | None = strawberry.field(
        description="The rule's basis (文件依据), for administrators."
    )
    pay_at: str | None = strawberry.field(
        description="The stage that cannot be left until the fee is paid (at or after `stage`); "
        "null: the fee is paid at any stage that requires payment, as before payAt existed."
    )
    version: int = strawberry.field(
        description="Increases with every save; an assessed fee records the version used."
    )


@strawberry.input(description="A fee rule to create or replace; saving makes a new version.")
class UpsertFeeRuleInput:
    """condition and amount are expressions over data items (see the condition language)."""

    code: str = strawberry.field(description="The rule's code.")
    name: str = strawberry.field(description="The fee's name, shown to applicants.")
    stage: str = strawberry.field(description="The stage whose entry assesses the fee.")
    amount: str = strawberry.field(
        description=(
            "The formula that computes the amount in yuan. An expression: see docs/expressions.md."
        )
    )
    business_types: list[str] | None = strawberry.field(
        default=U, description="Codes of the business types it applies to."
    )
    condition: str | None = strawberry.field(
        default=U,
        description=(
            "When the fee applies; omitted: always. An expression: see docs/expressions.md."
        ),
    )
    effective_from: dt.date | None = strawberry.field(
        default=U, description="First day it applies; omitted: from the start."
    )
    effective_to: dt.date | None = strawberry.field(
        default=U, description="Last day it applies; omitted: open-ended."
    )
    status: FeeRuleStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=U, description="ACTIVE or ABOLISHED; omitted: ACTIVE."
    )
    description: str | None = strawberry.field(
        default=U, description="The rule's basis (文件依据), for administrators."
    )
    pay_at: str | None = strawberry.field(
        default=U,
        description="The stage that cannot be left until the fee is paid: one every named type "
        "uses, at or after `stage`; omitted: any stage that requires payment.",
    )


@strawberry.type(
    description="The result of upsertFeeRule: the rule's new version, or why it was refused."
)
class UpsertFeeRulePayload:
    """The result of upsertFeeRule."""

    fee_rule: FeeRule | None = strawberry.field(
        default=None, description="The rule's new version; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


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

    code: str = strawberry.field(description="The fee rule's code.")
    name: str = strawberry.field(description="The fee's name, such as 高可靠性供电费.")
    stage: str = strawberry.field(description="The stage the fee was assessed at.")
    amount: Decimal = strawberry.field(description="The amount in yuan, two decimal places.")
    status: FeeStatus = strawberry.field(description="Whether it is due, paid or waived.")
    rule_version: int = strawberry.field(
        description="The version of the fee rule that computed it."
    )
    inputs: JSON = strawberry.field(
        description="The data item values the formula read, by item code."
    )
    explanation: str = strawberry.field(
        description="The working: the formula with the values put in."
    )
    assessed_at: dt.datetime = strawberry.field(description="When the fee was assessed.")
    settled_at: dt.datetime | None = strawberry.field(
        description="When it was paid or waived; null while due."
    )
    waived_reason: str | None = strawberry.field(
        description="Why it was waived; null unless waived."
    )
    pay_at: str = strawberry.field(
        description="The stage at which it is to be paid: the rule's payAt, else `stage`."
    )
    paid: Decimal = strawberry.field(description="What has been paid on it, less refunds.")
    outstanding: Decimal = strawberry.field(
        description="What is still to pay: the amount less what was paid while DUE, else 0."
    )
    fee_item_id: strawberry.Private[int] = 0

    @strawberry.field(description="Its payments and refunds, oldest first.")
    async def payments(self, info: strawberry.Info[Any, Any]) -> list[Payment]:
        """Batched through the request's loader."""
        found: list[Payment] = await info.context.fee_payments(self.fee_item_id)
        return found


@strawberry.enum(description="Money taken on a fee, or given back.")
class PaymentKind(Enum):
    """A refund is recorded with its reason; its amount is positive."""

    PAYMENT = strawberry.enum_value("PAYMENT", description="Money taken (实收).")
    REFUND = strawberry.enum_value("REFUND", description="Money given back, with a reason.")


@strawberry.type(description="A payment of a fee, or a refund of one.")
class Payment:
    """As the cashier recorded it."""

    kind: PaymentKind = strawberry.field(description="Money taken or given back.")
    amount: Decimal = strawberry.field(description="The amount in yuan (positive).")
    method: str = strawberry.field(description="How it was paid; REFUND for a refund.")
    reference: str | None = strawberry.field(
        description="The payment's reference (receipt or transaction number)."
    )
    invoice_no: str | None = strawberry.field(description="The invoice number (发票号).")
    reason: str | None = strawberry.field(description="Why it was refunded; null for a payment.")
    paid_at: dt.datetime = strawberry.field(description="When it was recorded.")
    recorded_by: str = strawberry.field(description="The username of who recorded it.")


@strawberry.input(
    description="A payment of a fee, whole or part: more than 0 and at most what is outstanding."
)
class RecordPaymentInput:
    """A retry with the same idempotencyKey returns the first result."""

    case_id: strawberry.ID = strawberry.field(description="The id of the case the fee belongs to.")
    fee_code: str = strawberry.field(description="The code of the fee being paid.")
    amount: Decimal = strawberry.field(
        description="The amount paid in yuan, in cents: more than 0, at most what is outstanding; "
        "the fee is PAID once its payments cover it."
    )
    method: str = strawberry.field(description="How it was paid, such as cash, transfer or POS.")
    reference: str | None = strawberry.field(
        default=U, description="The payment's reference (receipt or transaction number)."
    )
    invoice_no: str | None = strawberry.field(
        default=U, description="The invoice number (发票号) issued for the payment."
    )
    idempotency_key: str | None = strawberry.field(
        default=U,
        description="A retry with the same key returns the first result instead of paying twice.",
    )


@strawberry.input(description="A refund of money taken on a fee, with a reason.")
class RefundPaymentInput:
    """A retry with the same idempotencyKey returns the fee as it is, refunding once."""

    case_id: strawberry.ID = strawberry.field(description="The id of the case the fee belongs to.")
    fee_code: str = strawberry.field(description="The code of the fee to refund.")
    amount: Decimal = strawberry.field(
        description="The amount given back in yuan, in cents: more than 0, at most what was paid."
    )
    reason: str = strawberry.field(description="Why it is refunded; kept in the case history.")
    idempotency_key: str | None = strawberry.field(
        default=U,
        description="A retry with the same key returns the fee instead of refunding twice.",
    )


@strawberry.input(description="Waive a fee (MANAGER), with a reason.")
class WaiveFeeInput:
    """The reason is kept in the case history."""

    case_id: strawberry.ID = strawberry.field(description="The id of the case the fee belongs to.")
    fee_code: str = strawberry.field(description="The code of the fee to waive.")
    reason: str = strawberry.field(description="Why it is waived; kept in the case history.")


@strawberry.type(
    description=(
        "The result of recordPayment, refundPayment and waiveFee: the fee as it is now, or why "
        "it did not change."
    )
)
class FeePayload:
    """The result of recordPayment, refundPayment and waiveFee."""

    fee: Fee | None = strawberry.field(
        default=None, description="The fee as it is now; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )
