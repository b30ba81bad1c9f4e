"""The schema registry starts, follows the revision and always stops."""

from __future__ import annotations

import asyncio
from typing import Any

from database.session import Database
from metamodel.snapshot import MetamodelSnapshot
from server.registry import SchemaRegistry


def built(snapshot: MetamodelSnapshot) -> Any:
    return ("schema", snapshot.revision)


async def test_stop_returns_even_when_the_watcher_misses_its_cancellation(db: Database) -> None:
    """Python 3.11's wait_for could swallow a cancel: stop() must not rely on the cancel alone."""
    registry = SchemaRegistry(db, built, poll_seconds=0.01, settle_seconds=None)
    await registry.start()
    for task in registry._tasks:
        task.cancel = lambda *args, **kwargs: False  # type: ignore[method-assign]
    async with asyncio.timeout(5):
        await registry.stop()
    assert registry._tasks == []


async def test_a_registry_started_and_stopped_many_times_always_stops(db: Database) -> None:
    for _ in range(50):
        registry = SchemaRegistry(db, built, poll_seconds=0.001, settle_seconds=None)
        await registry.start()
        await asyncio.sleep(0.002)
        async with asyncio.timeout(5):
            await registry.stop()
        assert registry.schema == ("schema", registry.revision)
