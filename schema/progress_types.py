"""What an applicant sees of their case, without signing in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from schema.case_types import CaseStatusEnum


@strawberry.type(description="A stage of an applicant's case.")
class ProgressStage:
    """One visit: ACTIVE, WAITING (for the customer), DONE or CANCELLED."""

    code: str = strawberry.field(description="The stage's code.")
    name: str = strawberry.field(description="The stage's name.")
    status: str = strawberry.field(
        description="ACTIVE (being worked on), WAITING (for the applicant), DONE or CANCELLED."
    )
    entered_at: dt.datetime = strawberry.field(description="When the case entered the stage.")
    due_at: dt.datetime | None = strawberry.field(
        description="When the stage must be done; null without a limit."
    )
    completed_at: dt.datetime | None = strawberry.field(
        description="When the stage was done; null while it is not."
    )


@strawberry.type(description="A fee of an applicant's case, with how it was computed.")
class ProgressFee:
    """Amount, status and the working."""

    name: str = strawberry.field(description="The fee's name.")
    amount: Decimal = strawberry.field(description="The amount in yuan.")
    status: str = strawberry.field(description="DUE, PAID or WAIVED.")
    explanation: str = strawberry.field(description="How the amount was computed.")
    paid: Decimal = strawberry.field(description="What has been paid on it, less refunds.")
    outstanding: Decimal = strawberry.field(
        description="What is still to pay: the amount less what was paid while DUE, else 0."
    )


@strawberry.type(description="An applicant's view of their case (查询进度).")
class CaseProgress:
    """Stages with their due dates, and fees with explanations."""

    number: str = strawberry.field(description="The case number (申请编号).")
    business_type: str = strawberry.field(description="The name of the business type applied for.")
    status: CaseStatusEnum = strawberry.field(description="Where the case stands as a whole.")  # type: ignore[valid-type]
    submitted_at: dt.datetime | None = strawberry.field(
        description="When it was submitted; null for a draft."
    )
    due_at: dt.datetime | None = strawberry.field(
        description="When the whole case must be done; null without a limit."
    )
    completed_at: dt.datetime | None = strawberry.field(
        description="When it ended, however it ended (COMPLETED, REJECTED, WITHDRAWN or "
        "CANCELLED); null while open."
    )
    reason: str | None = strawberry.field(
        description="Why a REJECTED or WITHDRAWN case ended as it did (the end's reason item; an "
        "option's label for a choice); null for any other case."
    )
    waiting_for: str | None = strawberry.field(
        description="What the applicant must do now, in plain words: the stage waiting for them, "
        "the fees to pay there and the information still missing; null while the utility has "
        "the case."
    )
    returned_because: str | None = strawberry.field(
        description="Why the step the case is in came back (退回, 整改), with the comment of "
        "whoever sent it back; null when nothing was sent back."
    )
    stages: list[ProgressStage] = strawberry.field(
        description="The stages the case has been through and is in, in order."
    )
    fees: list[ProgressFee] = strawberry.field(
        description="The fees assessed, with how each was computed."
    )
