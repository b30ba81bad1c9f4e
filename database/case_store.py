"""One load and one save per case command.

A command needs the case (locked), its visits with their tasks, and its fees: three
statements. What it changed is written back in batches (new visits, new tasks, changed visits,
changed tasks, fees, the case row with its history anchor, the events), each one statement
whatever the number of rows, so a command costs the same a dozen statements however many
branches a case has. The history chain is extended from the anchor read under the lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, select, update
from sqlalchemy import insert as insert_into
from sqlalchemy.ext.asyncio import AsyncSession

from casework import history
from casework.fees import Assessment
from casework.model import CaseState, Event, StageState, StageStatus
from casework.tasks import NEW_TASK, UNASSIGNED_TASK, Task, TaskStatus
from database import case_repo
from database import session as session_module
from database.case_reads import case_record, visit_record
from database.case_repo import from_json_data, timer_from_json, timer_to_json, to_json_data
from database.case_tables import CaseEventRow, CaseRow, StageInstanceRow, TaskRow
from database.fee_reads import fee_record
from database.fee_tables import FeeItemRow
from database.metadata_tables import OrgUnitRow
from database.records import CaseRecord, FeeRecord, TaskRecord, VisitRecord
from database.task_reads import task_record
from metamodel.specs import BusinessTypeVersion, CaseStatus

_CASE = cast(Table, CaseRow.__table__)
_VISIT = cast(Table, StageInstanceRow.__table__)
_TASK = cast(Table, TaskRow.__table__)
_FEE = cast(Table, FeeItemRow.__table__)
_EVENT = cast(Table, CaseEventRow.__table__)

DUE = "DUE"
"""A fee not yet paid or waived (the API's FeeStatus.DUE)."""

# -- statements, built once: a command then pays for executing them, not for composing them ---

VISIT_FIELDS = (
    "status",
    "entered_at",
    "completed_at",
    "outcome",
    "due_at",
    "warn_at",
    "timer",
    "splits",
    "arrivals",
)
TASK_FIELDS = (
    "post",
    "assignee_id",
    "status",
    "outcome",
    "comment",
    "claimed_at",
    "completed_at",
    "due_at",
)
FEE_FIELDS = ("name", "stage", "amount", "rule_version", "inputs", "explanation", "assessed_at")
HISTORY_FIELDS = ("history_length", "history_head", "history_mac", "history_key_id")
BUMP_FIELDS = ("updated_at", "version")
STATE_FIELDS = (
    "status",
    "data",
    "submitted_at",
    "completed_at",
    "due_at",
    "warn_at",
    "timer",
    "customer_number",
)


def _by_id(table: Table, fields: Sequence[str]) -> Update:
    """An UPDATE of `fields` of the row whose id is bound as `_id` (executemany-ready)."""
    return (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({f: bindparam(f) for f in fields})
    )


_LOCKED_CASE = select(_CASE, OrgUnitRow.path.label("org_path")).join(
    OrgUnitRow, OrgUnitRow.id == _CASE.c.org_unit_id
)
LOAD_CASE = _LOCKED_CASE.where(_CASE.c.id == bindparam("case_id")).with_for_update(of=_CASE)
LOAD_CASE_OF_TASK = _LOCKED_CASE.where(
    _CASE.c.id
    == select(_TASK.c.case_id).where(_TASK.c.id == bindparam("task_id")).scalar_subquery()
).with_for_update(of=_CASE)
LOAD_VISITS = (
    select(_VISIT, *[c.label(f"task_{c.name}") for c in _TASK.c])
    .select_from(_VISIT.outerjoin(_TASK, _TASK.c.stage_instance_id == _VISIT.c.id))
    .where(_VISIT.c.case_id == bindparam("case_id"))
    .order_by(_VISIT.c.id)
)
LOAD_FEES = select(_FEE).where(_FEE.c.case_id == bindparam("case_id"))
UPDATE_VISITS = _by_id(_VISIT, VISIT_FIELDS)
INSERT_VISITS = insert_into(_VISIT).returning(_VISIT.c.id, sort_by_parameter_order=True)
UPDATE_TASKS = _by_id(_TASK, TASK_FIELDS)
INSERT_TASKS = insert_into(_TASK).returning(_TASK.c.id, sort_by_parameter_order=True)
UPDATE_FEES = _by_id(_FEE, FEE_FIELDS)
INSERT_FEES = insert_into(_FEE)
UPDATE_HISTORY = _by_id(_CASE, HISTORY_FIELDS)
UPDATE_BUMP = _by_id(_CASE, (*BUMP_FIELDS, *HISTORY_FIELDS))
UPDATE_STATE = _by_id(_CASE, (*BUMP_FIELDS, *STATE_FIELDS, *HISTORY_FIELDS))
INSERT_CASE = insert_into(_CASE).returning(_CASE.c.id)
INSERT_EVENTS = insert_into(_EVENT)


@dataclass(frozen=True, slots=True)
class Loaded:
    """Everything a command reads about one case, read under the case's row lock."""

    case: CaseRecord
    org_path: str
    anchor: history.Anchor
    visits: tuple[VisitRecord, ...]
    tasks: tuple[TaskRecord, ...]
    fees: Mapping[str, FeeRecord]
    """The case's fees by rule code."""

    @property
    def unpaid(self) -> bool:
        """Whether some fee of the case is still due."""
        return any(fee.status == DUE for fee in self.fees.values())

    def task(self, task_id: int) -> TaskRecord | None:
        """One of the case's tasks."""
        return next((t for t in self.tasks if t.id == task_id), None)

    def visit_index(self, visit_id: int) -> int:
        """The engine's index of a stored visit."""
        return next(i for i, v in enumerate(self.visits) if v.id == visit_id)

    def engine_tasks(self) -> dict[int, Task]:
        """The case's tasks as the engine reads them, by visit index."""
        index = {v.id: i for i, v in enumerate(self.visits)}
        return {
            index[t.stage_instance_id]: engine_task(t, index[t.stage_instance_id])
            for t in self.tasks
        }


def engine_task(task: TaskRecord, visit: int) -> Task:
    """A stored task as the engine reads it."""
    return Task(
        visit=visit,
        stage=task.stage,
        post=task.post,
        status=TaskStatus(task.status),
        created_at=task.created_at,
        due_at=task.due_at,
        assignee=task.assignee_id,
        claimed_at=task.claimed_at,
        completed_at=task.completed_at,
        outcome=task.outcome,
        comment=task.comment,
        id=task.id,
    )


async def load(
    session: AsyncSession, *, case_id: int | None = None, task_id: int | None = None
) -> Loaded | None:
    """A case by id, or the case of a task, locked; None when there is no such case."""
    conn = await session.connection()
    if case_id is not None:
        found = (await conn.execute(LOAD_CASE, {"case_id": case_id})).first()
    else:
        found = (await conn.execute(LOAD_CASE_OF_TASK, {"task_id": task_id})).first()
    if found is None:
        return None
    case = case_record(found)
    rows = (await conn.execute(LOAD_VISITS, {"case_id": case.id})).all()
    visits = tuple(visit_record(r) for r in rows)
    tasks = tuple(task_record(_Prefixed(r, "task_")) for r in rows if r.task_id is not None)
    fee_rows = await conn.execute(LOAD_FEES, {"case_id": case.id})
    return Loaded(
        case=case,
        org_path=found.org_path,
        anchor=history.Anchor(
            length=found.history_length,
            head=found.history_head,
            mac=found.history_mac,
            key_id=found.history_key_id,
        ),
        visits=visits,
        tasks=tasks,
        fees={r.code: fee_record(r) for r in fee_rows},
    )


class _Prefixed:
    """The columns of a result row that start with a prefix, under their own names."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


@dataclass(frozen=True, slots=True)
class NewRow:
    """What a new case row holds before the engine's first state is saved over it."""

    business_type_id: int
    business_type_version: int
    org_unit_id: int
    org_path: str
    priority: int
    customer_number: str | None
    created_by: str
    access_code_hash: str | None


async def insert(session: AsyncSession, new: NewRow, *, now: dt.datetime) -> Loaded:
    """A new case row with a number, version 0 and an empty sealed history.

    `save` then writes its first state over it like any command's, making it version 1, so
    opening a case and changing one follow one path.
    """
    keys = session_module.history_keys(session)
    values: dict[str, Any] = {
        "number": await case_repo.next_number(session, now=now),
        "business_type_id": new.business_type_id,
        "business_type_version": new.business_type_version,
        "status": CaseStatus.DRAFT.value,
        "org_unit_id": new.org_unit_id,
        "customer_number": new.customer_number,
        "priority": new.priority,
        "data": {},
        "created_by": new.created_by,
        "created_at": now,
        "updated_at": now,
        "version": 0,
        "access_code_hash": new.access_code_hash,
        "history_length": 0,
        "history_head": history.GENESIS,
    }
    case_id = (
        await session.execute(insert_into(_CASE).returning(_CASE.c.id), [values])
    ).scalar_one()
    # Sealed empty from the start, so its first events extend a seal like any others.
    anchor = history.Anchor(
        length=0,
        head=history.GENESIS,
        mac=history.seal(keys.current, case_id, 0, history.GENESIS),
        key_id=keys.current.id,
    )
    row = _Values(
        {
            **values,
            "id": case_id,
            "submitted_at": None,
            "completed_at": None,
            "due_at": None,
            "warn_at": None,
            "warned_at": None,
            "breached_at": None,
            "timer": None,
        }
    )
    return Loaded(
        case=case_record(row), org_path=new.org_path, anchor=anchor, visits=(), tasks=(), fees={}
    )


def state_of(loaded: Loaded, version: BusinessTypeVersion) -> CaseState:
    """The engine's view of a loaded case."""
    case = loaded.case
    return CaseState(
        business_type=version.code,
        version=case.business_type_version,
        status=CaseStatus(case.status),
        data=from_json_data(version, case.data),
        stages=tuple(
            StageState(
                stage=v.stage,
                status=StageStatus(v.status),
                entered_at=v.entered_at,
                completed_at=v.completed_at,
                outcome=v.outcome,
                timer=timer_from_json(dict(v.timer) if v.timer else None),
                splits=v.splits,
                arrivals=v.arrivals,
            )
            for v in loaded.visits
        ),
        submitted_at=case.submitted_at,
        completed_at=case.completed_at,
        timer=timer_from_json(dict(case.timer) if case.timer else None),
    )


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
    tasks, new_ids = await _save_tasks(session, case, visits, loaded.tasks, change.tasks, now)
    events = [_with_task_id(e, new_ids) for e in change.events]
    events += await _save_fees(session, case.id, loaded.fees, change.fees, now=now)
    events += change.tail
    number = change.customer_number or case.customer_number
    values: dict[str, Any] = {}
    statement = UPDATE_HISTORY
    if change.state is not None or change.bump:
        statement = UPDATE_BUMP
        # Optimistic concurrency holds only if every change moves the version, so whoever
        # read the case before it is refused (CONFLICT) rather than overwriting it unseen.
        values.update(updated_at=now, version=case.version + 1)
        events = versioned(events, case.version + 1)
    if change.state is not None:
        assert version is not None, "a changed state is stored in its version's forms"
        statement = UPDATE_STATE
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
    await conn.execute(INSERT_EVENTS, rows)
    record = replace(case, **{k: v for k, v in values.items() if not k.startswith("history")})
    return Saved(case=record, visits=tuple(visits), tasks=tasks)


def versioned(events: Sequence[Event], version: int) -> list[Event]:
    """The events of one saved change, the first marked with the case version it made."""
    first, *rest = events
    return [Event(first.action, {**first.data, "caseVersion": version}), *rest]


async def _save_visits(
    session: AsyncSession, case_id: int, visits: list[VisitRecord], state: CaseState
) -> list[VisitRecord]:
    """Update the visits that changed and insert the ones the engine added (visits only grow)."""
    changed: list[dict[str, Any]] = []
    out: list[VisitRecord] = []
    for stored, stage in zip(visits, state.stages, strict=False):
        values = _visit_values(stage)
        after = replace(stored, **{k: v for k, v in values.items() if k != "splits"})
        after = replace(after, splits=stage.splits)
        if after != stored:
            changed.append({"_id": stored.id, **values})
        out.append(after)
    conn = await session.connection()
    if changed:
        await conn.execute(UPDATE_VISITS, changed)
    added = [
        {"case_id": case_id, "stage": s.stage, **_visit_values(s)}
        for s in state.stages[len(visits) :]
    ]
    if added:
        ids = (await conn.execute(INSERT_VISITS, added)).scalars().all()
        for visit_id, values in zip(ids, added, strict=True):
            out.append(visit_record(_Values({"id": visit_id, **values})))
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


class _Values:
    """Attribute access to a dict of column values."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values.get(name)


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
        await conn.execute(UPDATE_TASKS, changed)
    new_ids: dict[int, int] = {}
    if added:
        ids = (await conn.execute(INSERT_TASKS, [v for _, v in added])).scalars().all()
        for task_id, (visit, values) in zip(ids, added, strict=True):
            new_ids[visit] = task_id
            out[task_id] = task_record(_Values({"id": task_id, **values}))
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
    """Store assessed fees; a fee still DUE is reassessed, a PAID or WAIVED one is kept."""
    events: list[Event] = []
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for found in assessments:
        earlier = stored.get(found.code)
        if earlier is not None and earlier.status != DUE:
            continue
        amount = format(found.amount, "f")
        values = {
            "name": found.name,
            "stage": found.stage,
            "amount": amount,
            "rule_version": found.rule_version,
            "inputs": dict(found.inputs),
            "explanation": found.explanation,
            "assessed_at": now,
        }
        if earlier is None:
            added.append({"case_id": case_id, "code": found.code, "status": DUE, **values})
        else:
            changed.append({"_id": earlier.id, **values})
        events.append(
            Event(
                "FEE_ASSESSED",
                {"fee": found.code, "amount": amount, "ruleVersion": found.rule_version},
            )
        )
    conn = await session.connection()
    if added:
        await conn.execute(INSERT_FEES, added)
    if changed:
        await conn.execute(UPDATE_FEES, changed)
    return events
