"""Keeping the expression indexes of `indexed` items built: in the background, never in a request.

A server process runs one `IndexKeeper`. It reconciles at start and whenever the process serves
a new metadata revision (a publish here or in another process), one pass at a time: asks that
arrive during a pass make one more pass after it. A pass that found another process holding
the lock, an index another session is building, or a build that failed is tried again later,
failures with a growing delay, so a build that cannot succeed does not rescan the table
every few seconds. `yekuo index sync` runs one pass from the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Iterable

from database import case_expressions, item_index_reconcile, item_indexes
from database.item_index_reconcile import Reconciled
from database.item_indexes import IndexStatus
from database.session import Database
from metamodel.specs import BusinessTypeVersion

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0
"""How long a stopping server lets a pass under way finish before cancelling it."""


async def sync(db: Database) -> Reconciled:
    """One reconcile pass: build what is wanted and missing, rebuild failures, drop the rest."""
    done = await item_index_reconcile.reconcile(db)
    for name in done.created:
        log.info("built item index %s", name)
    for name in done.rebuilt:
        log.info("rebuilt item index %s", name)
    for name in done.dropped:
        log.info("dropped item index %s", name)
    for name, reason in done.failed.items():
        log.warning("building item index %s failed (a later pass retries): %s", name, reason)
    return done


async def statuses(
    db: Database, codes: Iterable[str], served: Iterable[BusinessTypeVersion]
) -> dict[str, IndexStatus | None]:
    """Each item's index (None: neither wanted nor there), from one read of the catalog.

    `served` are the latest versions the caller serves: what is wanted is decided from them,
    as the reconcile decides it from the stored ones.
    """
    wanted = item_indexes.wanted((i for v in served for i in v.items.values()), db.dialect)
    async with db.one_statement() as session:
        found = await item_indexes.found_indexes(session, db.dialect)
    by_name = item_indexes.statuses(wanted, found)
    return {code: by_name.get(case_expressions.index_name(code)) for code in codes}


async def overview(db: Database) -> list[IndexStatus]:
    """Every item index wanted by the stored versions or there, by name."""
    async with db.read() as session:
        wanted = item_indexes.wanted(await item_indexes.served_items(session), db.dialect)
        found = await item_indexes.found_indexes(session, db.dialect)
    return list(item_indexes.statuses(wanted, found).values())


class IndexKeeper:
    """Runs `sync` in the background of a server process, one pass at a time."""

    def __init__(
        self, db: Database, *, retry_seconds: float = 5.0, longest_wait_seconds: float = 600.0
    ) -> None:
        self.db = db
        self.retry_seconds = retry_seconds
        self.longest_wait_seconds = longest_wait_seconds
        self.last: Reconciled | None = None
        """The last pass's result (None before the first ends, or when it raised)."""
        self.passes = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0
        self._stopping = False

    def start(self) -> None:
        """Begin keeping: a first pass now, then one after every `request`."""
        if self._task is not None:
            return
        self._wake.set()
        # A context of its own: the passes belong to no request that happened to ask for one.
        self._task = asyncio.create_task(
            self._run(), name="item-indexes", context=contextvars.Context()
        )

    def request(self) -> None:
        """Ask for a pass (the metadata changed); several asks while one runs make one more."""
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        """Wait until no pass is asked for or running, and the last one left nothing to retry."""
        await self._idle.wait()

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """Stop keeping: a pass under way may finish within the grace, else it is cancelled.

        Cancelled, a PostgreSQL build is left INVALID (the next start rebuilds it); a pass let
        finish gives its transaction back whole, so no write lock outlives the server (SQLite).
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), grace_seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            delay = await self._pass()
            if delay is None:
                if not self._wake.is_set():
                    self._idle.set()
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self._wake.set()

    async def _pass(self) -> float | None:
        """Run one pass; the seconds to wait before the next when this one left work undone."""
        try:
            done = await sync(self.db)
        except Exception:  # the database may be away for a moment: keep serving, retry later
            log.exception("reconciling item indexes failed")
            done = None
        self.last, self.passes = done, self.passes + 1
        if done is not None and done.settled:
            self._failures = 0
            return None
        if done is not None and not done.failed:
            return self.retry_seconds  # busy elsewhere, or building elsewhere: look again soon
        self._failures += 1
        return self.delay_after(self._failures)

    def delay_after(self, failures: int) -> float:
        """Seconds before retrying after `failures` failed passes in a row: doubling, capped."""
        doubled = self.retry_seconds * 2.0 ** min(max(failures, 1) - 1, 30)
        return float(min(self.longest_wait_seconds, doubled))
