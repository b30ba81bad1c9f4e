"""The background step that keeps item indexes built: one pass at a time, retried until settled.

The reconcile itself is tested in tests/database/test_item_indexes.py; here it is replaced by a
script of results, so what the keeper does with each one is what is checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from database import item_index_reconcile
from database.item_index_reconcile import Reconciled
from database.session import Database
from service.item_indexes import IndexKeeper

BUSY = Reconciled(busy=True)
FAILED = Reconciled(failed={"ix_case_data_capacity_kva": "could not extend file"})
DONE = Reconciled(created=("ix_case_data_capacity_kva",))


class Script:
    """Stands in for the reconcile: answers each pass with the next outcome, then settles."""

    def __init__(self, outcomes: list[Reconciled | Exception]) -> None:
        self.outcomes: Iterator[Reconciled | Exception] = iter(outcomes)
        self.calls = 0
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def __call__(self, _db: Database) -> Reconciled:
        self.calls += 1
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        outcome = next(self.outcomes, Reconciled())
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Script:
    found = Script([])
    monkeypatch.setattr(item_index_reconcile, "reconcile", found)
    return found


async def _settled(keeper: IndexKeeper) -> None:
    async with asyncio.timeout(10):
        await keeper.idle()


async def test_a_pass_left_undone_is_tried_again_until_one_settles(
    script: Script, database: Database
) -> None:
    script.outcomes = iter([BUSY, RuntimeError("the database went away"), FAILED, DONE])
    keeper = IndexKeeper(database, retry_seconds=0.001)
    keeper.start()
    try:
        await _settled(keeper)
    finally:
        await keeper.stop()
    assert script.calls == keeper.passes == 4
    assert keeper.last == DONE


async def test_asks_during_a_pass_make_one_more_pass(script: Script, database: Database) -> None:
    script.hold = asyncio.Event()
    keeper = IndexKeeper(database, retry_seconds=0.001)
    keeper.start()
    try:
        await script.started.wait()
        for _ in range(3):  # three publishes while the first pass runs
            keeper.request()
        script.hold.set()
        await _settled(keeper)
    finally:
        await keeper.stop()
    assert script.calls == 2


async def test_stop_cancels_a_pass_that_outlasts_the_grace(
    script: Script, database: Database
) -> None:
    script.hold = asyncio.Event()
    keeper = IndexKeeper(database)
    keeper.start()
    await script.started.wait()
    async with asyncio.timeout(10):
        await keeper.stop(grace_seconds=0.05)
    assert keeper.passes == 0  # the pass never ended
    await keeper.stop()  # a second stop is harmless


async def test_stop_lets_a_pass_under_way_finish_within_the_grace(
    script: Script, database: Database
) -> None:
    """So its transaction ends whole: a cancelled SQLite write could leave the file locked."""
    script.hold = asyncio.Event()
    keeper = IndexKeeper(database)
    keeper.start()
    await script.started.wait()
    stopping = asyncio.create_task(keeper.stop(grace_seconds=5.0))
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the pass
    script.hold.set()
    async with asyncio.timeout(5):
        await stopping
    assert keeper.passes == 1 and script.calls == 1  # it ended, and no pass began after it


def test_failed_passes_wait_longer_each_time_up_to_a_limit(database: Database) -> None:
    keeper = IndexKeeper(database, retry_seconds=5.0, longest_wait_seconds=600.0)
    assert [keeper.delay_after(n) for n in (1, 2, 3, 4, 7, 8, 10_000)] == [
        5.0,
        10.0,
        20.0,
        40.0,
        320.0,
        600.0,
        600.0,
    ]
