"""GraphQL shapes of responsibilities, the calendar and the customer archive."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.common import UserError
from schema.metadata_types import Post, Stage

U = strawberry.UNSET


@strawberry.type(description="A code, as a responsibility refers to it.")
class CodeRef:
    """A business type or org unit code."""

    code: str


@strawberry.type(description="Which post is responsible for a stage, where, and when.")
class Responsibility:
    """A responsibility with its period; a replaced one has `effectiveTo`."""

    post: Post
    stage: Stage
    business_type: CodeRef | None
    org_unit: CodeRef | None
    effective_from: dt.datetime
    effective_to: dt.datetime | None


@strawberry.input(description="Make a post responsible for a stage.")
class AssignResponsibilityInput:
    """businessType and orgUnit default to all; effectiveFrom defaults to now."""

    stage: str
    post: str
    business_type: str | None = U
    org_unit: str | None = U
    effective_from: dt.datetime | None = U


@strawberry.type
class AssignResponsibilityPayload:
    """The result of assignResponsibility."""

    responsibility: Responsibility | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One date of the working-day calendar.")
class CalendarDay:
    """Whether a date is a working day, and why (holiday name, 调休, or an override's note)."""

    date: dt.date
    workday: bool
    note: str | None
    overridden: bool


@strawberry.input(description="Override one date of the calendar.")
class SetCalendarDayInput:
    """A date, whether it is a working day, and why."""

    date: dt.date
    workday: bool
    note: str | None = U


@strawberry.type
class SetCalendarDaysPayload:
    """The result of setCalendarDays."""

    days: list[CalendarDay] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(
    description="Whether a case's history is intact and the case is what its history says."
)
class HistoryCheck:
    """`brokenAtSeq` names the first entry that does not hold (null when valid or unplaced)."""

    valid: bool = strawberry.field(
        description="True when the chain, its recorded length and head, the seal and the "
        "replay of the history against the case all hold."
    )
    broken_at_seq: int | None = strawberry.field(
        description="The first event to blame: one that does not match its hash, is missing, "
        "or follows the length the case records. Null when valid, or when no single event is "
        "to blame (the seal, or the case against its history)."
    )
    reason: str | None = strawberry.field(
        default=None,
        description="Why the history does not hold, in words (the first reason found); null "
        "when it holds. Names the data items that differ, never their values.",
    )
    reasons: list[str] = strawberry.field(
        default_factory=list,
        description="Every reason found, in the order checked: the chain of events, the "
        "length and last hash the case records, the seal, then the case against its history.",
    )
    event_count: int = strawberry.field(
        default=0, description="How many events the case's history has, as stored."
    )


@strawberry.type(description="A metering point of a customer.")
class Meter:
    """Asset number, CT and PT ratios, 综合倍率 (CT × PT) and the start reading."""

    asset_no: str
    ct_ratio: str | None
    pt_ratio: str | None
    multiplier: str | None
    start_reading: str | None


@strawberry.type(description="A supply contract (供用电合同).")
class Contract:
    """A contract signed or changed by a case."""

    number: str
    type: str
    signed_at: dt.datetime


@strawberry.type(description="The customer archive (用户档案) written by completed cases.")
class Customer:
    """A customer by 户号."""

    number: str
    name: str | None
    id_number: str | None
    address: str | None
    electricity_category: str | None
    capacity: str | None
    voltage_level: str | None
    meters: list[Meter]
    contracts: list[Contract]
    cases: list[str] = strawberry.field(description="Numbers of the cases about this customer.")
