"""Engines and the unit of work: the only place a transaction begins and commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from casework import history
from database.counters import SqlCounters

_WRITE = "yekuo_write"
SHARED_WAIT_SECONDS = 2.0
"""Longest a read waits for its request's shared session before reading on one of its own."""
log = logging.getLogger(__name__)
HISTORY_KEYS = "history_keys"
"""Where a session carries the keys that seal case histories (see `history_keys`)."""


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///…` and `postgresql://…` URLs and pick the async drivers."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(
        parsed.drivername
    )
    if parsed.drivername == "postgres":
        driver = "postgresql+asyncpg"
    return parsed.set(drivername=driver).render_as_string(hide_password=False) if driver else url


_decode_json = msgspec.json.Decoder().decode


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Enforce foreign keys, use WAL, and begin write transactions IMMEDIATE.

    SQLite upgrades a read lock to a write lock lazily; two writers that both read first then
    deadlock. Taking the write lock at BEGIN makes concurrent writers queue instead.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # a request's reads: each statement on its own, as on PostgreSQL
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE, False) else "BEGIN")


class Database:
    """An engine with a session factory; `transaction()` is the unit of work.

    `history_keys` seal the case histories its sessions write; the server derives them from
    its secret. A Database without them can read, but cannot add to a case's history.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 20,
        history_keys: history.Keyring | None = None,
    ) -> None:
        self.url = normalise_url(url)
        self.history_keys = history_keys
        # JSON columns are read with msgspec: the same values as json.loads, several times
        # faster (a page of 50 cases decodes 50 data documents).
        kwargs: dict[str, Any] = {"echo": echo, "json_deserializer": _decode_json}
        if not self.url.startswith("sqlite"):
            # No pre-ping: it cost every checkout three round trips (BEGIN, a ping, ROLLBACK).
            # A connection the server dropped fails its first statement instead; SQLAlchemy
            # then invalidates the whole pool, and a read request is run once more on a fresh
            # connection (`server.graphql_http`); a command is answered 503 with Retry-After.
            # A request holds its connection while it runs: the pool keeps as many as a busy
            # process runs requests at once, so connections are not closed and opened again
            # (a new PostgreSQL backend per request) whenever more than a few are in flight.
            kwargs.update(pool_size=pool_size, max_overflow=pool_size // 2)
        self.engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.counters = SqlCounters()
        """Statements and transactions this engine ran (the server's /metrics reads them)."""
        self.counters.install(self.engine)
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info={HISTORY_KEYS: history_keys}
        )

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite database."""
        return self.engine.dialect.name == "sqlite"

    @property
    def dialect(self) -> str:
        """The dialect name: `sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one write transaction: committed on success, rolled back on error."""
        async with self._sessions() as session, session.begin():
            if self.is_sqlite:
                await session.connection(execution_options={_WRITE: True})
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; nothing it does is committed."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncSession]:
        """A session for a single read that needs no transaction around it.

        On PostgreSQL the connection runs in autocommit: the statement is its own transaction,
        without the BEGIN and ROLLBACK round trips. Every request reads its caller this way.
        """
        if self.is_sqlite:  # a local file: BEGIN costs nothing worth saving
            async with self.read() as session:
                yield session
            return
        async with self._sessions() as session:
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A session that reads one consistent snapshot (REPEATABLE READ on PostgreSQL).

        Checking a case compares several tables; read committed could see a command's events
        without the row it changed, and report a break that is not there.
        """
        # SQLite: a read transaction is one snapshot already (WAL).
        options = {} if self.is_sqlite else {"isolation_level": "REPEATABLE READ"}
        async with self._sessions() as session:
            await session.connection(execution_options=options)  # begins, before any read
            yield session  # closing the session rolls the read transaction back

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    def for_request(self) -> RequestDatabase:
        """The database as one request sees it: all its reads share one session."""
        return RequestDatabase(self)


class RequestDatabase(Database):
    """One request's view of a Database: its reads share one session, opened at the first.

    A request's loaders, resolvers and caller check each read something; each opening its own
    session cost a pool checkout and, on PostgreSQL, a BEGIN and a ROLLBACK round trip around
    every statement. Here the first read opens one session in autocommit (each statement is its
    own transaction and sees what was committed before it, as the separate sessions did) and
    every later read of the request reuses it, one at a time; `close` returns it at the end.

    Write transactions still get a session of their own. Before one begins, the read session
    is handed back to the pool, so a request never holds two connections and a busy pool
    cannot deadlock on requests that each hold one and wait for another.
    """

    def __init__(self, parent: Database) -> None:  # shares the parent's engine and pool
        self.url = parent.url
        self.history_keys = parent.history_keys
        self.engine = parent.engine
        self.counters = parent.counters
        self._sessions = parent._sessions
        self._shared: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self.began_transaction = False
        """Whether the request began a write transaction (then it is not safe to run again)."""

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """The request's read session, one reader at a time (re-entered by the reader itself)."""
        task = asyncio.current_task()
        if self._holder is not None and self._holder is task:
            assert self._shared is not None
            yield self._shared  # a read nested in a read of the same task
            return
        try:
            await asyncio.wait_for(self._lock.acquire(), SHARED_WAIT_SECONDS)
        except TimeoutError:
            # The holder waits on something that waits on us (a loader awaited inside a read):
            # read on a session of our own rather than never.
            log.warning(
                "a read waited %ss for the request's session; reading apart", SHARED_WAIT_SECONDS
            )
            async with super().read() as own:
                yield own
            return
        try:
            self._holder = task
            try:
                session = await self._open()
                try:
                    yield session
                except BaseException:
                    await self._release()  # a failed read may have lost its connection
                    raise
                # Rows loaded now must not stand for what a later read of the request (after a
                # command's own transaction) finds: forget them.
                session.expunge_all()
            finally:
                self._holder = None
        finally:
            self._lock.release()

    async def _open(self) -> AsyncSession:
        if self._shared is None:
            session = self._sessions()
            await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            self._shared = session
        return self._shared

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncSession]:
        """The request's read session (it runs each statement on its own already)."""
        async with self.read() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction of its own, after handing the read session back."""
        self.began_transaction = True
        if self._holder is not asyncio.current_task():  # not from inside one of its reads
            try:
                await asyncio.wait_for(self._lock.acquire(), SHARED_WAIT_SECONDS)
            except TimeoutError:
                pass  # a reader holds it while waiting on us: keep it, open a session of our own
            else:
                try:
                    await self._release()
                finally:
                    self._lock.release()
        async with super().transaction() as session:
            yield session

    async def _release(self) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            await shared.close()

    async def close(self) -> None:
        """Hand the read session back to the pool (the request is over)."""
        async with self._lock:
            await self._release()

    def for_request(self) -> RequestDatabase:
        """Already one request's."""
        return self


Session = AsyncSession
"""The session type other layers may name in signatures without importing SQLAlchemy."""


def history_keys(session: AsyncSession) -> history.Keyring:
    """The keys that seal histories written in `session`; an error if it was opened without."""
    keys = session.info.get(HISTORY_KEYS)
    if not isinstance(keys, history.Keyring):
        raise RuntimeError(
            "this database was opened without the history keys: it cannot add to a case's history"
        )
    return keys
