"""Reading and writing the calendar's per-date overrides (the `calendar_day` table).

An override says whether one date is a working day, whatever the holiday library says; see
`casework.calendar` for how they are applied. `get_overrides` returns them in the form
`casework.calendar.WorkCalendar` takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from database.metadata_tables import CalendarDayRow

NOTE_MAX_LENGTH = 200
"""The longest note a date can carry (the column's width)."""

_BATCH = 500
"""Rows per upsert statement, well inside SQLite's limit on bound parameters."""


def _year_ranges(years: Iterable[int]) -> list[tuple[int, int]]:
    """Years as runs of consecutive years, (first, last) each, in order."""
    ranges: list[tuple[int, int]] = []
    for year in sorted(set(years)):
        if ranges and ranges[-1][1] == year - 1:
            ranges[-1] = (ranges[-1][0], year)
        else:
            ranges.append((year, year))
    return ranges


async def get_overrides(
    session: AsyncSession, *, years: Iterable[int] | None = None
) -> dict[dt.date, tuple[bool, str | None]]:
    """The overrides as `{date: (workday, note)}` in date order, all or only those in `years`."""
    statement = select(CalendarDayRow.date, CalendarDayRow.workday, CalendarDayRow.note)
    if years is not None:
        ranges = _year_ranges(years)
        if not ranges:
            return {}
        conditions: list[ColumnElement[bool]] = [
            CalendarDayRow.date.between(dt.date(first, 1, 1), dt.date(last, 12, 31))
            for first, last in ranges
        ]
        statement = statement.where(or_(*conditions))
    rows = await session.execute(statement.order_by(CalendarDayRow.date))
    return {day: (bool(workday), note) for day, workday, note in rows}


def _checked(days: Sequence[tuple[dt.date, bool, str | None]]) -> dict[dt.date, dict[str, object]]:
    """The rows to write, one per date (the last given wins); refuses malformed entries."""
    rows: dict[dt.date, dict[str, object]] = {}
    for day, workday, note in days:
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise TypeError(f"expected a date, got {type(day).__name__}: {day!r}")
        if not isinstance(workday, bool):
            raise TypeError(f"workday of {day} must be a bool, got {workday!r}")
        if note is not None and len(note) > NOTE_MAX_LENGTH:
            raise ValueError(f"the note of {day} is longer than {NOTE_MAX_LENGTH} characters")
        rows[day] = {"date": day, "workday": workday, "note": note or None}
    return rows


async def set_days(
    session: AsyncSession,
    days: Sequence[tuple[dt.date, bool, str | None]],
    *,
    now: dt.datetime,
) -> None:
    """Insert or replace overrides, `(date, workday, note)` each; an empty note becomes None."""
    rows = list(_checked(days).values())
    if not rows:
        return
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for offset in range(0, len(rows), _BATCH):
        statement = insert(CalendarDayRow).values(
            [{**row, "updated_at": now} for row in rows[offset : offset + _BATCH]]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[CalendarDayRow.date],
                set_={
                    "workday": statement.excluded.workday,
                    "note": statement.excluded.note,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )


async def delete_days(session: AsyncSession, days: Iterable[dt.date]) -> int:
    """Remove overrides, so the library decides those dates again; the number removed."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    result = await session.execute(delete(CalendarDayRow).where(CalendarDayRow.date.in_(wanted)))
    return int(getattr(result, "rowcount", 0) or 0)
