"""Guess counters on both databases: counted before the check, per source, target and pair;
taken back only for a right guess; bounded under concurrency; expired rows cleared away."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from database import throttle_repo
from database.security_tables import AccessThrottleRow
from database.session import Database

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
LIMITS = throttle_repo.Limits(
    per_target_from_source=3,
    per_target=6,
    per_source=5,
    window=dt.timedelta(minutes=15),
    lock_for=dt.timedelta(minutes=10),
)


async def guess(
    db: Database, target: str = "alice", source: str = "203.0.113.1", *, at: dt.datetime = T0
) -> throttle_repo.Attempt | None:
    """One guess counted in a transaction of its own."""
    async with db.transaction() as session:
        return await throttle_repo.reserve(
            session, "test", target=target, source=source, limits=LIMITS, now=at
        )


async def forgive(db: Database, attempt: throttle_repo.Attempt | None) -> None:
    assert attempt is not None
    async with db.transaction() as session:
        await throttle_repo.forgive(session, attempt)


async def rows(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(AccessThrottleRow)) or 0)


async def test_a_pair_is_refused_at_its_limit_and_again_after_the_lock_out(db: Database) -> None:
    attempts = [await guess(db) for _ in range(4)]
    assert [a is not None for a in attempts] == [True, True, True, False]
    assert [a.source_failures for a in attempts if a] == [0, 1, 2]
    assert await guess(db, source="198.51.100.2") is not None  # another address still may
    # This address at another target, after three wrong guesses and one refused: its fifth.
    fifth = await guess(db, target="bob")
    assert fifth is not None and fifth.source_failures == 4
    assert await guess(db, target="carol") is None  # now the address is blocked everywhere
    assert await guess(db, at=T0 + dt.timedelta(minutes=9, seconds=59)) is None
    again = await guess(db, at=T0 + dt.timedelta(minutes=10))
    assert again is not None and again.source_failures == 0  # lock-outs served: a fresh count


async def test_failures_spread_beyond_the_window_never_lock(db: Database) -> None:
    for minute in range(0, 80, 8):  # never three within fifteen minutes
        assert await guess(db, at=T0 + dt.timedelta(minutes=minute)) is not None


async def test_a_right_guess_takes_back_only_its_own_count(db: Database) -> None:
    await guess(db)
    await guess(db)
    right = await guess(db)  # the third: the pair is now locked, pending this check
    assert await guess(db) is None
    await forgive(db, right)  # it was right: two wrong ones remain, the lock-out is lifted
    assert await guess(db) is not None  # the third wrong one
    assert await guess(db) is None


async def test_the_source_is_blocked_across_targets(db: Database) -> None:
    for n in range(5):
        assert await guess(db, target=f"user{n}") is not None
    assert await guess(db, target="user9") is None
    assert await guess(db, target="user0", source="198.51.100.2") is not None


async def test_the_target_is_locked_for_everyone_by_many_sources(db: Database) -> None:
    for n in range(6):
        assert await guess(db, source=f"203.0.113.{n}") is not None
    assert await guess(db, source="198.51.100.9") is None
    allowed = await guess(db, target="bob", source="198.51.100.9")
    assert allowed is not None and allowed.source_failures == 1  # the refused guess counted


async def test_a_refused_guess_makes_no_rows_past_the_key_that_refused(db: Database) -> None:
    for n in range(5):
        await guess(db, target=f"user{n}")
    before = await rows(db)
    for n in range(20):
        assert await guess(db, target=f"other{n}") is None
    assert await rows(db) == before


async def test_clearing_a_target_forgets_its_guesses_but_not_the_sources(db: Database) -> None:
    for _ in range(3):
        await guess(db)
    await guess(db, target="bob")
    async with db.transaction() as session:
        await throttle_repo.clear_target(session, "test", "alice")
    allowed = await guess(db)
    assert allowed is not None and allowed.source_failures == 4  # the address's count stays
    assert await guess(db, target="bob") is None  # that was its fifth: the address is blocked


async def test_rows_past_their_time_are_cleared_a_bounded_batch_at_a_time(db: Database) -> None:
    batch = throttle_repo.PURGE_BATCH
    for n in range(batch):  # a new source, target and pair each time
        await guess(db, target=f"user{n}", source=f"203.0.113.{n}")
    assert await rows(db) == 3 * batch
    later = T0 + dt.timedelta(minutes=16)
    await guess(db, target="zed", source="198.51.100.1", at=later)
    assert await rows(db) == 2 * batch + 3  # one batch gone, three new
    await guess(db, target="zed", source="198.51.100.1", at=later)
    assert await rows(db) == batch + 3
    await guess(db, target="zed", source="198.51.100.1", at=later)
    assert await rows(db) == 3


async def test_concurrent_guesses_get_no_more_than_the_limit(db: Database) -> None:
    attempts = await asyncio.gather(*(guess(db) for _ in range(30)))
    assert len([a for a in attempts if a is not None]) == LIMITS.per_target_from_source
    assert sorted(a.source_failures for a in attempts if a) == [0, 1, 2]
