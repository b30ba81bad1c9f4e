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
created on one of them meanwhile is either seen here or routed after this commits.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from casework import reorganization
from casework.model import Event
from casework.moves import Catalog, Move
from casework.reorganization import OpenTask, Plan, TaskMove
from casework.routing import Responsibility
from database import case_repo, metadata_repo, responsibility_repo, task_reads, task_repo
from database.case_tables import CaseRow, TaskRow
from database.metadata_tables import OrgUnitRow, PostRow, ReorganizationRow, StageRow
from database.records import TaskRecord
from database.security_tables import UserPostRow
from database.session import Database
from database.task_reads import task_record
from metamodel.snapshot import BusinessTypeStatus

SWEEP_ACTOR = "sweep"
LOCK_KEY = 0x79656B756F5F7270  # "yekuo_rp": the advisory lock every reorganisation takes


class ReorganizationStatus:
    """PENDING: its open tasks move when it takes effect; APPLIED: they have (or never will)."""

    PENDING = "PENDING"
    APPLIED = "APPLIED"


# -- reading the state ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    """What planning needs: the catalog of codes, their row ids, the responsibilities."""

    catalog: Catalog
    post_ids: dict[str, int]
    stage_ids: dict[str, int]
    type_ids: dict[str, int]
    unit_ids: dict[str, int]
    unit_paths: dict[str, str]
    """Unit code -> materialised path (`/root/city/`)."""
    responsibilities: list[Responsibility]

    @property
    def type_codes(self) -> dict[int, str]:
        """Business type code by id."""
        return {i: c for c, i in self.type_ids.items()}


async def serialise(session: AsyncSession) -> None:
    """Wait for any other reorganisation to finish (PostgreSQL; SQLite writers queue anyway)."""
    if _dialect(session) == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))


async def load(session: AsyncSession) -> State:
    """Codes, the org tree, published types' stages and every responsibility with its period."""
    posts: dict[str, int] = dict((await session.execute(select(PostRow.code, PostRow.id))).all())
    stage_ids: dict[str, int] = dict(
        (await session.execute(select(StageRow.code, StageRow.id))).all()
    )
    types = await metadata_repo.get_business_types(session)
    units = await metadata_repo.get_org_units(session)
    snapshot = await metadata_repo.load_snapshot(session)
    catalog = Catalog(
        posts=frozenset(posts),
        stages=frozenset(stage_ids),
        business_types=frozenset(t.code for t in types),
        org_paths={u.code: tuple(task_repo.path_codes(u.path)) for u in units},
        published_stages={
            t.code: frozenset(s.stage for s in t.latest.spec.stages)
            for t in snapshot.types
            if t.status is BusinessTypeStatus.PUBLISHED
        },
    )
    return State(
        catalog=catalog,
        post_ids=posts,
        stage_ids=stage_ids,
        type_ids={t.code: t.id for t in types},
        unit_ids={u.code: u.id for u in units},
        unit_paths={u.code: u.path for u in units},
        responsibilities=await task_repo.responsibilities(session),
    )


def _in_units(state: State, moves: Sequence[Move]) -> ColumnElement[bool]:
    """Tasks in the org units the moves cover (every unit when a move names none)."""
    units = [m.org_unit for m in moves]
    if any(u is None for u in units):
        return true()
    paths = sorted({state.unit_paths[u] for u in units if u is not None})
    return TaskRow.org_unit_id.in_(
        select(OrgUnitRow.id).where(or_(*(OrgUnitRow.path.startswith(p) for p in paths)))
    )


async def lock_cases(session: AsyncSession, state: State, moves: Sequence[Move]) -> None:
    """Lock, in id order, every case with an open task in the moves' org units."""
    busy = select(TaskRow.case_id).where(
        TaskRow.status.in_(task_repo.OPEN_TASK_STATUSES), _in_units(state, moves)
    )
    await session.execute(
        select(CaseRow.id).where(CaseRow.id.in_(busy)).order_by(CaseRow.id).with_for_update()
    )


async def open_tasks(
    session: AsyncSession, state: State, moves: Sequence[Move], *, lock: bool
) -> tuple[list[OpenTask], dict[int, TaskRow], dict[int, frozenset[str]]]:
    """Open tasks of the moves' posts in their units, their rows, and their holders' posts."""
    unit = aliased(OrgUnitRow)  # not correlated with the subquery of `_in_units`
    statement = (
        select(TaskRow, CaseRow.business_type_id, unit.path)
        .join(CaseRow, CaseRow.id == TaskRow.case_id)
        .join(unit, unit.id == TaskRow.org_unit_id)
        .where(
            TaskRow.status.in_(task_repo.OPEN_TASK_STATUSES),
            TaskRow.post.in_(sorted({m.from_post for m in moves})),
            _in_units(state, moves),
        )
        .order_by(TaskRow.id)
        .execution_options(populate_existing=True)  # fresh, whatever the session saw before
    )
    if lock:
        statement = statement.with_for_update(of=TaskRow)
    rows = await session.execute(statement)
    codes = state.type_codes
    found: list[OpenTask] = []
    by_id: dict[int, TaskRow] = {}
    for task, type_id, path in rows:
        by_id[task.id] = task
        found.append(
            OpenTask(
                id=task.id,
                case_id=task.case_id,
                stage=task.stage,
                business_type=codes.get(type_id, ""),
                org_path=tuple(task_repo.path_codes(path)),
                post=task.post,
                status=task.status,
                assignee=task.assignee_id,
            )
        )
    holders = await holder_posts(session, {t.assignee for t in found if t.assignee is not None})
    return found, by_id, holders


async def holder_posts(session: AsyncSession, user_ids: set[int]) -> dict[int, frozenset[str]]:
    """The posts each user holds."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(UserPostRow.user_id, PostRow.code)
        .join(PostRow, PostRow.id == UserPostRow.post_id)
        .where(UserPostRow.user_id.in_(sorted(user_ids)))
    )
    posts: dict[int, set[str]] = defaultdict(set)
    for user_id, code in rows:
        posts[user_id].add(code)
    return {u: frozenset(p) for u, p in posts.items()}


# -- writing -------------------------------------------------------------------------------------


def moves_to_json(moves: Sequence[Move]) -> list[dict[str, Any]]:
    """Moves as stored in the record."""
    return [
        {
            "fromPost": m.from_post,
            "toPost": m.to_post,
            "stage": m.stage,
            "businessType": m.business_type,
            "orgUnit": m.org_unit,
        }
        for m in moves
    ]


def moves_from_json(raw: Sequence[dict[str, Any]]) -> list[Move]:
    """Moves from the record."""
    return [
        Move(
            from_post=m["fromPost"],
            to_post=m["toPost"],
            stage=m.get("stage"),
            business_type=m.get("businessType"),
            org_unit=m.get("orgUnit"),
        )
        for m in raw
    ]


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


@dataclass(frozen=True, slots=True)
class ReorganizationView:
    """A recorded reorganisation."""

    id: int
    moves: tuple[Move, ...]
    effective_from: dt.datetime
    reassign_open_tasks: bool
    status: str
    moved_responsibilities: int
    reassigned_tasks: int | None
    created_at: dt.datetime
    created_by: str
    applied_at: dt.datetime | None


def view(row: ReorganizationRow) -> ReorganizationView:
    """A record as a plain value."""
    return ReorganizationView(
        id=row.id,
        moves=tuple(moves_from_json(row.moves)),
        effective_from=row.effective_from,
        reassign_open_tasks=row.reassign_open_tasks,
        status=row.status,
        moved_responsibilities=row.moved_responsibilities,
        reassigned_tasks=row.reassigned_tasks,
        created_at=row.created_at,
        created_by=row.created_by,
        applied_at=row.applied_at,
    )


async def records(session: AsyncSession) -> list[ReorganizationView]:
    """Every recorded reorganisation, oldest first."""
    rows = await session.scalars(select(ReorganizationRow).order_by(ReorganizationRow.id))
    return [view(r) for r in rows]


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
            await lock_cases(session, state, moves)
        tasks, rows, holders = await open_tasks(session, state, moves, lock=not dry_run)
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
        moves=moves_to_json(moves),
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
    return Outcome(plan=planned, tasks=[task_record(t) for t in changed], record=view(record))


# -- the sweep -----------------------------------------------------------------------------------


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
            state = await load(session)
            moves = [  # codes are never deleted; a move naming a vanished one is skipped
                m
                for m in moves_from_json(record.moves)
                if {m.from_post, m.to_post} <= state.post_ids.keys()
                and (m.org_unit is None or m.org_unit in state.unit_paths)
            ]
            moved: list[TaskMove] = []
            if moves:
                await lock_cases(session, state, moves)
                tasks, rows, holders = await open_tasks(session, state, moves, lock=True)
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
