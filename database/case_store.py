"""One load per case command: the case locked, its visits with their tasks, its fees.

Three statements, whatever the number of branches; `case_save` writes back what changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from casework import history
from casework.model import CaseState, StageState, StageStatus
from casework.tasks import Task, TaskStatus
from database import case_repo, span_store
from database import case_statements as q
from database import session as session_module
from database.case_reads import case_record, visit_record
from database.case_repo import from_json_data, timer_from_json
from database.case_statements import Columns
from database.fee_reads import fee_record
from database.records import CaseRecord, FeeRecord, TaskRecord, VisitRecord
from database.task_reads import task_record
from metamodel.specs import BusinessTypeVersion, CaseStatus


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
    spans: tuple[span_store.SpanRecord, ...] = ()
    """The case's milestone spans that have started."""

    @property
    def unpaid(self) -> bool:
        """Whether some fee without a stage of its own to be paid at is still due.

        Such a fee holds every stage that requires payment (as fees did before `pay_at`).
        """
        return any(fee.status == q.DUE and fee.pay_at is None for fee in self.fees.values())

    @property
    def due_at(self) -> frozenset[str]:
        """The stages that cannot be left: the `pay_at` of every fee still due."""
        return frozenset(
            fee.pay_at for fee in self.fees.values() if fee.status == q.DUE and fee.pay_at
        )

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
        found = (await conn.execute(q.LOAD_CASE, {"case_id": case_id})).first()
    else:
        found = (await conn.execute(q.LOAD_CASE_OF_TASK, {"task_id": task_id})).first()
    if found is None:
        return None
    case = case_record(found)
    rows = (await conn.execute(q.LOAD_VISITS, {"case_id": case.id})).all()
    visits = tuple(visit_record(r) for r in rows)
    tasks = tuple(task_record(_Prefixed(r, "task_")) for r in rows if r.task_id is not None)
    fee_rows = await conn.execute(q.LOAD_FEES, {"case_id": case.id})
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
        spans=await span_store.load(conn, case.id) if found.has_spans else (),
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
    conn = await session.connection()
    case_id = (await conn.execute(q.INSERT_CASE, [values])).scalar_one()
    # Sealed empty from the start, so its first events extend a seal like any others.
    anchor = history.Anchor(
        length=0,
        head=history.GENESIS,
        mac=history.seal(keys.current, case_id, 0, history.GENESIS),
        key_id=keys.current.id,
    )
    row = Columns(
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
        spans=span_store.states(loaded.spans),
    )
