"""Storing the milestone spans of a case (`casework.spans`) in `case_deadline`, one row a span.

Loaded with the case under its lock and written back with the rest of a command's changes: a
span row changes only when its state does. A span that stops (met, or its case ended) keeps the
due date it last had, as finished stage visits do, so the deadlines list can show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy import insert as insert_into
from sqlalchemy.ext.asyncio import AsyncConnection

from casework.model import CaseState, SpanState
from database.case_repo import timer_from_json, timer_to_json
from database.case_tables import CaseSpanRow

SPAN = cast(Table, CaseSpanRow.__table__)
_FIELDS = ("met_at", "due_at", "warn_at", "timer")
LOAD_SPANS = select(SPAN).where(SPAN.c.case_id == bindparam("case_id")).order_by(SPAN.c.id)
UPDATE_SPANS = (
    update(SPAN).where(SPAN.c.id == bindparam("_id")).values({f: bindparam(f) for f in _FIELDS})
)
INSERT_SPANS = insert_into(SPAN)


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """A stored span of a case."""

    id: int
    code: str
    started_at: dt.datetime
    met_at: dt.datetime | None
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    warned_at: dt.datetime | None
    breached_at: dt.datetime | None
    timer: dict[str, Any] | None


def span_record(row: Any) -> SpanRecord:
    """A span row (a result row or an ORM row) as a record."""
    return SpanRecord(
        id=row.id,
        code=row.code,
        started_at=row.started_at,
        met_at=row.met_at,
        due_at=row.due_at,
        warn_at=row.warn_at,
        warned_at=row.warned_at,
        breached_at=row.breached_at,
        timer=dict(row.timer) if row.timer else None,
    )


async def load(conn: AsyncConnection, case_id: int) -> tuple[SpanRecord, ...]:
    """The spans of a case, in the order they started."""
    rows = (await conn.execute(LOAD_SPANS, {"case_id": case_id})).all()
    return tuple(span_record(r) for r in rows)


def states(records: Sequence[SpanRecord]) -> tuple[SpanState, ...]:
    """The engine's view of stored spans."""
    return tuple(
        SpanState(
            code=r.code,
            started_at=r.started_at,
            timer=timer_from_json(r.timer),
            met_at=r.met_at,
            warned_at=r.warned_at,
            breached_at=r.breached_at,
        )
        for r in records
    )


async def save(
    conn: AsyncConnection, case_id: int, stored: Sequence[SpanRecord], state: CaseState
) -> None:
    """Write the spans that changed and insert the ones that started."""
    by_code = {r.code: r for r in stored}
    changed: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    for span in state.spans:
        before = by_code.get(span.code)
        running = span.timer is not None and span.timer.running
        kept = before.due_at if before is not None else None
        values: dict[str, Any] = {
            "met_at": span.met_at,
            # A stopped span (met, case ended) keeps its last due date; a paused one has none.
            "due_at": span.due_at if running or not _stopped(span, state) else kept,
            "warn_at": span.timer.warn_at if span.timer else None,
            "timer": timer_to_json(span.timer),
        }
        if before is None:
            added.append(
                {
                    "case_id": case_id,
                    "code": span.code,
                    "started_at": span.started_at,
                    **values,
                }
            )
        elif any(getattr(before, k) != v for k, v in values.items()):
            changed.append({"_id": before.id, **values})
    if changed:
        await conn.execute(UPDATE_SPANS, changed)
    if added:
        await conn.execute(INSERT_SPANS, added)


def _stopped(span: SpanState, state: CaseState) -> bool:
    return span.met_at is not None or state.completed_at is not None
