"""Case statistics in one GROUP BY statement, over the same filter and scope as the case list.

The filter is compiled by `filters.compile_filter` and the scope by `case_reads.scope_condition`,
the very functions the list and its `totalCount` use, so with no grouping the count is the
list's total, and with groupings by one value per case (business type, status, org unit,
month) the counts add up to it. A case is in several current stages during a parallel split
and may have several open tasks: grouped by STAGE or POST it counts once in each of them (and
under an empty key when it has none), so those counts may add up to more than the total.

Working days (`avg_working_seconds`) are counted on the working-day calendar as
`WorkCalendar.business_seconds(submitted, completed, WORKING_DAYS)` counts them, without a
day-by-day walk per case: the calendar's days over the range in question are sent as one
string of working-day flags, SQL numbers them (a recursive series, portable to both databases)
and a running sum gives each day the working days before it, so the working time between two
instants is the difference of their working-time ordinals. The range is read first (one
aggregate over the same filter) and bounded by `MAX_WORKING_DAY_SPAN`.

Only the date arithmetic is per dialect (seconds between instants, their floor in days, the
UTC month); the rest is portable SQL. All joined tables are aliased: the filter's and the
scope's subqueries name the plain tables and would otherwise be correlated with the join.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import CTE, Select, Subquery

from casework.calendar import WorkCalendar
from casework.model import OPEN_STATUSES
from database import case_expressions, case_reads, task_repo
from database import filters as sql_filters
from database.case_tables import CaseRow, StageInstanceRow, TaskRow
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.statistics_repo import seconds_between
from database.table_base import UtcDateTime
from metamodel import filters as filters_ast
from metamodel.specs import CaseStatus

MAX_GROUPS = 1000
"""Groups one statement answers at most; more is refused (narrow `where` or group by less)."""

MAX_WORKING_DAY_SPAN = 20_000
"""Days (about 54 years) from the earliest submission counted to now, at most."""

SECONDS_PER_DAY = 86_400

OPEN_CASE_STATUSES: tuple[str, ...] = tuple(sorted(s.value for s in OPEN_STATUSES))


class CaseGroupBy(StrEnum):
    """What case statistics group by."""

    BUSINESS_TYPE = "BUSINESS_TYPE"
    STAGE = "STAGE"
    STATUS = "STATUS"
    ORG_UNIT = "ORG_UNIT"
    POST = "POST"
    MONTH = "MONTH"


class TooBroad(ValueError):
    """Statistics past one of the bounds; `argument` names what to narrow."""

    def __init__(self, message: str, argument: str) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True, slots=True)
class CaseGroup:
    """The measures of one group of cases; keys follow the grouping order ('' for none)."""

    keys: tuple[str, ...]
    count: int
    open: int
    completed: int
    cancelled: int
    rejected: int
    withdrawn: int
    overdue: int
    completed_on_time: int
    completed_late: int
    avg_working_seconds: float | None
    """Mean working time from submission to completion of the completed cases (None: none, or
    not asked for)."""

    @property
    def on_time_rate(self) -> float | None:
        """The share of completed cases with a time limit that were completed within it."""
        judged = self.completed_on_time + self.completed_late
        return self.completed_on_time / judged if judged else None

    @property
    def avg_working_days(self) -> float | None:
        """`avg_working_seconds` in working days."""
        seconds = self.avg_working_seconds
        return None if seconds is None else seconds / SECONDS_PER_DAY


def _month(column: Any, dialect: str) -> ColumnElement[str]:
    """`YYYY-MM` of an instant in UTC (formats as literals: GROUP BY repeats the expression)."""
    if dialect == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), column)
        return func.to_char(utc, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def _facets(group_by: Sequence[CaseGroupBy]) -> Subquery | None:
    """(case id, current stage, post of its open task) rows, once each, for STAGE / POST."""
    by_stage, by_post = CaseGroupBy.STAGE in group_by, CaseGroupBy.POST in group_by
    visit = aliased(StageInstanceRow, name="stat_visit")
    task = aliased(TaskRow, name="stat_task")
    current = visit.status.in_(case_expressions.CURRENT_STAGE_STATUSES)
    open_task = task.status.in_(task_repo.OPEN_TASK_STATUSES)
    name = "stat_facet"
    if by_stage and by_post:  # the post of the task of that very stage (one task per visit)
        return (
            select(visit.case_id, visit.stage, task.post)
            .select_from(visit)
            .outerjoin(task, and_(task.stage_instance_id == visit.id, open_task))
            .where(current)
            .distinct()
            .subquery(name)
        )
    if by_stage:
        return select(visit.case_id, visit.stage).where(current).distinct().subquery(name)
    if by_post:
        return select(task.case_id, task.post).where(open_task).distinct().subquery(name)
    return None


def _floor(value: ColumnElement[Any], dialect: str) -> ColumnElement[int]:
    """The largest integer not above a value that is never negative here.

    PostgreSQL's CAST rounds, so it has floor(); SQLite's CAST truncates, which is the floor of
    a value that is not negative (and SQLite may lack floor()).
    """
    return cast(func.floor(value) if dialect == "postgresql" else value, Integer)


def _working_days(flags: str) -> CTE:
    """Day number n (0 = the first day) -> workday (0/1) and working days before it."""
    # INTEGER affinity for n, as the day number it is compared with has: SQLite uses an
    # (automatic) index only where the two sides of `=` compare with the same affinity.
    days = select(cast(literal_column("0"), Integer).label("n")).cte("stat_day", recursive=True)
    days = days.union_all(select(days.c.n + 1).where(days.c.n < len(flags) - 1))
    workday = cast(
        func.substr(bindparam("stat_flags", flags, type_=String), days.c.n + 1, 1), Integer
    )
    return select(
        days.c.n,
        workday.label("workday"),
        (func.sum(workday).over(order_by=days.c.n) - workday).label("before"),
    ).cte("stat_working_day")


@dataclass(frozen=True, slots=True)
class _Ordinal:
    """Working seconds since the first day of the range, of one instant column."""

    join: ColumnElement[bool]
    seconds: ColumnElement[float]


def _ordinal(calendar: CTE, origin: dt.datetime, instant: Any, dialect: str) -> _Ordinal:
    """Where an instant joins the day table, and its working-time ordinal.

    The ordinal takes the day number from the joined row rather than working it out again: the
    date arithmetic is the costly part of the statement (measured on SQLite, 100,000 cases).
    """
    since = seconds_between(literal(origin, UtcDateTime()), instant, dialect=dialect)
    ordinal = calendar.c.before * SECONDS_PER_DAY + calendar.c.workday * (
        since - calendar.c.n * SECONDS_PER_DAY
    )
    return _Ordinal(
        join=calendar.c.n == _floor(since / float(SECONDS_PER_DAY), dialect), seconds=ordinal
    )


async def _calendar_range(
    session: AsyncSession, where: ColumnElement[bool], now: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """From the earliest submission of the matching cases to now (or a later completion).

    Every submitted case, not only the completed ones: one that completes between this
    statement and the next was submitted within the range all the same.
    """
    first, last = (
        await session.execute(
            select(func.min(CaseRow.submitted_at), func.max(CaseRow.completed_at)).where(where)
        )
    ).one()
    if first is None:
        return None
    return first, max(now, last) if last is not None else now


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """The calendar over a range of dates, as SQL reads it: where day 0 starts, and a flag a day."""

    origin: dt.datetime
    """The UTC instant the first date begins, in the calendar's zone."""
    flags: str
    """'1' for a working day, '0' for a day off, one per date from the first."""


def working_days(calendar: WorkCalendar, first: dt.datetime, last: dt.datetime) -> WorkingDays:
    """The calendar from the date of `first` through the day after that of `last`.

    The day after: a case completed by another request between the range's statement and the
    statistics' own is still inside it. TooBroad past MAX_WORKING_DAY_SPAN days, or when the
    zone's offset changes within them (SQL finds day boundaries by a fixed offset; Asia/Shanghai
    has kept UTC+8 since 1991).
    """
    start = calendar.local_date(first)
    end = calendar.local_date(last) + dt.timedelta(days=1)
    span = (end - start).days + 1
    if span > MAX_WORKING_DAY_SPAN:
        raise TooBroad(
            f"working days are counted over at most {MAX_WORKING_DAY_SPAN} days of "
            "submissions; narrow `where` by submittedAt",
            "where",
        )
    zone = calendar.zone
    offsets = {
        zone.utcoffset(dt.datetime(year, month, 1))
        for year in range(start.year, end.year + 1)
        for month in (1, 7)
    } | {zone.utcoffset(dt.datetime.combine(day, dt.time())) for day in (start, end)}
    if len(offsets) > 1:
        raise TooBroad(
            f"the calendar's zone changed its UTC offset between {start} and {end}; "
            "narrow `where` by submittedAt",
            "where",
        )
    days = (start + dt.timedelta(days=n) for n in range(span))
    return WorkingDays(
        origin=dt.datetime.combine(start, dt.time(), tzinfo=zone).astimezone(dt.UTC),
        flags="".join("1" if calendar.is_workday(day) else "0" for day in days),
    )


def groups_statement(
    where: ColumnElement[bool],
    group_by: Sequence[CaseGroupBy],
    *,
    dialect: str,
    now: dt.datetime,
    days: WorkingDays | None,
) -> Select[Any]:
    """The one GROUP BY statement, of at most MAX_GROUPS + 1 rows.

    Columns: the keys in `group_by` order, the measures, then the mean working seconds (NULL
    without `days`).
    """
    kind = aliased(BusinessTypeRow, name="stat_type")
    unit = aliased(OrgUnitRow, name="stat_unit")
    facets = _facets(group_by)
    columns: dict[CaseGroupBy, Any] = {
        CaseGroupBy.BUSINESS_TYPE: kind.code,
        CaseGroupBy.STATUS: CaseRow.status,
        CaseGroupBy.ORG_UNIT: unit.code,
        CaseGroupBy.MONTH: _month(CaseRow.created_at, dialect),
    }
    if facets is not None:
        columns[CaseGroupBy.STAGE] = facets.c.get("stage")
        columns[CaseGroupBy.POST] = facets.c.get("post")
    keys = [columns[g] for g in group_by]

    is_open = CaseRow.status.in_(OPEN_CASE_STATUSES)
    is_completed = CaseRow.status == CaseStatus.COMPLETED.value
    # Only COMPLETED cases are judged and timed: a REJECTED or WITHDRAWN case ended early by
    # refusal or withdrawal, and would flatter the on-time rate and the mean.
    # A completed case's timer is stopped (no due time any more) and keeps the business time
    # it used, customer waits and suspensions left out: late is more than its limit.
    judged = is_completed & CaseRow.timer.is_not(None)
    used, limit = CaseRow.timer["used"].as_integer(), CaseRow.timer["limit"].as_integer()
    measures: list[ColumnElement[Any]] = [
        func.count(),
        func.sum(case((is_open, 1), else_=0)),
        func.sum(case((is_completed, 1), else_=0)),
        func.sum(case((CaseRow.status == CaseStatus.CANCELLED.value, 1), else_=0)),
        func.sum(case((CaseRow.status == CaseStatus.REJECTED.value, 1), else_=0)),
        func.sum(case((CaseRow.status == CaseStatus.WITHDRAWN.value, 1), else_=0)),
        func.sum(
            case((is_open & CaseRow.due_at.is_not(None) & (CaseRow.due_at < now), 1), else_=0)
        ),
        func.sum(case((judged & (used <= limit), 1), else_=0)),
        func.sum(case((judged & (used > limit), 1), else_=0)),
    ]
    statement = select(*keys, *measures).select_from(CaseRow)
    if CaseGroupBy.BUSINESS_TYPE in group_by:
        statement = statement.join(kind, kind.id == CaseRow.business_type_id)
    if CaseGroupBy.ORG_UNIT in group_by:
        statement = statement.join(unit, unit.id == CaseRow.org_unit_id)
    if facets is not None:
        statement = statement.outerjoin(facets, facets.c.case_id == CaseRow.id)
    average: ColumnElement[Any] = literal_column("NULL")
    if days is not None:
        table = _working_days(days.flags)
        submitted, completed = table.alias("stat_submitted"), table.alias("stat_completed")
        begin = _ordinal(submitted, days.origin, CaseRow.submitted_at, dialect)
        end = _ordinal(completed, days.origin, CaseRow.completed_at, dialect)
        statement = statement.outerjoin(submitted, and_(is_completed, begin.join)).outerjoin(
            completed, and_(is_completed, end.join)
        )
        # Null but for completed cases (the joins): avg() leaves the others out. A case is never
        # completed before it was submitted, so no clamp to zero as business_seconds has.
        average = func.avg(end.seconds - begin.seconds)
    statement = statement.add_columns(average).where(where).limit(MAX_GROUPS + 1)
    return statement.group_by(*keys) if keys else statement


async def case_groups(
    session: AsyncSession,
    node: filters_ast.Filter,
    scope: case_reads.CaseScope,
    group_by: Sequence[CaseGroupBy],
    *,
    now: dt.datetime,
    calendar: WorkCalendar | None = None,
) -> list[CaseGroup]:
    """The measures per group of the cases a filter matches within a scope, in SQL.

    Without `calendar` the working-day average is not computed (None), and the statement that
    reads the range of dates it needs is not run. TooBroad past MAX_GROUPS groups or
    MAX_WORKING_DAY_SPAN days.
    """
    dialect = session.get_bind().dialect.name
    where = and_(
        sql_filters.compile_filter(node, dialect=dialect), case_reads.scope_condition(scope)
    )
    span = await _calendar_range(session, where, now) if calendar is not None else None
    days = working_days(calendar, *span) if calendar is not None and span is not None else None
    statement = groups_statement(where, group_by, dialect=dialect, now=now, days=days)
    rows = (await session.execute(statement)).all()
    if len(rows) > MAX_GROUPS:
        raise TooBroad(
            f"more than {MAX_GROUPS} groups: narrow `where` or group by fewer keys", "groupBy"
        )
    groups = [_group(row, len(group_by)) for row in rows]
    return sorted(groups, key=lambda g: g.keys)


def _group(row: Any, size: int) -> CaseGroup:
    """One result row as a group (sums over no rows are NULL: zero)."""
    found, values = row[:size], [0 if v is None else v for v in row[size:-1]]
    count, open_, completed, cancelled, rejected, withdrawn, overdue, on_time, late = (
        int(v) for v in values
    )
    average = row[-1]
    return CaseGroup(
        keys=tuple("" if k is None else str(k) for k in found),
        count=count,
        open=open_,
        completed=completed,
        cancelled=cancelled,
        rejected=rejected,
        withdrawn=withdrawn,
        overdue=overdue,
        completed_on_time=on_time,
        completed_late=late,
        avg_working_seconds=None if average is None else float(average),
    )
