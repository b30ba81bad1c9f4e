"""Counting wrong guesses at secrets (passwords, access codes), shared by every server process.

A guess is counted as wrong *before* its secret is checked, in one short transaction that
holds the counters' rows locked, and is taken back (`forgive`) only once it proved right. So
however many guesses arrive at once, no more are checked than the limits allow: a burst gets
no more tries than a patient caller.

Each guess at a target (an account, a case) from a source (the caller's address) counts under
three keys, and is refused unchecked when any of them is locked out (a guess refused for its
target still counts against its source):

- the source: `per_source` wrong guesses at anything lock the address out of everything;
- the target from that source: `per_target_from_source` lock that address out of the target;
- the target: `per_target` wrong guesses from every address lock the target for everyone.

Counts run in windows of `window` from a window's first wrong guess; reaching a limit locks the
key for `lock_for`, after which counting starts afresh. With `per_target` at least twice
`per_target_from_source` (and `lock_for` no shorter than `window`), one address alone can never
lock a target: within any one window of the target it gets at most
`2 * per_target_from_source - 1` guesses counted (the end of one of its own windows and the
next one), so stopping a real user from another address takes guesses from several addresses.
A right guess takes back only its own count: it does not excuse the wrong guesses made before
or alongside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from database.security_tables import AccessThrottleRow

PURGE_BATCH = 64
"""Expired rows deleted per counted guess: bounded work, more than any guess adds (three)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How many wrong guesses are checked, per key, before guessing stops for a while."""

    per_target_from_source: int
    per_source: int
    per_target: int
    window: dt.timedelta
    lock_for: dt.timedelta


@dataclass(frozen=True, slots=True)
class Attempt:
    """A guess allowed to be checked, already counted as wrong until it is forgiven."""

    keys: tuple[str, str, str]
    limits: Limits
    source_failures: int
    """Wrong guesses counted for the source in its window before this one."""


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


def _source_key(scope: str, source: str) -> str:
    return f"{scope}/s/{_digest(source)}"


def _target_key(scope: str, target: str) -> str:
    return f"{scope}/t/{_digest(target)}"


def _pair_prefix(scope: str, target: str) -> str:
    return f"{scope}/p/{_digest(target)}/"


def _keys(scope: str, target: str, source: str) -> tuple[str, str, str]:
    """The source's, the target's and the pair's keys: the order every caller locks them in.

    One order for all keeps two concurrent guesses from each holding a row the other waits for.
    """
    if not scope.isidentifier() or len(scope) > 12:
        raise ValueError(f"a throttle scope is a short identifier, not {scope!r}")
    return (
        _source_key(scope, source),
        _target_key(scope, target),
        _pair_prefix(scope, target) + _digest(source),
    )


def _limits_of(limits: Limits) -> tuple[int, int, int]:
    """The limits in the order of `_keys`."""
    return limits.per_source, limits.per_target, limits.per_target_from_source


async def _hold(session: AsyncSession, key: str, *, now: dt.datetime) -> AccessThrottleRow:
    """The key's row, created if missing, locked until the transaction ends and read afresh.

    Creating with ON CONFLICT DO NOTHING lets concurrent first guesses share one row instead of
    failing on its primary key; the locked read replaces whatever the session held, so counts
    made by concurrent requests are never overwritten. (SQLite has no row locks: its write
    transactions begin IMMEDIATE and so run one at a time.)
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(AccessThrottleRow)
        .values(key=key, failures=0, window_start=now, locked_until=None, expires_at=now)
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


def _roll(row: AccessThrottleRow, *, now: dt.datetime, window: dt.timedelta) -> None:
    """Start a fresh count once a lock-out has been served or the window has passed."""
    if row.locked_until is not None and now < row.locked_until:
        return
    if row.locked_until is not None or now - row.window_start >= window:
        row.failures, row.window_start, row.locked_until = 0, now, None
        _stamp(row, window)


def _stamp(row: AccessThrottleRow, window: dt.timedelta) -> None:
    """When the row stops meaning anything: its window is over and no lock-out runs."""
    row.expires_at = max(row.window_start + window, row.locked_until or row.window_start)


def _count(row: AccessThrottleRow, *, limit: int, now: dt.datetime, limits: Limits) -> None:
    """One more failure; the limit-th locks the key."""
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + limits.lock_for
    _stamp(row, limits.window)


async def _purge(session: AsyncSession, *, now: dt.datetime) -> None:
    """Delete a bounded batch of expired rows, skipping any another transaction holds."""
    expired = (
        select(AccessThrottleRow.key)
        .where(AccessThrottleRow.expires_at <= now)
        .order_by(AccessThrottleRow.expires_at)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(AccessThrottleRow).where(AccessThrottleRow.key.in_(expired.scalar_subquery()))
    )


async def reserve(
    session: AsyncSession,
    scope: str,
    *,
    target: str,
    source: str,
    limits: Limits,
    now: dt.datetime,
) -> Attempt | None:
    """Count a guess at `target` from `source` as wrong, or None when it may not be checked.

    Call it before checking the secret, in a transaction of its own that commits before the
    (slow) check begins; `forgive` the attempt if the secret was right. A guess refused because
    the target is locked still counts against its source (so hammering a locked account costs
    an address as much as guessing, and every guess the source may make costs it the same,
    whatever the target); one refused because the source is blocked counts nowhere. No row is
    made for a key past the first that refuses.
    """
    await _purge(session, now=now)
    rows: list[AccessThrottleRow] = []
    for key, limit in zip(_keys(scope, target, source), _limits_of(limits), strict=True):
        row = await _hold(session, key, now=now)
        _roll(row, now=now, window=limits.window)
        if row.locked_until is not None or row.failures >= limit:
            if rows:  # the source still pays for a guess at a locked target
                _count(rows[0], limit=limits.per_source, now=now, limits=limits)
            await session.flush()
            return None
        rows.append(row)
    source_failures = rows[0].failures
    for row, limit in zip(rows, _limits_of(limits), strict=True):
        _count(row, limit=limit, now=now, limits=limits)
    await session.flush()
    return Attempt(
        keys=(rows[0].key, rows[1].key, rows[2].key),
        limits=limits,
        source_failures=source_failures,
    )


async def forgive(session: AsyncSession, attempt: Attempt) -> None:
    """Take back a guess that proved right: its count, and a lock-out it alone brought on."""
    for key, limit in zip(attempt.keys, _limits_of(attempt.limits), strict=True):
        row = await session.scalar(
            select(AccessThrottleRow)
            .where(AccessThrottleRow.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:  # cleared by an administrator, or expired and purged
            continue
        row.failures = max(0, row.failures - 1)
        if row.locked_until is not None and row.failures < limit:
            row.locked_until = None
            _stamp(row, attempt.limits.window)
    await session.flush()


async def clear_target(session: AsyncSession, scope: str, target: str) -> None:
    """Forget the wrong guesses at `target` from everywhere (the sources' own counts stay).

    The target's row goes first, so this waits behind a guess holding it rather than holding a
    pair's row that guess is about to lock.
    """
    await session.execute(
        delete(AccessThrottleRow).where(AccessThrottleRow.key == _target_key(scope, target))
    )
    await session.execute(
        delete(AccessThrottleRow).where(
            AccessThrottleRow.key.startswith(_pair_prefix(scope, target), autoescape=True)
        )
    )
