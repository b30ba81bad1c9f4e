"""What an applicant sees of their case, without signing in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from schema.case_types import CaseStatusEnum


@strawberry.type(description="A stage of an applicant's case.")
class ProgressStage:
    """One visit: ACTIVE, WAITING (for the customer), DONE or CANCELLED."""

    code: str
    name: str
    status: str
    entered_at: dt.datetime
    due_at: dt.datetime | None
    completed_at: dt.datetime | None


@strawberry.type(description="A fee of an applicant's case, with how it was computed.")
class ProgressFee:
    """Amount, status and the working."""

    name: str
    amount: Decimal
    status: str
    explanation: str


@strawberry.type(description="An applicant's view of their case (查询进度).")
class CaseProgress:
    """Stages with their due dates, and fees with explanations."""

    number: str
    business_type: str
    status: CaseStatusEnum  # type: ignore[valid-type]
    submitted_at: dt.datetime | None
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    stages: list[ProgressStage]
    fees: list[ProgressFee]
