"""Counting failed guesses per key, with a lock-out window, shared by every server process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from database.tables import AccessThrottleRow


async def _locked_row(session: AsyncSession, key: str, *, now: dt.datetime) -> AccessThrottleRow:
    """The key's row, created if missing, locked until the transaction ends and read afresh.

    Creating with ON CONFLICT DO NOTHING lets concurrent first guesses share one row instead of
    failing on its primary key (a 500 on PostgreSQL); the locked read replaces whatever the
    session held, so counts made by concurrent requests are never overwritten.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(AccessThrottleRow)
        .values(key=key, failures=0, window_start=now, locked_until=None)
        .on_conflict_do_nothing(index_elements=[AccessThrottleRow.key])
    )
    row = await session.scalar(
        select(AccessThrottleRow)
        .where(AccessThrottleRow.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def is_locked(session: AsyncSession, key: str, *, now: dt.datetime) -> bool:
    """Whether guesses for `key` are refused until a lock-out ends.

    The key's row stays locked until the transaction ends, so concurrent guesses for one key
    are checked and counted one after another: a burst cannot slip past the limit.
    """
    row = await _locked_row(session, key, now=now)
    return row.locked_until is not None and now < row.locked_until


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
    row = await _locked_row(session, key, now=now)
    if now - row.window_start > window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locked_until, row.failures, row.window_start = now + lockout, 0, now
    await session.flush()
