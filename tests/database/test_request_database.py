"""A request's reads share one session, one reader at a time, and never wait on each other."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from database import session as session_module
from database.session import Database


async def test_reads_of_one_request_share_one_session(database: Database) -> None:
    request = database.for_request()
    try:
        async with request.read() as first:
            pass
        async with request.read() as second:
            assert second is first
            async with request.read() as nested:  # a read inside a read of the same task
                assert nested is first
                assert (await nested.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await request.close()


async def test_a_read_waited_on_by_the_holder_reads_apart(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that awaits another task's read (a loader inside a read) must not hang."""
    monkeypatch.setattr(session_module, "SHARED_WAIT_SECONDS", 0.05)
    request = database.for_request()

    async def inner() -> int:
        async with request.read() as own:
            return int((await own.execute(text("SELECT 2"))).scalar_one())

    try:
        async with request.read() as held, asyncio.timeout(5):
            assert (await held.execute(text("SELECT 1"))).scalar() == 1
            assert await asyncio.create_task(inner()) == 2
            async with request.transaction() as writing:  # nor does a command in a read
                assert (await writing.execute(text("SELECT 3"))).scalar() == 3
    finally:
        await request.close()
