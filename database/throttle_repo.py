"""Counting failed guesses per key, with a lock-out window, shared by every server process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from database.tables import AccessThrottleRow


async def is_locked(session: AsyncSession, key: str, *, now: dt.datetime) -> bool:
    """Whether guesses for `key` are refused until a lock-out ends."""
    row = await session.get(AccessThrottleRow, key)
    return bool(row and row.locked_until and now < row.locked_until)


async def fail(
    session: AsyncSession,
    key: str,
    *,
    now: dt.datetime,
    limit: int,
    window: dt.timedelta,
    lockout: dt.timedelta,
) -> None:
    """Count a failed guess; `limit` failures within `window` lock the key for `lockout`."""
    row = await session.scalar(
        select(AccessThrottleRow).where(AccessThrottleRow.key == key).with_for_update()
    )
    if row is None:
        row = AccessThrottleRow(key=key, failures=0, window_start=now, locked_until=None)
        session.add(row)
    if now - row.window_start > window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locked_until, row.failures, row.window_start = now + lockout, 0, now
    await session.flush()
