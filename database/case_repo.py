"""Cases as rows: numbering, loading into engine state, saving state and chained events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from casework import history
from casework.model import CaseState, Event, StageState, StageStatus, Timer
from database import session as session_module
from database.tables import (
    CaseEventRow,
    CaseNumberCounterRow,
    CaseRow,
    IdempotencyKeyRow,
    StageInstanceRow,
)
from metamodel import datatypes
from metamodel.specs import BusinessTypeVersion, CaseStatus, TimeUnit

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


@dataclass(frozen=True, slots=True)
class NewCase:
    """What a new case row needs besides the engine state."""

    business_type_id: int
    org_unit_id: int
    priority: int
    customer_number: str | None
    created_by: str
    access_code_hash: str | None = None


async def add(
    session: AsyncSession,
    state: CaseState,
    version: BusinessTypeVersion,
    new: NewCase,
    events: Sequence[Event],
    *,
    now: dt.datetime,
) -> CaseRow:
    """Insert a new case with its stages and its first events."""
    row = CaseRow(
        number=await next_number(session, now=now),
        business_type_id=new.business_type_id,
        business_type_version=version.version,
        status=state.status.value,
        org_unit_id=new.org_unit_id,
        customer_number=new.customer_number,
        priority=new.priority,
        data=to_json_data(version, state.data),
        created_by=new.created_by,
        created_at=now,
        updated_at=now,
        submitted_at=state.submitted_at,
        completed_at=state.completed_at,
        due_at=state.due_at,
        warn_at=state.timer.warn_at if state.timer else None,
        timer=timer_to_json(state.timer),
        version=1,
        access_code_hash=new.access_code_hash,
        history_length=0,
        history_head=history.GENESIS,
    )
    session.add(row)
    await session.flush()
    # Sealed empty from the start, so its first events extend a seal like any others.
    keys = session_module.history_keys(session)
    row.history_mac = history.seal(keys.current, row.id, 0, history.GENESIS)
    row.history_key_id = keys.current.id
    await _save_stages(session, row, state, known=[])
    await append_events(session, row, _versioned(events, 1), actor=new.created_by, now=now)
    return row


async def get(session: AsyncSession, case_id: int, *, lock: bool = False) -> CaseRow | None:
    """A case row by id, locked for update when it is about to change."""
    statement = select(CaseRow).where(CaseRow.id == case_id)
    if lock:
        statement = statement.with_for_update()
    return await session.scalar(statement)


async def get_many(session: AsyncSession, case_ids: Sequence[int]) -> list[CaseRow]:
    """Case rows by id (missing ids are left out)."""
    return list((await session.scalars(select(CaseRow).where(CaseRow.id.in_(case_ids)))).all())


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


async def load_state(
    session: AsyncSession, row: CaseRow, version: BusinessTypeVersion
) -> tuple[CaseState, list[StageInstanceRow]]:
    """The engine's view of a case row."""
    stages = await stage_rows(session, row.id)
    state = CaseState(
        business_type=version.code,
        version=row.business_type_version,
        status=CaseStatus(row.status),
        data=from_json_data(version, row.data),
        stages=tuple(
            StageState(
                stage=s.stage,
                status=StageStatus(s.status),
                entered_at=s.entered_at,
                completed_at=s.completed_at,
                outcome=s.outcome,
                timer=timer_from_json(s.timer),
                splits=tuple(s.splits or ()),
                arrivals=s.arrivals,
            )
            for s in stages
        ),
        submitted_at=row.submitted_at,
        completed_at=row.completed_at,
        timer=timer_from_json(row.timer),
    )
    return state, stages


async def save(
    session: AsyncSession,
    row: CaseRow,
    state: CaseState,
    version: BusinessTypeVersion,
    events: Sequence[Event],
    *,
    known_stages: list[StageInstanceRow],
    actor: str,
    now: dt.datetime,
) -> None:
    """Write a changed state back, bump the row version and append the events.

    A change is never saved without the events that say what it was; the first of them
    records the version the case reaches, so the version too is part of the history.
    """
    if not events:
        raise ValueError("a change to a case is saved with the events that say what changed")
    row.status = state.status.value
    row.data = to_json_data(version, state.data)
    row.submitted_at = state.submitted_at
    row.completed_at = state.completed_at
    row.due_at = state.due_at
    row.warn_at = state.timer.warn_at if state.timer else None
    row.timer = timer_to_json(state.timer)
    row.updated_at = now
    row.version += 1
    await _save_stages(session, row, state, known=known_stages)
    await append_events(session, row, _versioned(events, row.version), actor=actor, now=now)


async def record_change(
    session: AsyncSession,
    row: CaseRow,
    events: Sequence[Event],
    *,
    actor: str,
    now: dt.datetime,
) -> None:
    """A change to a case the engine does not make (a payment, a waiver): bump, then record.

    Optimistic concurrency holds only if every change moves the version, so whoever read the
    case before it is refused (CONFLICT) rather than overwriting what they did not see.
    """
    if not events:
        raise ValueError("a change to a case is saved with the events that say what changed")
    row.updated_at = now
    row.version += 1
    await append_events(session, row, _versioned(events, row.version), actor=actor, now=now)


def _versioned(events: Sequence[Event], version: int) -> list[Event]:
    """The events of one saved change, the first marked with the case version it made."""
    first, *rest = events
    return [Event(first.action, {**first.data, "caseVersion": version}), *rest]


async def _save_stages(
    session: AsyncSession, row: CaseRow, state: CaseState, *, known: list[StageInstanceRow]
) -> None:
    """Update the visits that exist, insert the ones the engine added (visits only grow)."""
    for stage_row, stage in zip(known, state.stages, strict=False):
        _copy_visit(stage_row, stage)
    for stage in state.stages[len(known) :]:
        stage_row = StageInstanceRow(case_id=row.id, stage=stage.stage)
        _copy_visit(stage_row, stage)
        session.add(stage_row)
        known.append(stage_row)
    await session.flush()


def _copy_visit(target: StageInstanceRow, visit: StageState) -> None:
    target.status = visit.status.value
    target.entered_at = visit.entered_at
    target.completed_at = visit.completed_at
    target.outcome = visit.outcome
    target.due_at = visit.due_at
    target.warn_at = visit.timer.warn_at if visit.timer else None
    target.timer = timer_to_json(visit.timer)
    target.splits = list(visit.splits)
    target.arrivals = visit.arrivals


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
