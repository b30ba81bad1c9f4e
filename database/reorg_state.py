"""What planning a reorganisation of posts reads: codes, ids, responsibilities, open tasks.

`load` gathers the catalogue the moves are checked against and the responsibilities in force;
`lock_cases` and `open_tasks` find (and lock, in the order every task command locks) the open
tasks the moves would take, with the posts their holders hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from casework.moves import Catalog, Move
from casework.reorganization import OpenTask
from casework.routing import Responsibility
from database import metadata_repo, task_repo
from database.case_tables import CaseRow, TaskRow
from database.metadata_tables import OrgUnitRow, PostRow, StageRow
from database.security_tables import UserPostRow
from metamodel.snapshot import BusinessTypeStatus


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
