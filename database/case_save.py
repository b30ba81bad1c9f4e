"""One save per case command: what it changed, written back in batches.

New visits, new tasks, changed visits, changed tasks, fees, the case row with its history
anchor, the events: each one statement whatever the number of rows, so a command costs about a
dozen statements however many branches a case has. The history chain is extended from the
anchor read under the lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casework.fees import Assessment
from casework.model import CaseState, Event, StageState, StageStatus
from casework.tasks import NEW_TASK, UNASSIGNED_TASK, Task
from database import case_repo, span_store
from database import case_statements as q
from database import session as session_module
from database.case_reads import visit_record
from database.case_repo import timer_to_json, to_json_data
from database.case_statements import Columns
from database.case_store import Loaded
from database.records import CaseRecord, FeeRecord, TaskRecord, VisitRecord
from database.task_reads import task_record
from metamodel.specs import BusinessTypeVersion


@dataclass(frozen=True, slots=True)
class Change:
    """What a command does to a loaded case, for `save` to write.

    `state` is None when only tasks changed (a claim): the case's version stays, so a reader
    holding it is not refused, but the events still extend its history.
    """

    events: Sequence[Event]
    tasks: Mapping[int, Task]
    state: CaseState | None = None
    fees: Sequence[Assessment] = ()
    tail: Sequence[Event] = ()
    """Events after the fees' (the archive's)."""
    customer_number: str | None = None
    """A customer number the archive gave the case, if it had none."""
    bump: bool = False
    """Whether a change the engine did not make (a payment) moves the case's version too."""


@dataclass(frozen=True, slots=True)
class Saved:
    """The case as the command left it."""

    case: CaseRecord
    visits: tuple[VisitRecord, ...]
    tasks: tuple[TaskRecord, ...]

    def task_of_visit(self, visit: int) -> TaskRecord | None:
        """The task of visit `visit` (engine index)."""
        if not 0 <= visit < len(self.visits):
            return None
        target = self.visits[visit].id
        return next((t for t in self.tasks if t.stage_instance_id == target), None)


async def save(
    session: AsyncSession,
    loaded: Loaded,
    change: Change,
    version: BusinessTypeVersion | None,
    *,
    actor: str,
    now: dt.datetime,
) -> Saved:
    """Write `change` in batches; events are numbered and chained after the locked anchor."""
    case = loaded.case
    visits = list(loaded.visits)
    if change.state is not None:
        visits = await _save_visits(session, case.id, visits, change.state)
        if change.state.spans:
            conn = await session.connection()
            await span_store.save(conn, case.id, loaded.spans, change.state)
    tasks, new_ids = await _save_tasks(session, case, visits, loaded.tasks, change.tasks, now)
    events = [_with_task_id(e, new_ids) for e in change.events]
    events += await _save_fees(session, case.id, loaded.fees, change.fees, now=now)
    events += change.tail
    number = change.customer_number or case.customer_number
    values: dict[str, Any] = {}
    statement = q.UPDATE_HISTORY
    if change.state is not None or change.bump:
        statement = q.UPDATE_BUMP
        # Optimistic concurrency holds only if every change moves the version, so whoever
        # read the case before it is refused (CONFLICT) rather than overwriting it unseen.
        values.update(updated_at=now, version=case.version + 1)
        events = versioned(events, case.version + 1)
    if change.state is not None:
        assert version is not None, "a changed state is stored in its version's forms"
        statement = q.UPDATE_STATE
        state = change.state
        values.update(
            status=state.status.value,
            data=to_json_data(version, state.data),
            submitted_at=state.submitted_at,
            completed_at=state.completed_at,
            due_at=state.due_at,
            warn_at=state.timer.warn_at if state.timer else None,
            timer=timer_to_json(state.timer),
            customer_number=number,
        )
    anchor, rows = case_repo.chain_events(
        session_module.history_keys(session),
        case.id,
        case.business_type_version,
        loaded.anchor,
        events,
        actor=actor,
        now=now,
    )
    values.update(
        history_length=anchor.length,
        history_head=anchor.head,
        history_mac=anchor.mac,
        history_key_id=anchor.key_id,
    )
    conn = await session.connection()
    await conn.execute(statement, {"_id": case.id, **values})
    await conn.execute(q.INSERT_EVENTS, rows)
    record = replace(case, **{k: v for k, v in values.items() if not k.startswith("history")})
    return Saved(case=record, visits=tuple(visits), tasks=tasks)


def versioned(events: Sequence[Event], version: int) -> list[Event]:
    """The events of one saved change, the first marked with the case version it made."""
    first, *rest = events
    return [Event(first.action, {**first.data, "caseVersion": version}), *rest]


FINISHED = frozenset({StageStatus.DONE, StageStatus.CANCELLED})


async def _save_visits(
    session: AsyncSession, case_id: int, visits: list[VisitRecord], state: CaseState
) -> list[VisitRecord]:
    """Update the visits that changed and insert the ones the engine added (visits only grow)."""
    changed: list[dict[str, Any]] = []
    out: list[VisitRecord] = []
    for stored, stage in zip(visits, state.stages, strict=False):
        values = _visit_values(stage)
        if stage.status in FINISHED and values["due_at"] is None:
            values["due_at"] = stored.due_at  # a finished visit keeps the due date it had
        after = replace(stored, **{k: v for k, v in values.items() if k != "splits"})
        after = replace(after, splits=stage.splits)
        if after != stored:
            changed.append({"_id": stored.id, **values})
        out.append(after)
    conn = await session.connection()
    if changed:
        await conn.execute(q.UPDATE_VISITS, changed)
    added = [
        {"case_id": case_id, "stage": s.stage, **_visit_values(s)}
        for s in state.stages[len(visits) :]
    ]
    if added:
        ids = (await conn.execute(q.INSERT_VISITS, added)).scalars().all()
        for visit_id, values in zip(ids, added, strict=True):
            out.append(visit_record(Columns({"id": visit_id, **values})))
    return out


def _visit_values(stage: StageState) -> dict[str, Any]:
    return {
        "status": stage.status.value,
        "entered_at": stage.entered_at,
        "completed_at": stage.completed_at,
        "outcome": stage.outcome,
        "due_at": stage.due_at,
        "warn_at": stage.timer.warn_at if stage.timer else None,
        "timer": timer_to_json(stage.timer),
        "splits": list(stage.splits),
        "arrivals": stage.arrivals,
    }


async def _save_tasks(
    session: AsyncSession,
    case: CaseRecord,
    visits: Sequence[VisitRecord],
    stored: Sequence[TaskRecord],
    tasks: Mapping[int, Task],
    now: dt.datetime,
) -> tuple[tuple[TaskRecord, ...], dict[int, int]]:
    """Write changed and new tasks; the ids of new tasks by visit index."""
    by_id = {t.id: t for t in stored}
    changed: list[dict[str, Any]] = []
    added: list[tuple[int, dict[str, Any]]] = []
    out: dict[int, TaskRecord] = {t.id: t for t in stored}
    for visit, task in sorted(tasks.items()):
        values: dict[str, Any] = {
            "post": task.post,
            "assignee_id": task.assignee,
            "status": task.status.value,
            "outcome": task.outcome,
            "comment": task.comment,
            "claimed_at": task.claimed_at,
            "completed_at": task.completed_at,
            "due_at": task.due_at,
        }
        if task.id is None:
            added.append(
                (
                    visit,
                    {
                        "case_id": case.id,
                        "stage_instance_id": visits[visit].id,
                        "stage": task.stage,
                        "org_unit_id": case.org_unit_id,
                        "created_at": task.created_at,
                        **values,
                    },
                )
            )
            continue
        before = by_id[task.id]
        after = replace(before, **values)
        if after != before:
            changed.append({"_id": task.id, **values})
            out[task.id] = after
    conn = await session.connection()
    if changed:
        await conn.execute(q.UPDATE_TASKS, changed)
    new_ids: dict[int, int] = {}
    if added:
        ids = (await conn.execute(q.INSERT_TASKS, [v for _, v in added])).scalars().all()
        for task_id, (visit, values) in zip(ids, added, strict=True):
            new_ids[visit] = task_id
            out[task_id] = task_record(Columns({"id": task_id, **values}))
    return tuple(sorted(out.values(), key=lambda t: t.id)), new_ids


def _with_task_id(event: Event, new_ids: Mapping[int, int]) -> Event:
    """A new task's event with the id storage gave the task."""
    if event.action not in (NEW_TASK, UNASSIGNED_TASK) or event.data.get("task") is not None:
        return event
    return Event(event.action, {**event.data, "task": new_ids[event.data["visit"]]})


async def _save_fees(
    session: AsyncSession,
    case_id: int,
    stored: Mapping[str, FeeRecord],
    assessments: Sequence[Assessment],
    *,
    now: dt.datetime,
) -> list[Event]:
    """Store assessed fees; a fee still q.DUE is reassessed, a PAID or WAIVED one is kept."""
    events: list[Event] = []
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for found in assessments:
        earlier = stored.get(found.code)
        if earlier is not None and (earlier.status != q.DUE or Decimal(earlier.paid) > 0):
            continue  # money taken on a fee fixes it: a reassessment would not match the takings
        amount = format(found.amount, "f")
        values = {
            "name": found.name,
            "stage": found.stage,
            "amount": amount,
            "rule_version": found.rule_version,
            "inputs": dict(found.inputs),
            "explanation": found.explanation,
            "assessed_at": now,
            "pay_at": found.pay_at,
        }
        if earlier is None:
            added.append({"case_id": case_id, "code": found.code, "status": q.DUE, **values})
        else:
            changed.append({"_id": earlier.id, **values})
        events.append(
            Event(
                "FEE_ASSESSED",
                {"fee": found.code, "amount": amount, "ruleVersion": found.rule_version}
                | ({"payAt": found.pay_at} if found.pay_at else {}),
            )
        )
    conn = await session.connection()
    if added:
        await conn.execute(q.INSERT_FEES, added)
    if changed:
        await conn.execute(q.UPDATE_FEES, changed)
    return events
