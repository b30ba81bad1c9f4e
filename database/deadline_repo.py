"""Deadline monitoring: a warning at 80 % of a limit and a breach after it, each recorded once.

Safe to run from cron on several nodes at once: each case is claimed with
`FOR UPDATE SKIP LOCKED` (PostgreSQL), so two sweepers never record the same warning, and a case
busy in another transaction is simply left for the next run. Cases are locked before their
visits, the same order every command uses, so a sweep cannot deadlock with a task completion.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select

from casework.model import Event, StageStatus
from database import case_repo, reorg_repo
from database.session import Database
from database.tables import CaseRow, StageInstanceRow
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


def _visit_due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        (StageInstanceRow.warn_at <= now) & StageInstanceRow.warned_at.is_(None),
        (StageInstanceRow.due_at <= now) & StageInstanceRow.breached_at.is_(None),
    )


def _case_due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        (CaseRow.warn_at <= now) & CaseRow.warned_at.is_(None),
        (CaseRow.due_at <= now) & CaseRow.breached_at.is_(None),
    )


async def sweep(db: Database, *, now: dt.datetime) -> SweepResult:
    """Record every warning and breach that has fallen due, in batches of cases."""
    result = SweepResult()
    after = 0  # keyset paging by id: the query stays the same size however many were swept
    while True:
        async with db.read() as session:
            with_visits = select(StageInstanceRow.case_id).where(
                StageInstanceRow.status == StageStatus.ACTIVE.value,
                _visit_due(now),
            )
            candidates = (
                await session.scalars(
                    select(CaseRow.id)
                    .where(
                        CaseRow.status == CaseStatus.IN_PROGRESS.value,
                        or_(CaseRow.id.in_(with_visits), _case_due(now)),
                        CaseRow.id > after,
                    )
                    .order_by(CaseRow.id)
                    .limit(BATCH)
                )
            ).all()
        if not candidates:
            return result
        after = candidates[-1]
        for case_id in candidates:
            await _sweep_case(db, case_id, now=now, result=result)


async def _sweep_case(db: Database, case_id: int, *, now: dt.datetime, result: SweepResult) -> None:
    async with db.transaction() as session:
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
            if visit.warn_at is not None and visit.warn_at <= now and visit.warned_at is None:
                visit.warned_at = now
                events.append(Event("STAGE_WARNING", data))
                result.stage_warnings += 1
            if visit.due_at is not None and visit.due_at <= now and visit.breached_at is None:
                visit.breached_at = now
                events.append(Event("STAGE_BREACHED", data))
                result.stage_breaches += 1
        data = {"dueAt": _iso(case.due_at)}
        if case.warn_at is not None and case.warn_at <= now and case.warned_at is None:
            case.warned_at = now
            events.append(Event("CASE_WARNING", data))
            result.case_warnings += 1
        if case.due_at is not None and case.due_at <= now and case.breached_at is None:
            case.breached_at = now
            events.append(Event("CASE_BREACHED", data))
            result.case_breaches += 1
        if events:
            await case_repo.append_events(session, case, events, actor=ACTOR, now=now)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


async def apply_due_reorganizations(db: Database, *, now: dt.datetime) -> reorg_repo.Applied:
    """Move the open tasks of every future-dated reorganisation that has now taken effect."""
    return await reorg_repo.apply_due(db, now=now)
