"""Reorganising posts on rows: plan with casework.reorganization, then write it in one go.

A reorganisation takes effect now or at a later moment `at`:

- its responsibilities are written at once with `effective_from = at` through
  `responsibility_repo.assign` (the replaced ones get `effective_to`, nothing is deleted), so
  routing switches exactly at `at` whether or not anything else runs then;
- its open tasks move at once when it takes effect now; a later one is recorded as PENDING
  and `yekuo sweep` (`apply_due`) moves the open tasks when `at` has come.

Every reorganisation is recorded (`ReorganizationRow`): who, what, when, and whether its tasks
have moved. Concurrency: reorganisations (and the sweep applying them) run one at a time
(a transaction-scoped advisory lock on PostgreSQL; SQLite serialises writers anyway). Before
reading the open tasks, the cases in the moves' org units that have open tasks are locked in
id order — the lock every task and case command takes first — so a task completed, claimed or
created on one of them meanwhile is either seen here or routed after this commits. What is
read is `reorg_state`; the record, `reorg_records`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from casework import reorganization
from casework.model import Event
from casework.moves import Move
from casework.reorganization import OpenTask, Plan, TaskMove
from database import (
    case_repo,
    reorg_records,
    reorg_state,
    responsibility_repo,
    task_reads,
    task_repo,
)
from database.case_tables import TaskRow
from database.metadata_tables import ReorganizationRow
from database.records import TaskRecord
from database.reorg_records import ReorganizationStatus, ReorganizationView
from database.reorg_state import State
from database.session import Database
from database.task_reads import task_record

SWEEP_ACTOR = "sweep"


LOCK_KEY = 0x79656B756F5F7270  # "yekuo_rp": the advisory lock every reorganisation takes


async def serialise(session: AsyncSession) -> None:
    """Wait for any other reorganisation to finish (PostgreSQL; SQLite writers queue anyway)."""
    if _dialect(session) == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))


async def move_tasks(
    session: AsyncSession,
    moved: Sequence[TaskMove],
    rows: dict[int, TaskRow],
    *,
    reorganization_id: int,
    actor: str,
    now: dt.datetime,
) -> list[TaskRow]:
    """Give each task its new post and record TASK_REASSIGNED on its case.

    A claimed task whose holder lacks the new post goes back to the queue (OPEN, no holder).
    """
    holders = await task_reads.usernames(
        session, sorted({m.task.assignee for m in moved if m.release and m.task.assignee})
    )
    events: dict[int, list[Event]] = defaultdict(list)
    changed: list[TaskRow] = []
    for m in moved:
        task = rows[m.task.id]
        task.post = m.to_post
        released = None
        if m.release:
            released = holders[task.assignee_id][0] if task.assignee_id in holders else None
            task.status, task.assignee_id, task.claimed_at = task_repo.TaskStatus.OPEN, None, None
        events[task.case_id].append(
            Event(
                "TASK_REASSIGNED",
                {
                    "task": task.id,
                    "stage": task.stage,
                    "from": m.from_post,
                    "to": m.to_post,
                    "released": released,
                    "reorganization": reorganization_id,
                },
            )
        )
        changed.append(task)
    await session.flush()
    for case in await case_repo.get_many(session, sorted(events)):
        await case_repo.append_events(session, case, events[case.id], actor=actor, now=now)
    return changed


@dataclass
class Outcome:
    """What a reorganisation did (or, dry, would do)."""

    plan: Plan
    tasks: list[TaskRecord] = field(default_factory=list)
    """The tasks moved now, or with a dry run the ones that would move."""
    record: ReorganizationView | None = None


async def reorganize(
    session: AsyncSession,
    state: State,
    moves: Sequence[Move],
    *,
    at: dt.datetime,
    now: dt.datetime,
    by: str,
    reassign_open_tasks: bool,
    dry_run: bool,
) -> Outcome:
    """Plan the moves and, unless refused or dry, carry them out. Writes nothing when refused.

    The caller holds `serialise` (unless dry). A reorganisation effective later (`at > now`)
    writes its responsibilities and is recorded PENDING; its tasks move in `apply_due`. A dry
    run reports the open tasks that would move if it took effect now.
    """
    planned = reorganization.plan(
        state.responsibilities, (), moves, state.catalog, holders={}, at=at
    )
    if planned.problems:
        return Outcome(plan=planned)
    later = at > now
    tasks: list[OpenTask] = []
    rows: dict[int, TaskRow] = {}
    holders: dict[int, frozenset[str]] = {}
    if reassign_open_tasks and (dry_run or not later):
        if not dry_run:
            await reorg_state.lock_cases(session, state, moves)
        tasks, rows, holders = await reorg_state.open_tasks(session, state, moves, lock=not dry_run)
    moved = reorganization.plan_tasks(tasks, moves, holders=holders)
    planned = Plan(handovers=planned.handovers, tasks=tuple(moved))
    if dry_run:
        return Outcome(plan=planned, tasks=[task_record(rows[m.task.id]) for m in moved])
    for h in planned.handovers:
        await responsibility_repo.assign(
            session,
            stage_id=state.stage_ids[h.stage],
            post_id=state.post_ids[h.to_post],
            business_type_id=state.type_ids[h.business_type] if h.business_type else None,
            org_unit_id=state.unit_ids[h.org_unit] if h.org_unit else None,
            effective_from=at,
            by=by,
            now=now,
        )
    pending = reassign_open_tasks and later
    record = ReorganizationRow(
        moves=reorg_records.moves_to_json(moves),
        effective_from=at,
        reassign_open_tasks=reassign_open_tasks,
        status=ReorganizationStatus.PENDING if pending else ReorganizationStatus.APPLIED,
        moved_responsibilities=len(planned.handovers),
        reassigned_tasks=None if pending else len(moved),
        created_at=now,
        created_by=by,
        applied_at=None if pending else now,
    )
    session.add(record)
    await session.flush()
    changed = await move_tasks(session, moved, rows, reorganization_id=record.id, actor=by, now=now)
    return Outcome(
        plan=planned, tasks=[task_record(t) for t in changed], record=reorg_records.view(record)
    )


@dataclass
class Applied:
    """What `apply_due` did."""

    reorganizations: int = 0
    tasks: int = 0


async def apply_due(db: Database, *, now: dt.datetime) -> Applied:
    """Move the open tasks of every PENDING reorganisation that has taken effect.

    One transaction each; safe to run on several nodes at once and to run again.
    """
    done = Applied()
    while True:
        async with db.transaction() as session:
            await serialise(session)
            record = await session.scalar(
                select(ReorganizationRow)
                .where(
                    ReorganizationRow.status == ReorganizationStatus.PENDING,
                    ReorganizationRow.effective_from <= now,
                )
                .order_by(ReorganizationRow.effective_from, ReorganizationRow.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if record is None:
                return done
            state = await reorg_state.load(session)
            moves = [  # codes are never deleted; a move naming a vanished one is skipped
                m
                for m in reorg_records.moves_from_json(record.moves)
                if {m.from_post, m.to_post} <= state.post_ids.keys()
                and (m.org_unit is None or m.org_unit in state.unit_paths)
            ]
            moved: list[TaskMove] = []
            if moves:
                await reorg_state.lock_cases(session, state, moves)
                tasks, rows, holders = await reorg_state.open_tasks(
                    session, state, moves, lock=True
                )
                moved = reorganization.plan_tasks(tasks, moves, holders=holders)
                await move_tasks(
                    session, moved, rows, reorganization_id=record.id, actor=SWEEP_ACTOR, now=now
                )
            record.status = ReorganizationStatus.APPLIED
            record.applied_at = now
            record.reassigned_tasks = len(moved)
            done.reorganizations += 1
            done.tasks += len(moved)


def _dialect(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name
