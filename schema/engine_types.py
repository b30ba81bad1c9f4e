"""GraphQL shapes of responsibilities, the calendar and the customer archive."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.common import UserError
from schema.library_types import Post, Stage

U = strawberry.UNSET


@strawberry.type(description="A code, as a responsibility refers to it.")
class CodeRef:
    """A business type or org unit code."""

    code: str = strawberry.field(description="The code of the business type or org unit.")


@strawberry.type(description="Which post is responsible for a stage, where, and when.")
class Responsibility:
    """A responsibility with its period; a replaced one has `effectiveTo`."""

    post: Post = strawberry.field(description="The post that receives the stage's tasks.")
    stage: Stage = strawberry.field(description="The library stage.")
    business_type: CodeRef | None = strawberry.field(
        description="The only business type it covers; null: every one."
    )
    org_unit: CodeRef | None = strawberry.field(
        description="The org unit (and units below) it covers; null: every one."
    )
    effective_from: dt.datetime = strawberry.field(description="When it started.")
    effective_to: dt.datetime | None = strawberry.field(
        description="When another post took over; null while in force."
    )


@strawberry.input(description="Make a post responsible for a stage.")
class AssignResponsibilityInput:
    """businessType and orgUnit default to all; effectiveFrom defaults to now."""

    stage: str = strawberry.field(
        description="The code of the library stage whose tasks the post will receive."
    )
    post: str = strawberry.field(
        description="The code of the post (岗位) that becomes responsible."
    )
    business_type: str | None = strawberry.field(
        default=U,
        description=(
            "Limit the responsibility to one business type's cases; omitted: every business type."
        ),
    )
    org_unit: str | None = strawberry.field(
        default=U,
        description="Limit it to cases of this org unit and every unit below; omitted: every unit.",
    )
    effective_from: dt.datetime | None = strawberry.field(
        default=U,
        description=(
            "When the post takes over (it replaces the post responsible before); omitted: now."
        ),
    )


@strawberry.type(
    description="The result of assignResponsibility: the new responsibility, or why none was made."
)
class AssignResponsibilityPayload:
    """The result of assignResponsibility."""

    responsibility: Responsibility | None = strawberry.field(
        default=None, description="The responsibility now in force; null when refused."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


@strawberry.type(description="One date of the working-day calendar.")
class CalendarDay:
    """Whether a date is a working day, and why (holiday name, 调休, or an override's note)."""

    date: dt.date = strawberry.field(description="The calendar date (Asia/Shanghai).")
    workday: bool = strawberry.field(description="Whether deadlines count it as a working day.")
    note: str | None = strawberry.field(
        description="Why: a holiday's name, 调休 (a weekend worked), or an administrator's note."
    )
    overridden: bool = strawberry.field(
        description=(
            "Whether an administrator set this day (setCalendarDays) rather than the built-in "
            "holiday table."
        )
    )


@strawberry.input(description="Override one date of the calendar.")
class SetCalendarDayInput:
    """A date, whether it is a working day, and why."""

    date: dt.date = strawberry.field(description="The date to set.")
    workday: bool = strawberry.field(description="Whether it is a working day.")
    note: str | None = strawberry.field(default=U, description="Why, such as 国庆调休.")


@strawberry.type(description="The result of setCalendarDays: the calendar days as they now stand.")
class SetCalendarDaysPayload:
    """The result of setCalendarDays."""

    days: list[CalendarDay] = strawberry.field(
        default_factory=list, description="The days as they now stand."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="What was wrong with the input; not empty means nothing was changed.",
    )


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

    asset_no: str = strawberry.field(description="The meter's asset number.")
    ct_ratio: str | None = strawberry.field(
        description="The current transformer ratio, such as 200/5."
    )
    pt_ratio: str | None = strawberry.field(
        description="The voltage transformer ratio, such as 10000/100."
    )
    multiplier: str | None = strawberry.field(description="综合倍率: CT ratio × PT ratio.")
    start_reading: str | None = strawberry.field(
        description="The reading when the meter was installed (起度)."
    )


@strawberry.type(description="A supply contract (供用电合同).")
class Contract:
    """A contract signed or changed by a case."""

    number: str = strawberry.field(description="The contract number.")
    type: str = strawberry.field(
        description="The kind of contract, such as 供用电合同 or 临时供用电合同."
    )
    signed_at: dt.datetime = strawberry.field(description="When the case that made it completed.")


@strawberry.type(description="The customer archive (用户档案) written by completed cases.")
class Customer:
    """A customer by 户号."""

    number: str = strawberry.field(description="The customer's 户号.")
    name: str | None = strawberry.field(description="The customer's name (户名).")
    id_number: str | None = strawberry.field(description="The customer's identity or credit code.")
    address: str | None = strawberry.field(description="The supply address (用电地址).")
    electricity_category: str | None = strawberry.field(
        description="The electricity category (用电类别) the tariff follows."
    )
    capacity: str | None = strawberry.field(
        description="The contracted capacity (合同容量) in kVA."
    )
    voltage_level: str | None = strawberry.field(description="The supply voltage level.")
    meters: list[Meter] = strawberry.field(description="The customer's metering points.")
    contracts: list[Contract] = strawberry.field(
        description="The contracts signed or changed by the customer's cases."
    )
    cases: list[str] = strawberry.field(description="Numbers of the cases about this customer.")
