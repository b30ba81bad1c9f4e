"""Engines and the unit of work: the only place a transaction begins and commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


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
        pool_size: int = 10,
        history_keys: history.Keyring | None = None,
    ) -> None:
        self.url = normalise_url(url)
        self.history_keys = history_keys
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.url.startswith("sqlite"):
            # No pre-ping: it cost every checkout three round trips (BEGIN, a ping, ROLLBACK).
            # A connection the server dropped fails its first statement instead; SQLAlchemy
            # then invalidates the whole pool, the request is answered 503 with Retry-After
            # (`database.availability`), and the next one connects afresh.
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
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
