"""Deadlines as data: every limit a case is measured against, listed and filtered in SQL.

Three kinds, one shape (`Case.deadlines`, `deadlines(where)`): STAGE, each stage visit that has
a limit (a finished one keeps its due date, `case_save`); SPAN, each milestone span that started
(`case_deadline`); CASE, the whole-case limit. They are read as one UNION ALL, so a list of
deadlines across cases is one keyset-paged statement with the case scope inside it. A row's id
in the list is its own row's id times three plus its kind's rank, unique across the kinds.

A deadline is met when its stage visit completed (DONE), its span was met, or its case reached
COMPLETED, REJECTED or WITHDRAWN; `warnedAt` and `breachedAt` are what the sweep recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Subquery

from database import keyset
from database.case_reads import in_subtree
from database.case_tables import CaseRow, CaseSpanRow, StageInstanceRow
from database.metadata_tables import BusinessTypeRow
from metamodel.specs import CaseStatus

KINDS = ("STAGE", "SPAN", "CASE")
MEETING = (CaseStatus.COMPLETED.value, CaseStatus.REJECTED.value, CaseStatus.WITHDRAWN.value)


def _limited(timer: Any) -> ColumnElement[bool]:
    """A timer column holding a timer (JSON null is stored for none on both databases)."""
    return and_(timer.is_not(None), cast(timer, Text) != "null")


def _union() -> Subquery:
    visit = StageInstanceRow
    stages = select(
        literal("STAGE", String).label("kind"),
        (visit.id * 3).label("id"),
        visit.case_id.label("case_id"),
        visit.stage.label("code"),
        visit.stage.label("stage"),
        visit.due_at.label("due_at"),
        visit.warned_at.label("warned_at"),
        visit.breached_at.label("breached_at"),
        case((visit.status == "DONE", visit.completed_at), else_=null()).label("met_at"),
    ).where(_limited(visit.timer))
    spans = select(
        literal("SPAN", String),
        CaseSpanRow.id * 3 + 1,
        CaseSpanRow.case_id,
        CaseSpanRow.code,
        cast(null(), String),
        CaseSpanRow.due_at,
        CaseSpanRow.warned_at,
        CaseSpanRow.breached_at,
        CaseSpanRow.met_at,
    )
    cases = select(
        literal("CASE", String),
        CaseRow.id * 3 + 2,
        CaseRow.id,
        cast(null(), String),
        cast(null(), String),
        CaseRow.due_at,
        CaseRow.warned_at,
        CaseRow.breached_at,
        case((CaseRow.status.in_(MEETING), CaseRow.completed_at), else_=null()),
    ).where(_limited(CaseRow.timer))
    return union_all(stages, spans, cases).subquery("deadline")


DEADLINE = _union()
KEYS: tuple[keyset.SortKey, ...] = (
    keyset.SortKey(DEADLINE.c.due_at, nullable=True),
    keyset.SortKey(DEADLINE.c.id, nullable=False),
)
"""Deadlines read soonest due first (none due last), the id breaking ties."""


@dataclass(frozen=True, slots=True)
class DeadlineRecord:
    """One deadline of a case."""

    id: int
    case_id: int
    kind: str
    code: str | None
    stage: str | None
    due_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    met_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DeadlineFilter:
    """What `deadlines(where)` can ask for; each field narrows, None asks nothing."""

    kinds: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    warned: bool | None = None
    breached: bool | None = None
    met: bool | None = None
    due_before: dt.datetime | None = None
    due_after: dt.datetime | None = None
    warned_since: dt.datetime | None = None
    org_path: str | None = None
    business_type: str | None = None


def _flag(column: Any, wanted: bool | None) -> list[ColumnElement[bool]]:
    if wanted is None:
        return []
    return [column.is_not(None) if wanted else column.is_(None)]


def filter_condition(wanted: DeadlineFilter) -> ColumnElement[bool]:
    """SQL over the deadline union and the case row it is joined with."""
    d = DEADLINE.c
    parts: list[ColumnElement[bool]] = [
        *_flag(d.warned_at, wanted.warned),
        *_flag(d.breached_at, wanted.breached),
        *_flag(d.met_at, wanted.met),
    ]
    if wanted.kinds:
        parts.append(d.kind.in_(wanted.kinds))
    if wanted.codes:
        parts.append(d.code.in_(wanted.codes))
    if wanted.stages:
        parts.append(d.stage.in_(wanted.stages))
    if wanted.due_before is not None:
        parts.append(d.due_at < wanted.due_before)
    if wanted.due_after is not None:
        parts.append(d.due_at >= wanted.due_after)
    if wanted.warned_since is not None:
        parts.append(d.warned_at >= wanted.warned_since)
    if wanted.org_path is not None:
        parts.append(in_subtree(CaseRow.org_unit_id, wanted.org_path))
    if wanted.business_type is not None:
        codes = select(BusinessTypeRow.id).where(BusinessTypeRow.code == wanted.business_type)
        parts.append(CaseRow.business_type_id.in_(codes))
    return and_(true(), *parts)


def _record(row: Any) -> DeadlineRecord:
    return DeadlineRecord(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        code=row.code,
        stage=row.stage,
        due_at=row.due_at,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
        met_at=row.met_at,
    )


def _listed(condition: ColumnElement[bool]) -> Any:
    return select(DEADLINE).join(CaseRow, CaseRow.id == DEADLINE.c.case_id).where(condition)


@dataclass(frozen=True, slots=True)
class DeadlinePage:
    """One page of deadlines in list order, each with its position, and whether more lie beyond."""

    deadlines: list[DeadlineRecord]
    positions: list[tuple[object, ...]]
    more: bool


async def page(
    session: AsyncSession, condition: ColumnElement[bool], window: keyset.Window
) -> DeadlinePage:
    """Deadlines matching `condition` (case scope included), one keyset page."""
    width = len(DEADLINE.c)
    rows, more = await keyset.fetch(
        session, _listed(condition), KEYS, window, id_column=DEADLINE.c.id
    )
    return DeadlinePage(
        deadlines=[_record(row) for row in rows],
        positions=[tuple(row[width:]) for row in rows],
        more=more,
    )


async def count(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    """How many deadlines match `condition`."""
    statement = select(func.count()).select_from(_listed(condition).subquery())
    return int(await session.scalar(statement) or 0)


async def by_case(
    session: AsyncSession, case_ids: Sequence[int]
) -> dict[int, list[DeadlineRecord]]:
    """Every deadline of several cases: stage visits in order, then spans, then the case's."""
    rank = case((DEADLINE.c.kind == "STAGE", 0), (DEADLINE.c.kind == "SPAN", 1), else_=2)
    rows = await session.execute(
        select(DEADLINE)
        .where(DEADLINE.c.case_id.in_(case_ids))
        .order_by(DEADLINE.c.case_id, rank, DEADLINE.c.id)
    )
    found: dict[int, list[DeadlineRecord]] = {i: [] for i in case_ids}
    for row in rows:
        found[row.case_id].append(_record(row))
    return found


def union_sql(dialect: str) -> str:
    """Every deadline as one SQL subquery text (kind, id, case_id, code, stage, due_at, …).

    For the query compiler, which writes a case's deadlines as a correlated subquery over it;
    its literals are the kinds and statuses above, nothing a caller sends.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    engine_dialect: Any = (
        postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()  # type: ignore[no-untyped-call]
    )
    compiled = select(*DEADLINE.c).compile(
        dialect=engine_dialect, compile_kwargs={"literal_binds": True}
    )
    return f"({compiled})"
