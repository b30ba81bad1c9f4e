"""One reconcile pass over the item indexes: build what is wanted, rebuild failures, drop the rest.

What is wanted and what exists, and the DDL, are `database.item_indexes`; this module runs it,
one process at a time, and gives the planner statistics for what it built. Without them a new
expression index goes unused: PostgreSQL assumes a third of the cases match any range until
autovacuum next analyzes the table (which a new index does not prompt), and SQLite, which keeps
no statistics unless asked, prefers the business type's index to an item's for a type's list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from database.item_indexes import (
    IndexState,
    WantedIndex,
    comment_statement,
    create_statement,
    drop_statement,
    found_indexes,
    served_items,
    state_of,
    wanted,
)
from database.session import Database

LOCK_KEY = 7_596_457_352_011_000_001
"""The PostgreSQL advisory lock only one reconcile at a time holds (any fixed 64-bit number)."""

SQLITE_STATISTICS_FROM = 1000
"""Cases below which SQLite is left without statistics: any plan reads a small table quickly."""


@dataclasses.dataclass(frozen=True, slots=True)
class Reconciled:
    """What one reconcile pass did, by index name."""

    busy: bool = False
    """Another process held the lock: this pass did nothing and should be tried again later."""
    created: tuple[str, ...] = ()
    rebuilt: tuple[str, ...] = ()
    """Indexes dropped and built again: a failed build, or built on an older key."""
    dropped: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()
    """Indexes another session is building or dropping now; a later pass looks again."""
    failed: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Builds that failed, with the database's reason; left INVALID, a later pass retries."""
    analyzed: bool = False
    """Whether the pass gathered the planner's statistics of `"case"`."""

    @property
    def settled(self) -> bool:
        """Whether this pass left nothing for a later one."""
        return not (self.busy or self.waiting or self.failed)


async def reconcile(db: Database) -> Reconciled:
    """Make the item indexes on `"case"` what the served versions want, once.

    PostgreSQL: on a connection of its own in AUTOCOMMIT (CONCURRENTLY refuses a transaction),
    under a session-level advisory lock that is tried, never waited for: a second process
    gets `busy` and leaves the work to the first. The builds lock no writer out and never run
    in a request; a failed build (left INVALID by PostgreSQL) is reported and a later pass
    drops and rebuilds it. SQLite: in one write transaction, which is the guard (SQLite has
    one writer), with plain DDL.
    """
    if db.dialect != "postgresql":
        async with db.transaction() as session:
            return await _pass(await session.connection(), db.dialect)
    async with db.engine.connect() as pooled:
        try:
            connection = await pooled.execution_options(isolation_level="AUTOCOMMIT")
            if not await connection.scalar(_TRY_LOCK, {"k": LOCK_KEY}):
                return Reconciled(busy=True)
            done = await _pass(connection, db.dialect)
            await connection.execute(_UNLOCK, {"k": LOCK_KEY})
            return done
        except BaseException:
            # Cancelled mid-build, or the connection failed: close it rather than pool it,
            # and the server releases the lock with the session.
            await pooled.invalidate()
            raise


_TRY_LOCK = text("SELECT pg_try_advisory_lock(:k)")
_UNLOCK = text("SELECT pg_advisory_unlock(:k)")


async def _pass(connection: AsyncConnection, dialect: str) -> Reconciled:
    want = wanted(await served_items(connection), dialect)
    found = await found_indexes(connection, dialect)
    created: list[str] = []
    rebuilt: list[str] = []
    dropped: list[str] = []
    waiting: list[str] = []
    failed: dict[str, str] = {}
    for name in sorted(found.keys() | want.keys()):
        state = state_of(want.get(name), found.get(name))
        if state is IndexState.BUILDING:
            waiting.append(name)
            continue
        try:
            if state in (IndexState.DROPPING, IndexState.INVALID, IndexState.STALE):
                await connection.exec_driver_sql(drop_statement(name, dialect))
                if state is IndexState.DROPPING:
                    dropped.append(name)
                    continue
                rebuilt.append(name)
            if state in (IndexState.PENDING, IndexState.INVALID, IndexState.STALE):
                await _build(connection, want[name], dialect)
                if state is IndexState.PENDING:
                    created.append(name)
        except Exception as error:
            if dialect != "postgresql":
                raise  # one SQLite transaction: it all rolls back, and a later pass retries
            failed[name] = str(error).splitlines()[0] if str(error) else type(error).__name__
    built = created + [n for n in rebuilt if n not in failed]
    return Reconciled(
        created=tuple(created),
        rebuilt=tuple(n for n in rebuilt if n not in failed),
        dropped=tuple(dropped),
        waiting=tuple(waiting),
        failed=failed,
        analyzed=await _analyze(connection, dialect, changed=bool(built or dropped)),
    )


async def _analyze(connection: AsyncConnection, dialect: str, *, changed: bool) -> bool:
    """Gather `"case"`'s statistics when the indexes changed (SQLite: or the cases grew).

    PostgreSQL samples a bounded number of rows and blocks no reader or writer. SQLite reads
    every index, under the write lock, so only from SQLITE_STATISTICS_FROM cases on, and again
    only when the number of cases has moved by half or doubled since it last counted them.
    """
    if dialect == "postgresql":
        if changed:
            await connection.exec_driver_sql('ANALYZE "case"')
        return changed
    cases = int(await connection.scalar(text('SELECT count(*) FROM "case"')) or 0)
    if cases < SQLITE_STATISTICS_FROM:
        return False
    counted = None
    if await connection.scalar(_SQLITE_HAS_STAT1):
        stat = await connection.scalar(_SQLITE_CASE_STAT)
        counted = int(str(stat).split()[0]) if stat else None
    if not changed and counted is not None and counted / 2 <= cases <= counted * 2:
        return False
    await connection.exec_driver_sql('ANALYZE "case"')
    return True


_SQLITE_HAS_STAT1 = text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
_SQLITE_CASE_STAT = text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'case' LIMIT 1")


async def _build(connection: AsyncConnection, want: WantedIndex, dialect: str) -> None:
    await connection.exec_driver_sql(create_statement(want, dialect))
    if dialect == "postgresql":
        await connection.exec_driver_sql(comment_statement(want))
