"""Cases as rows: numbering, loading into engine state, saving state and chained events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from casework import history
from casework.model import Event, StageStatus, Timer
from database import filters as sql_filters
from database import session as session_module
from database.tables import (
    CaseEventRow,
    CaseNumberCounterRow,
    CaseRow,
    IdempotencyKeyRow,
    OrgUnitRow,
    StageInstanceRow,
    TaskRow,
)
from metamodel import datatypes
from metamodel import filters as filters_ast
from metamodel.specs import BusinessTypeVersion, TimeUnit

NUMBER_ZONE = ZoneInfo("Asia/Shanghai")
"""Case numbers carry the local date the counter staff see."""


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _instant(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def timer_to_json(timer: Timer | None) -> dict[str, Any] | None:
    """A timer as stored (the due and warning instants also have their own columns)."""
    if timer is None:
        return None
    return {
        "unit": timer.unit.value,
        "limit": timer.limit,
        "used": timer.used,
        "running_since": _iso(timer.running_since),
        "due_at": _iso(timer.due_at),
        "warn_at": _iso(timer.warn_at),
    }


def timer_from_json(raw: dict[str, Any] | None) -> Timer | None:
    """The inverse of timer_to_json."""
    if raw is None:
        return None
    return Timer(
        unit=TimeUnit(raw["unit"]),
        limit=int(raw["limit"]),
        used=int(raw["used"]),
        running_since=_instant(raw.get("running_since")),
        due_at=_instant(raw.get("due_at")),
        warn_at=_instant(raw.get("warn_at")),
    )


async def next_number(session: AsyncSession, *, now: dt.datetime) -> str:
    """A new unique case number `YYYYMMDD` + a five-digit daily sequence (wider if needed)."""
    day = now.astimezone(NUMBER_ZONE).strftime("%Y%m%d")
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    statement = (
        insert(CaseNumberCounterRow)
        .values(day=day, last=1)
        .on_conflict_do_update(
            index_elements=[CaseNumberCounterRow.day],
            set_={"last": CaseNumberCounterRow.last + 1},
        )
        .returning(CaseNumberCounterRow.last)
    )
    sequence = int((await session.execute(statement)).scalar_one())
    return f"{day}{sequence:05d}"


def to_json_data(version: BusinessTypeVersion, data: Mapping[str, object]) -> dict[str, Any]:
    """Canonical values in their storage form."""
    return {code: datatypes.to_json(version.item(code), value) for code, value in data.items()}


def from_json_data(version: BusinessTypeVersion, raw: Mapping[str, Any]) -> dict[str, object]:
    """Stored values back to canonical values; items unknown to the version are kept raw."""
    return {
        code: datatypes.from_json(version.items[code], value) if code in version.items else value
        for code, value in raw.items()
        if value is not None
    }


async def get(session: AsyncSession, case_id: int, *, lock: bool = False) -> CaseRow | None:
    """A case row by id, locked for update when it is about to change."""
    statement = select(CaseRow).where(CaseRow.id == case_id)
    if lock:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def get_many(session: AsyncSession, case_ids: Sequence[int]) -> list[CaseRow]:
    """Case rows by id (missing ids are left out)."""
    return list((await session.scalars(select(CaseRow).where(CaseRow.id.in_(case_ids)))).all())


async def get_by_number(session: AsyncSession, number: str) -> CaseRow | None:
    """A case row by its number."""
    return await session.scalar(select(CaseRow).where(CaseRow.number == number))


async def stage_rows(session: AsyncSession, case_id: int) -> list[StageInstanceRow]:
    """Every stage visit of a case, in order."""
    return list(
        (
            await session.scalars(
                select(StageInstanceRow)
                .where(StageInstanceRow.case_id == case_id)
                .order_by(StageInstanceRow.id)
            )
        ).all()
    )


async def append_events(
    session: AsyncSession,
    row: CaseRow,
    events: Sequence[Event],
    *,
    actor: str,
    now: dt.datetime,
) -> None:
    """Number and chain events after the head the case row records, and seal the new head.

    The row is locked (the same lock every command takes first) and its anchor read fresh, so
    writers of one case queue. A seal is only extended when it holds: a case whose history was
    tampered with stays detectably broken instead of being sealed over.
    """
    keys = session_module.history_keys(session)
    length, head, mac, key_id = (
        await session.execute(
            select(
                CaseRow.history_length,
                CaseRow.history_head,
                CaseRow.history_mac,
                CaseRow.history_key_id,
            )
            .where(CaseRow.id == row.id)
            .with_for_update()
        )
    ).one()
    anchor = history.Anchor(length=length, head=head, mac=mac, key_id=key_id)
    sealed = history.holds_seal(keys, row.id, anchor)
    seq, previous = length, head
    for event in events:
        seq += 1
        data = dict(event.data)
        entry = history.canonical(seq, now, actor, event.action, data, row.business_type_version)
        previous = history.chain(previous, entry)
        session.add(
            CaseEventRow(
                case_id=row.id,
                seq=seq,
                at=now,
                actor=actor,
                action=event.action,
                data=data,
                metadata_version=row.business_type_version,
                hash=previous,
            )
        )
    row.history_length, row.history_head = seq, previous
    if sealed:
        row.history_mac = history.seal(keys.current, row.id, seq, previous)
        row.history_key_id = keys.current.id
    else:  # leave the old seal: it no longer matches, and verification says so
        row.history_mac, row.history_key_id = mac, key_id
    await session.flush()


async def events(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[CaseEventRow]]:
    """The events of several cases, in order, by case id."""
    rows = await session.scalars(
        select(CaseEventRow)
        .where(CaseEventRow.case_id.in_(case_ids))
        .order_by(CaseEventRow.case_id, CaseEventRow.seq)
    )
    grouped: dict[int, list[CaseEventRow]] = {i: [] for i in case_ids}
    for event in rows:
        grouped[event.case_id].append(event)
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


def scope_condition(scope: CaseScope) -> ColumnElement[bool]:
    """SQL for a case scope."""
    if scope.everything:
        return true()
    if not scope.org_path:
        return false()
    in_tree = CaseRow.org_unit_id.in_(
        select(OrgUnitRow.id).where(
            func.substr(OrgUnitRow.path, 1, len(scope.org_path)) == scope.org_path
        )
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


async def visible(session: AsyncSession, case_id: int, scope: CaseScope) -> bool:
    """Whether a case is within a scope."""
    found = await session.scalar(
        select(CaseRow.id).where(CaseRow.id == case_id, scope_condition(scope))
    )
    return found is not None


async def any_visible_for_customer(
    session: AsyncSession, customer_number: str, scope: CaseScope
) -> bool:
    """Whether some case about the customer is within a scope."""
    found = await session.scalar(
        select(CaseRow.id)
        .where(CaseRow.customer_number == customer_number, scope_condition(scope))
        .limit(1)
    )
    return found is not None


async def page_rows(
    session: AsyncSession,
    node: filters_ast.Filter,
    orders: Sequence[filters_ast.Order],
    *,
    offset: int,
    limit: int,
    scope: CaseScope | None = None,
) -> list[CaseRow]:
    """Cases matching a filter within a scope, ordered (the id breaks ties), one page."""
    dialect = _dialect(session)
    statement = (
        select(CaseRow)
        .where(sql_filters.compile_filter(node, dialect=dialect))
        .where(scope_condition(scope) if scope is not None else true())
        .order_by(*sql_filters.compile_order(list(orders), dialect=dialect))
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


async def count_matching(
    session: AsyncSession, node: filters_ast.Filter, scope: CaseScope | None = None
) -> int:
    """How many cases match a filter within a scope."""
    where = sql_filters.compile_filter(node, dialect=_dialect(session))
    if scope is not None:
        where = and_(where, scope_condition(scope))
    return int(await session.scalar(select(func.count()).select_from(CaseRow).where(where)) or 0)


class DuplicateRequest(Exception):
    """Another request with the same idempotency key committed first."""


async def find_idempotent(session: AsyncSession, scope: str, key: str) -> dict[str, Any] | None:
    """The stored result of an earlier request with this key, if any."""
    row = await session.scalar(
        select(IdempotencyKeyRow).where(
            IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key
        )
    )
    return None if row is None else dict(row.result)


async def remember_idempotent(
    session: AsyncSession, scope: str, key: str, result: dict[str, Any], *, now: dt.datetime
) -> None:
    """Store a request's result under its key; DuplicateRequest if another request won the race."""
    try:
        async with session.begin_nested():
            session.add(IdempotencyKeyRow(scope=scope, key=key, result=result, created_at=now))
            await session.flush()
    except IntegrityError as error:
        raise DuplicateRequest(key) from error


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"
