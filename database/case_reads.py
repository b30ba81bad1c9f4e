"""Reading cases: records by id or number, their visits, events and current stages, and pages.

Everything here returns records (`database.records`), never rows: what a reader holds cannot
lazy-load after its session closed, nor write behind the command functions' back. Batched
readers take many case ids and answer in one statement, so a page costs the same whatever
its size.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from casework.model import CaseState, StageState, StageStatus
from database import case_expressions, case_repo, keyset, ordering
from database import filters as sql_filters
from database.case_tables import CaseEventRow, CaseRow, StageInstanceRow, TaskRow
from database.metadata_tables import OrgUnitRow
from database.records import CaseRecord, EventRecord, VisitRecord
from metamodel import filters as filters_ast
from metamodel.specs import BusinessTypeVersion, CaseStatus

CASE_TABLE = CaseRow.__table__
"""The case table itself, for reads that need its columns and not an ORM entity."""
CASE_COLUMNS = tuple(CASE_TABLE.c)
_CaseValues = namedtuple("_CaseValues", [c.key for c in CASE_COLUMNS])  # type: ignore[misc]


def _record_of(values: Sequence[Any]) -> CaseRecord:
    """A record from the case's columns, in table order (the first ones of a wider row)."""
    return case_record(_CaseValues._make(values[: len(CASE_COLUMNS)]))


def case_record(row: CaseRow | Any) -> CaseRecord:
    """A copy of a case row (also for a command that holds the row it just wrote)."""
    return CaseRecord(
        id=row.id,
        number=row.number,
        business_type_id=row.business_type_id,
        business_type_version=row.business_type_version,
        status=row.status,
        org_unit_id=row.org_unit_id,
        customer_number=row.customer_number,
        priority=row.priority,
        data=dict(row.data),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submitted_at=row.submitted_at,
        completed_at=row.completed_at,
        due_at=row.due_at,
        warn_at=row.warn_at,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
        timer=None if row.timer is None else dict(row.timer),
        version=row.version,
    )


def visit_record(row: StageInstanceRow | Any) -> VisitRecord:
    """A copy of a stage visit row."""
    return VisitRecord(
        id=row.id,
        case_id=row.case_id,
        stage=row.stage,
        status=row.status,
        entered_at=row.entered_at,
        completed_at=row.completed_at,
        outcome=row.outcome,
        due_at=row.due_at,
        warn_at=row.warn_at,
        timer=None if row.timer is None else dict(row.timer),
        splits=tuple(row.splits or ()),
        arrivals=row.arrivals,
    )


def event_record(row: CaseEventRow) -> EventRecord:
    """A copy of an event row."""
    return EventRecord(
        case_id=row.case_id,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        data=dict(row.data),
        metadata_version=row.metadata_version,
        hash=row.hash,
    )


async def get(session: AsyncSession, case_id: int) -> CaseRecord | None:
    """A case by id."""
    row = await session.scalar(select(CaseRow).where(CaseRow.id == case_id))
    return None if row is None else case_record(row)


async def get_many(session: AsyncSession, case_ids: Sequence[int]) -> list[CaseRecord]:
    """Cases by id (missing ids are left out)."""
    rows = await session.scalars(select(CaseRow).where(CaseRow.id.in_(case_ids)))
    return [case_record(r) for r in rows]


async def get_by_number(session: AsyncSession, number: str) -> CaseRecord | None:
    """A case by its number."""
    row = await session.scalar(select(CaseRow).where(CaseRow.number == number))
    return None if row is None else case_record(row)


async def with_access_code(
    session: AsyncSession, number: str
) -> tuple[CaseRecord, str | None] | None:
    """A case by number with the hash of its applicant's access code (not part of the record).

    The hash is a secret the progress check compares; it is kept out of `CaseRecord` so no
    other reader carries it around.
    """
    row = await session.scalar(select(CaseRow).where(CaseRow.number == number))
    return None if row is None else (case_record(row), row.access_code_hash)


async def visits(session: AsyncSession, case_id: int) -> list[VisitRecord]:
    """Every stage visit of a case, in order."""
    rows = await session.scalars(
        select(StageInstanceRow)
        .where(StageInstanceRow.case_id == case_id)
        .order_by(StageInstanceRow.id)
    )
    return [visit_record(r) for r in rows]


async def events(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[EventRecord]]:
    """The events of several cases, in order, by case id."""
    rows = await session.scalars(
        select(CaseEventRow)
        .where(CaseEventRow.case_id.in_(case_ids))
        .order_by(CaseEventRow.case_id, CaseEventRow.seq)
    )
    grouped: dict[int, list[EventRecord]] = {i: [] for i in case_ids}
    for event in rows:
        grouped[event.case_id].append(event_record(event))
    return grouped


async def current_stages(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[str]]:
    """The stages each case is in now, by case id."""
    rows = await session.execute(
        select(StageInstanceRow.case_id, StageInstanceRow.stage)
        .where(
            StageInstanceRow.case_id.in_(case_ids),
            StageInstanceRow.status.in_([StageStatus.ACTIVE.value, StageStatus.WAITING.value]),
        )
        .order_by(StageInstanceRow.id)
    )
    grouped: dict[int, list[str]] = {i: [] for i in case_ids}
    for case_id, stage in rows:
        grouped[case_id].append(stage)
    return grouped


async def engine_state(
    session: AsyncSession, case: CaseRecord, version: BusinessTypeVersion
) -> CaseState:
    """The engine's view of a case, for a reader that asks what the engine would do next."""
    found = await visits(session, case.id)
    return CaseState(
        business_type=version.code,
        version=case.business_type_version,
        status=CaseStatus(case.status),
        data=case_repo.from_json_data(version, case.data),
        stages=tuple(
            StageState(
                stage=v.stage,
                status=StageStatus(v.status),
                entered_at=v.entered_at,
                completed_at=v.completed_at,
                outcome=v.outcome,
                timer=case_repo.timer_from_json(None if v.timer is None else dict(v.timer)),
                splits=v.splits,
                arrivals=v.arrivals,
            )
            for v in found
        ),
        submitted_at=case.submitted_at,
        completed_at=case.completed_at,
        timer=case_repo.timer_from_json(None if case.timer is None else dict(case.timer)),
    )


@dataclass(frozen=True, slots=True)
class CaseScope:
    """Which cases a caller may see: all, a subtree (managers), or some cases of a subtree.

    Staff see the cases with a task of one of their posts, a task assigned to them, or that
    they opened.
    """

    everything: bool = False
    org_path: str | None = None
    whole_tree: bool = False
    posts: frozenset[str] = frozenset()
    user_id: int | None = None
    username: str | None = None
    unit_ids: frozenset[int] | None = None
    """The ids of the units of the subtree at `org_path`, when the caller knows them already.

    Given, the scope is a literal list the planner can weigh against the list's own indexes;
    a subquery over the org tree made PostgreSQL join and sort instead of reading the newest
    cases through an index.
    """


def in_subtree(column: QueryableAttribute[Any], org_path: str) -> ColumnElement[bool]:
    """An org unit id column within the subtree at `org_path`.

    A prefix test, not LIKE: `_` in a path is a wildcard to LIKE.
    """
    return column.in_(
        select(OrgUnitRow.id).where(func.substr(OrgUnitRow.path, 1, len(org_path)) == org_path)
    )


def scope_condition(scope: CaseScope) -> ColumnElement[bool]:
    """SQL for a case scope."""
    if scope.everything:
        return true()
    if not scope.org_path:
        return false()
    in_tree = (
        in_subtree(CaseRow.org_unit_id, scope.org_path)
        if scope.unit_ids is None
        else CaseRow.org_unit_id.in_(sorted(scope.unit_ids))
    )
    if scope.whole_tree:
        return in_tree
    mine = [CaseRow.created_by == scope.username] if scope.username else []
    if scope.posts:
        mine.append(
            exists().where(TaskRow.case_id == CaseRow.id, TaskRow.post.in_(sorted(scope.posts)))
        )
    if scope.user_id is not None:
        mine.append(
            exists().where(TaskRow.case_id == CaseRow.id, TaskRow.assignee_id == scope.user_id)
        )
    return and_(in_tree, or_(*mine)) if mine else false()


async def find_visible(
    session: AsyncSession,
    scope: CaseScope,
    *,
    case_id: int | None = None,
    number: str | None = None,
) -> CaseRecord | None:
    """A case by id or number if it is within a scope: one statement, the scope inside it.

    Read as plain columns, not as an ORM entity: nothing is tracked for a row that is only
    copied into a record.
    """
    statement = select(*CASE_COLUMNS).where(scope_condition(scope))
    if case_id is not None:
        statement = statement.where(CaseRow.id == case_id)
    else:
        statement = statement.where(CaseRow.number == number)
    row = (await (await session.connection()).execute(statement)).first()
    return None if row is None else _record_of(row)


async def visible(session: AsyncSession, case_id: int, scope: CaseScope) -> bool:
    """Whether a case is within a scope."""
    found = await session.scalar(
        select(CaseRow.id).where(CaseRow.id == case_id, scope_condition(scope))
    )
    return found is not None


@dataclass(frozen=True, slots=True)
class CasePage:
    """One page of cases in list order, each with its position, and whether more lie beyond.

    `more` looks in the reading direction: past the page's end reading forwards, before its
    start reading backwards (`keyset.Window.backwards`).
    """

    cases: list[CaseRecord]
    positions: list[tuple[object, ...]]
    more: bool


async def page_rows(
    session: AsyncSession,
    node: filters_ast.Filter,
    orders: Sequence[filters_ast.Order],
    window: keyset.Window,
    *,
    scope: CaseScope | None = None,
) -> CasePage:
    """Cases matching a filter within a scope, ordered (the id breaks ties), one keyset page.

    LookupError when the window names a case by id (`keyset.RowPosition`) that is gone.
    """
    dialect = _dialect(session)
    statement = (
        select(*CASE_COLUMNS)
        .where(sql_filters.compile_filter(node, dialect=dialect))
        .where(scope_condition(scope) if scope is not None else true())
    )
    keys = ordering.sort_keys(orders, dialect=dialect)
    case_id = case_expressions.CASE_COLUMNS["id"]
    rows, more = await keyset.fetch(
        session, statement, keys, window, id_column=case_id, columns_only=True
    )
    width = len(CASE_COLUMNS)  # the case's columns (no ORM entity to track), then its position
    return CasePage(
        cases=[_record_of(row) for row in rows],
        positions=[tuple(row[width:]) for row in rows],
        more=more,
    )


async def count_matching(
    session: AsyncSession, node: filters_ast.Filter, scope: CaseScope | None = None
) -> int:
    """How many cases match a filter within a scope."""
    where = sql_filters.compile_filter(node, dialect=_dialect(session))
    if scope is not None:
        where = and_(where, scope_condition(scope))
    return int(await session.scalar(select(func.count()).select_from(CaseRow).where(where)) or 0)


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"
