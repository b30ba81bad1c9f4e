"""Deadline monitoring: a warning at 80 % of a limit and a breach after it, each recorded once.

`service.sweep` runs it batch by batch. Safe to run from cron on several nodes at once: each
case is claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so two sweepers never record the
same warning, and a case busy in another transaction is simply left for the next run. Cases
are locked before their visits, the same order every command uses, so a sweep cannot deadlock
with a task completion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from casework.model import Event, StageStatus
from database import case_repo
from database.case_tables import CaseRow, CaseSpanRow, StageInstanceRow
from metamodel.specs import CaseStatus

ACTOR = "sweep"
BATCH = 200


@dataclass
class SweepResult:
    """What one sweep recorded."""

    stage_warnings: int = 0
    stage_breaches: int = 0
    case_warnings: int = 0
    case_breaches: int = 0
    span_warnings: int = 0
    span_breaches: int = 0


def _visit_due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        (StageInstanceRow.warn_at <= now) & StageInstanceRow.warned_at.is_(None),
        (StageInstanceRow.due_at <= now) & StageInstanceRow.breached_at.is_(None),
    )


def _span_due(now: dt.datetime) -> ColumnElement[bool]:
    return CaseSpanRow.met_at.is_(None) & or_(
        (CaseSpanRow.warn_at <= now) & CaseSpanRow.warned_at.is_(None),
        (CaseSpanRow.due_at <= now) & CaseSpanRow.breached_at.is_(None),
    )


def _case_due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        (CaseRow.warn_at <= now) & CaseRow.warned_at.is_(None),
        (CaseRow.due_at <= now) & CaseRow.breached_at.is_(None),
    )


async def due_cases(session: AsyncSession, *, now: dt.datetime, after: int) -> list[int]:
    """Up to BATCH ids above `after` of cases in progress with a warning or breach due."""
    with_visits = select(StageInstanceRow.case_id).where(
        StageInstanceRow.status == StageStatus.ACTIVE.value,
        _visit_due(now),
    )
    found = await session.scalars(
        select(CaseRow.id)
        .where(
            CaseRow.status == CaseStatus.IN_PROGRESS.value,
            or_(
                CaseRow.id.in_(with_visits),
                CaseRow.id.in_(select(CaseSpanRow.case_id).where(_span_due(now))),
                _case_due(now),
            ),
            CaseRow.id > after,
        )
        .order_by(CaseRow.id)
        .limit(BATCH)
    )
    return list(found.all())


async def mark_case(
    session: AsyncSession, case_id: int, *, now: dt.datetime, result: SweepResult
) -> None:
    """Record the warnings and breaches of one case that have fallen due, once each."""
    case = await session.scalar(
        select(CaseRow).where(CaseRow.id == case_id).with_for_update(skip_locked=True)
    )
    if case is None or case.status != CaseStatus.IN_PROGRESS.value:
        return  # another sweeper or a command has it; the next run looks again
    events: list[Event] = []
    visits = await case_repo.stage_rows(session, case.id)
    for index, visit in enumerate(visits):
        if visit.status != StageStatus.ACTIVE.value:
            continue
        data = {"stage": visit.stage, "visit": index, "dueAt": _iso(visit.due_at)}
        due = _fallen_due(visit, now)
        events += [Event(f"STAGE_{kind}", data) for kind in due]
        result.stage_warnings += "WARNING" in due
        result.stage_breaches += "BREACHED" in due
    await _mark_spans(session, case.id, now=now, result=result, events=events)
    data = {"dueAt": _iso(case.due_at)}
    due = _fallen_due(case, now)
    events += [Event(f"CASE_{kind}", data) for kind in due]
    result.case_warnings += "WARNING" in due
    result.case_breaches += "BREACHED" in due
    if events:
        await case_repo.append_events(session, case, events, actor=ACTOR, now=now)


async def _mark_spans(
    session: AsyncSession,
    case_id: int,
    *,
    now: dt.datetime,
    result: SweepResult,
    events: list[Event],
) -> None:
    """A running span's warning and breach, once each (a met span is past both)."""
    spans = await session.scalars(
        select(CaseSpanRow)
        .where(CaseSpanRow.case_id == case_id, CaseSpanRow.met_at.is_(None))
        .order_by(CaseSpanRow.id)
    )
    for span in spans:
        data = {"span": span.code, "dueAt": _iso(span.due_at)}
        due = _fallen_due(span, now)
        events += [Event(f"SPAN_{kind}", data) for kind in due]
        result.span_warnings += "WARNING" in due
        result.span_breaches += "BREACHED" in due


def _fallen_due(row: StageInstanceRow | CaseSpanRow | CaseRow, now: dt.datetime) -> tuple[str, ...]:
    """What of a row's warning and breach falls due now ("WARNING", "BREACHED"), marked on it.

    Each is recorded once: a row already warned (or breached) is not again.
    """
    due: list[str] = []
    if row.warn_at is not None and row.warn_at <= now and row.warned_at is None:
        row.warned_at = now
        due.append("WARNING")
    if row.due_at is not None and row.due_at <= now and row.breached_at is None:
        row.breached_at = now
        due.append("BREACHED")
    return tuple(due)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()
