"""The record kept of every reorganisation of posts (`ReorganizationRow`), as plain values.

Its moves are stored as JSON in the terms of the `reorganizePosts` input, so a record reads as
what was asked for; `apply_due` reads them back to move the tasks of a PENDING one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from casework.moves import Move
from database.metadata_tables import ReorganizationRow


class ReorganizationStatus:
    """PENDING: its open tasks move when it takes effect; APPLIED: they have (or never will)."""

    PENDING = "PENDING"
    APPLIED = "APPLIED"


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
