"""Cases as rows: numbering, loading into engine state, saving state and chained events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from casework import history
from casework.model import Event, Timer
from database import session as session_module
from database.case_tables import (
    CaseEventRow,
    CaseNumberCounterRow,
    CaseRow,
    IdempotencyKeyRow,
    StageInstanceRow,
)
from metamodel import datatypes
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


def chain_events(
    keys: history.Keyring,
    case_id: int,
    metadata_version: int,
    anchor: history.Anchor,
    events: Sequence[Event],
    *,
    actor: str,
    now: dt.datetime,
) -> tuple[history.Anchor, list[dict[str, Any]]]:
    """The events' rows, numbered and chained after `anchor`, and the anchor they lead to.

    A seal is only extended when it holds: a case whose history was tampered with stays
    detectably broken instead of being sealed over.
    """
    sealed = history.holds_seal(keys, case_id, anchor)
    seq, previous = anchor.length, anchor.head
    rows: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        data = dict(event.data)
        entry = history.canonical(seq, now, actor, event.action, data, metadata_version)
        previous = history.chain(previous, entry)
        rows.append(
            {
                "case_id": case_id,
                "seq": seq,
                "at": now,
                "actor": actor,
                "action": event.action,
                "data": data,
                "metadata_version": metadata_version,
                "hash": previous,
            }
        )
    if not sealed:  # leave the old seal: it no longer matches, and verification says so
        return history.Anchor(seq, previous, anchor.mac, anchor.key_id), rows
    return history.Anchor(
        seq, previous, history.seal(keys.current, case_id, seq, previous), keys.current.id
    ), rows


async def append_events(
    session: AsyncSession,
    row: CaseRow,
    events: Sequence[Event],
    *,
    actor: str,
    now: dt.datetime,
) -> None:
    """Number and chain events after the head the case row records, and seal the new head.

    For the writers that hold the case as a row (the sweep, a reorganisation); commands go
    through `case_store`. The anchor is read fresh under the row lock, so writers of one case
    queue.
    """
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
    anchor, rows = chain_events(
        session_module.history_keys(session),
        row.id,
        row.business_type_version,
        history.Anchor(length=length, head=head, mac=mac, key_id=key_id),
        events,
        actor=actor,
        now=now,
    )
    if rows:
        await session.execute(insert(CaseEventRow), rows)
    row.history_length, row.history_head = anchor.length, anchor.head
    row.history_mac, row.history_key_id = anchor.mac, anchor.key_id
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
