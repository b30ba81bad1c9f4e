"""Responsibilities, the working-day calendar, the customer archive and history checks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry

from casework.calendar import WorkCalendar
from database import (
    calendar_repo,
    case_reads,
    history_repo,
    metadata_reads,
    responsibility_repo,
)
from database.responsibility_repo import ResponsibilityView
from resolvers import customers, policy
from resolvers.context import Context
from resolvers.convert import given, row_id
from schema import customer_types as ct
from schema import engine_types as et
from schema.common import AFTER, BEFORE, FIRST, LAST, ErrorCode, user_error
from schema.library_types import Post, Stage

Info = strawberry.Info[Context, Any]


def responsibility_out(view: ResponsibilityView) -> et.Responsibility:
    """A responsibility for output."""
    return et.Responsibility(
        post=Post(code=view.post, name=view.post_name, description=None),
        stage=Stage(code=view.stage, name=view.stage_name, time_limit=None, description=None),
        business_type=et.CodeRef(code=view.business_type) if view.business_type else None,
        org_unit=et.CodeRef(code=view.org_unit) if view.org_unit else None,
        effective_from=view.effective_from,
        effective_to=view.effective_to,
    )


@strawberry.field(description="Responsibilities with their history (ADMIN or MANAGER).")
async def responsibilities(
    info: Info,
    post: Annotated[str | None, strawberry.argument(description="Only this post's (code).")] = None,
    stage: Annotated[
        str | None, strawberry.argument(description="Only this stage's (code).")
    ] = None,
    business_type: Annotated[
        str | None, strawberry.argument(description="Only those for this business type (code).")
    ] = None,
    org_unit: Annotated[
        str | None, strawberry.argument(description="Only those for this org unit (code).")
    ] = None,
) -> list[et.Responsibility]:
    """Filtered by codes; replaced ones carry `effectiveTo`."""
    async with info.context.db.read() as session:
        found = await responsibility_repo.views(
            session, post=post, stage=stage, business_type=business_type, org_unit=org_unit
        )
    return [responsibility_out(v) for v in found]


@strawberry.mutation(description="Make a post responsible for a stage (for a type, in a unit).")
async def assign_responsibility(
    info: Info,
    input: Annotated[
        et.AssignResponsibilityInput,
        strawberry.argument(
            description="The stage, the post and where and from when it is responsible."
        ),
    ],
) -> et.AssignResponsibilityPayload:
    """Replaces the responsibility for the same (type, stage, unit) from `effectiveFrom`."""
    ctx = info.context
    business_type, org_unit = given(input.business_type), given(input.org_unit)
    effective_from = given(input.effective_from) or ctx.now()
    principal = ctx.principal
    assert principal is not None
    async with ctx.db.transaction() as session:
        unit = await metadata_reads.org_unit(session, org_unit) if org_unit else None
        if not policy.is_admin(principal) and (
            unit is None or not policy.manages(principal, unit.path)
        ):
            return et.AssignResponsibilityPayload(
                errors=[
                    user_error(
                        ErrorCode.FORBIDDEN,
                        "a manager assigns responsibilities for an org unit of their subtree",
                        ("input", "orgUnit"),
                    )
                ]
            )
        ids = await responsibility_repo.ids(
            session,
            stage=input.stage,
            post=input.post,
            business_type=business_type,
            org_unit=org_unit,
        )
        wanted = {
            "stage": input.stage,
            "post": input.post,
            "business_type": business_type,
            "org_unit": org_unit,
        }
        errors = [
            user_error(
                ErrorCode.NOT_FOUND, f"no {field.replace('_', ' ')} '{code}'", ("input", field)
            )
            for field, code in wanted.items()
            if code is not None and ids[field] is None
        ]
        if errors:
            return et.AssignResponsibilityPayload(errors=errors)
        stage_id, post_id = ids["stage"], ids["post"]
        assert stage_id is not None and post_id is not None
        assigned = await responsibility_repo.assign(
            session,
            stage_id=stage_id,
            post_id=post_id,
            business_type_id=ids["business_type"],
            org_unit_id=ids["org_unit"],
            effective_from=effective_from,
            by=ctx.principal.username if ctx.principal else "system",
            now=ctx.now(),
        )
        view = next(
            v
            for v in await responsibility_repo.views(session, stage=input.stage)
            if v.id == assigned
        )
    return et.AssignResponsibilityPayload(responsibility=responsibility_out(view))


def _day_out(calendar: WorkCalendar, day: dt.date) -> et.CalendarDay:
    found = calendar.day(day)
    return et.CalendarDay(
        date=found.date, workday=found.workday, note=found.note, overridden=found.overridden
    )


@strawberry.field(description="Every date of a year: working day or not, and why.")
async def calendar(
    info: Info, year: Annotated[int, strawberry.argument(description="The year to list.")]
) -> list[et.CalendarDay]:
    """The holiday library (China, with 调休 working days) corrected by overrides."""
    if not 1990 <= year <= 2100:
        return []
    found = await info.context.calendar()
    return [
        et.CalendarDay(date=d.date, workday=d.workday, note=d.note, overridden=d.overridden)
        for d in found.days(year)
    ]


@strawberry.mutation(description="Override dates of the calendar (ADMIN).")
async def set_calendar_days(
    info: Info,
    input: Annotated[
        list[et.SetCalendarDayInput],
        strawberry.argument(
            description="The days to set, each a date, whether it is a working day and why."
        ),
    ],
) -> et.SetCalendarDaysPayload:
    """Each date becomes a working day or not, whatever the library says."""
    ctx = info.context
    errors = [
        user_error(
            ErrorCode.VALIDATION, "a note has at most 200 characters", ("input", str(i), "note")
        )
        for i, day in enumerate(input)
        if len(given(day.note) or "") > calendar_repo.NOTE_MAX_LENGTH
    ]
    if errors:
        return et.SetCalendarDaysPayload(errors=errors)
    async with ctx.db.transaction() as session:
        await calendar_repo.set_days(
            session, [(d.date, d.workday, given(d.note)) for d in input], now=ctx.now()
        )
        overrides = await calendar_repo.get_overrides(session)
    updated = WorkCalendar(overrides)
    return et.SetCalendarDaysPayload(days=[_day_out(updated, d.date) for d in input])


@strawberry.field(description="A customer of the file by 户号; null if unknown or out of scope.")
async def customer(
    info: Info, number: Annotated[str, strawberry.argument(description="The customer's 户号.")]
) -> ct.Customer | None:
    """The customer with meters, contracts, supply sources, periods and its cases' numbers."""
    return await customers.customer_by_number(info.context, number)


@strawberry.field(
    name="customers",
    description=(
        "Customers of the file in the caller's scope (their org unit and below; staff: those of "
        "a case they may see), by 户号 unless ordered otherwise."
    ),
)
async def customers_list(
    info: Info,
    where: Annotated[
        ct.CustomerWhere | None,
        strawberry.argument(description="Which customers; omitted: every customer in scope."),
    ] = None,
    order_by: Annotated[
        list[ct.CustomerOrderBy] | None,
        strawberry.argument(description="Keys in order; omitted: by 户号."),
    ] = None,
    first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
    after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
    last: Annotated[int | None, strawberry.argument(description=LAST)] = None,
    before: Annotated[str | None, strawberry.argument(description=BEFORE)] = None,
) -> ct.CustomerConnection:
    """A keyset page; totalCount is counted only when selected."""
    return await customers.customer_page(
        info.context, where, order_by, first=first, after=after, last=last, before=before
    )


@strawberry.field(
    description="Check a case's history: its hash chain, the length and head the case "
    "records, the seal made with the server's key, and that the case (data, status, version, "
    "stages, tasks, fees, payments) is what replaying its history gives."
)
async def verify_case_history(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The id of the case to check.")],
) -> et.HistoryCheck | None:
    """Null when there is no such case."""
    pk = row_id(id)
    principal = info.context.principal
    assert principal is not None
    async with info.context.db.read() as session:
        if not await case_reads.visible(session, pk, policy.case_scope(principal)):
            return None
    found = await history_repo.verify_case(info.context.db, pk)
    if found is None:
        return None
    verdict = found.verdict
    return et.HistoryCheck(
        valid=verdict.valid,
        broken_at_seq=verdict.broken_at_seq,
        reason=verdict.reason,
        reasons=list(verdict.reasons),
        event_count=verdict.length,
    )


QUERIES: list[Any] = [responsibilities, calendar, customer, customers_list, verify_case_history]
MUTATIONS: list[Any] = [assign_responsibility, set_calendar_days]
