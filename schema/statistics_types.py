"""The shapes of caseStatistics: what cases are grouped by and what is measured per group."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What caseStatistics groups cases by.")
class CaseGroupBy(Enum):
    """One value per case, except STAGE and POST (a case may be in several at once)."""

    BUSINESS_TYPE = strawberry.enum_value("BUSINESS_TYPE", description="By business type code.")
    STAGE = strawberry.enum_value(
        "STAGE",
        description="By each stage the case is in now: a case in two stages of a parallel split "
        "counts in both, and a case in none (a draft, a closed case) under an empty key.",
    )
    STATUS = strawberry.enum_value("STATUS", description="By the case's status.")
    ORG_UNIT = strawberry.enum_value(
        "ORG_UNIT", description="By the code of the case's own org unit (not its ancestors)."
    )
    POST = strawberry.enum_value(
        "POST",
        description="By the post of each open task of the case: a case with open tasks of two "
        "posts counts under both, and one with no open task under an empty key.",
    )
    MONTH = strawberry.enum_value(
        "MONTH", description="By the month the case was created, as YYYY-MM in UTC."
    )


@strawberry.type(description="The measures of the cases of one group.")
class CaseGroupStatistics:
    """Counts add up across groups (except under STAGE or POST); rates and means do not."""

    keys: list[str] = strawberry.field(
        description="The group's values in groupBy order (codes, statuses, YYYY-MM); an empty "
        "string where there is none (no current stage, no open task)."
    )
    count: int = strawberry.field(
        description="The cases of the group; without groupBy, the list's totalCount for the same "
        "where."
    )
    open: int = strawberry.field(description="DRAFT, IN_PROGRESS or SUSPENDED.")
    completed: int = strawberry.field(
        description="COMPLETED (carried out; REJECTED and WITHDRAWN cases are not counted here)."
    )
    cancelled: int = strawberry.field(description="CANCELLED: closed without completing.")
    rejected: int = strawberry.field(
        description="REJECTED: refused at a REJECTED end stage (不予受理, 不具备供电条件)."
    )
    withdrawn: int = strawberry.field(
        description="WITHDRAWN: withdrawn by the applicant at a WITHDRAWN end stage (客户撤销)."
    )
    overdue: int = strawberry.field(
        description="Open and past their dueAt now (the cases whose isOverdue is true)."
    )
    completed_on_time: int = strawberry.field(
        description="COMPLETED cases completed within the business type's time limit (the "
        "business time the case used, with customer waits and suspensions left out, as for "
        "dueAt)."
    )
    completed_late: int = strawberry.field(
        description="COMPLETED cases completed after using more than the business type's time "
        "limit."
    )
    on_time_rate: float | None = strawberry.field(
        description="completedOnTime / (completedOnTime + completedLate), over COMPLETED cases "
        "only (REJECTED, WITHDRAWN and CANCELLED ones are left out); null when no completed case "
        "of the group had a time limit."
    )
    avg_working_days: float | None = strawberry.field(
        description="Mean working days from submittedAt to completedAt of the COMPLETED cases "
        "(REJECTED, WITHDRAWN and CANCELLED ones are left out), "
        "on the working-day calendar (holidays and overrides; a working day counts its whole 24 "
        "hours, in fractions, as WORKING_DAYS limits do; suspensions are not taken out); null "
        "when none."
    )
