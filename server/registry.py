"""The live schema: rebuilt off the request path when the metadata revision moves, then swapped.

Every process watches the revision in the database: PostgreSQL LISTEN/NOTIFY wakes it at once,
and a cheap poll of the revision row catches anything a lost connection missed (SQLite has only
the poll). Builds run one at a time in a worker thread; a failed build leaves the old schema
serving and is logged, and the next change or poll tries again.

A schema is a few hundred thousand long-lived objects. Left to the cyclic garbage collector,
every full collection walks them all (about half a second of CPU at 100 business types), and
one lands in almost every publish. So a second after the last swap the registry collects what
the replaced schema left and freezes the survivors (`gc.freeze`): later collections skip them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from database import metadata_repo
from database.session import Database
from metamodel.snapshot import MetamodelSnapshot

log = logging.getLogger(__name__)

Builder = Callable[[MetamodelSnapshot], Any]
"""Builds a schema object for a snapshot; the registry only holds and hands it over."""


class SchemaRegistry:
    """Holds the schema of the newest revision that built, and keeps it current."""

    def __init__(
        self,
        db: Database,
        build: Builder,
        *,
        poll_seconds: float = 0.25,
        settle_seconds: float | None = 1.0,
    ) -> None:
        self.db = db
        self.build = build
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        self.schema: Any | None = None
        self.revision = -1
        self.last_error: str | None = None
        self.build_seconds = 0.0
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listeners: list[Callable[[Any], None]] = []
        self._listen_connection: Any = None
        self._settle_handle: asyncio.TimerHandle | None = None
        self._stopping = False
        self._listen_closed = asyncio.Event()

    def on_swap(self, listener: Callable[[Any], None]) -> None:
        """Call `listener` with each new schema once it is live."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Build the first schema (failing loudly: there is nothing older to serve) and watch."""
        self._stopping = False
        await self.refresh(raise_errors=True)
        self._tasks.append(asyncio.create_task(self._watch(), name="schema-watch"))
        if self.db.dialect == "postgresql":
            self._tasks.append(asyncio.create_task(self._listen(), name="schema-listen"))

    async def stop(self) -> None:
        """Stop watching (the watcher also checks a flag: a lost cancellation cannot hang this)."""
        self._stopping = True
        self._wake.set()
        self._listen_closed.set()
        if self._settle_handle is not None:
            self._settle_handle.cancel()
            self._settle_handle = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._listen_connection is not None:
            with contextlib.suppress(Exception):
                await self._listen_connection.close()

    async def refresh(self, *, raise_errors: bool = False) -> bool:
        """Build and swap in the schema of the current revision if it is newer; True if swapped."""
        async with self._lock:
            async with self.db.read() as session:
                revision = await metadata_repo.get_revision(session)
                if revision <= self.revision:
                    return False
                snapshot = await metadata_repo.load_snapshot(session)
            started = time.perf_counter()
            try:
                schema = await asyncio.to_thread(self.build, snapshot)
            except Exception as error:
                self.last_error = type(error).__name__  # details go to the log, not to /healthz
                log.exception(
                    "schema build for revision %d failed; the old schema keeps serving", revision
                )
                if raise_errors:
                    raise
                return False
            self.build_seconds = time.perf_counter() - started
            self.schema, self.revision, self.last_error = schema, snapshot.revision, None
            log.info(
                "serving schema revision %d (built in %.3f s)",
                snapshot.revision,
                self.build_seconds,
            )
            for listener in self._listeners:
                listener(schema)
            self._settle_later()
            return True

    def _settle_later(self) -> None:
        """Settle `settle_seconds` after the last swap (not while a publish is answered)."""
        if self.settle_seconds is None:
            return
        if self._settle_handle is not None:
            self._settle_handle.cancel()
        loop = asyncio.get_running_loop()
        self._settle_handle = loop.call_later(self.settle_seconds, self._settle)

    def _settle(self) -> None:
        """Collect what replaced schemas left, then exempt the survivors from collections."""
        self._settle_handle = None
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def poke(self) -> None:
        """Ask the watcher to look now (a NOTIFY arrived, or this process changed metadata)."""
        self._wake.set()

    async def _watch(self) -> None:
        while not self._stopping:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives as the wait ends, and stop() then waited for ever (seen under load).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self.refresh()
            except Exception:  # the database may be briefly away; keep serving and retry
                log.exception("checking the metadata revision failed")
                await asyncio.sleep(min(5.0, self.poll_seconds * 10))

    async def _listen(self) -> None:
        """LISTEN on a dedicated asyncpg connection; reconnect after a failure."""
        import asyncpg

        dsn = self.db.url.replace("postgresql+asyncpg://", "postgresql://")
        while not self._stopping:
            try:
                connection = await asyncpg.connect(dsn)
                self._listen_connection = connection
                await connection.add_listener(
                    metadata_repo.NOTIFY_CHANNEL, lambda *_args: self.poke()
                )
                closed = self._listen_closed = asyncio.Event()
                connection.add_termination_listener(lambda *_args, done=closed: done.set())
                if self._stopping:  # no await between this check and the wait below
                    return
                self.poke()  # anything published while we were not listening
                await closed.wait()  # the connection ended, or stop() set it
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("LISTEN connection lost; the revision poll covers until it is back")
                await asyncio.sleep(1.0)
            finally:
                if self._listen_connection is not None and not self._listen_connection.is_closed():
                    with contextlib.suppress(Exception):
                        await self._listen_connection.close()
