"""GraphQL shapes of responsibilities, the calendar and history checks."""

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
