"""How many SQL statements and transactions an engine ran: what a command costs the database.

Counted from SQLAlchemy's engine events, so whatever the repositories do is measured without
their help:

- a statement is one `before_cursor_execute`, which fires once per cursor call: an executemany
  is one statement (one round trip), as is each batch SQLAlchemy's "insertmanyvalues" sends.
  Transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`, which SQLite's IMMEDIATE begin sends as
  text) is left out: it is what the transaction count is for, and the asyncpg driver sends its
  own without telling SQLAlchemy, so counting it would make the dialects disagree. The pool's
  pre-ping and reset-on-return talk to the driver directly and are not counted either.
- a transaction is counted when it ends, by how: `commit` (a unit of work, and the reads of
  `Database.read`, whose `session.begin()` ends in a commit too) or `rollback` (a failure, or a
  `Database.snapshot` read, which is closed without one).

The numbers live here as plain integers (tests and the bench read them directly); the server
also forwards each event to a watcher that feeds its Prometheus counters.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "begin", "commit", "rollback")
"""Statement prefixes that are transaction control, counted as transactions instead."""


class SqlWatcher(Protocol):
    """Told of every counted event (the server's metrics)."""

    def statement(self) -> None:
        """One statement was sent."""

    def transaction(self, end: str) -> None:
        """One transaction ended: `end` is "commit" or "rollback"."""


class SqlCounters:
    """Running totals of one engine's statements and transactions (since it was made)."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0
        self.rollbacks = 0
        self._watchers: list[SqlWatcher] = []

    @property
    def transactions(self) -> int:
        """Transactions ended, either way."""
        return self.commits + self.rollbacks

    def watch(self, watcher: SqlWatcher) -> None:
        """Tell `watcher` of every event from now on."""
        self._watchers.append(watcher)

    def install(self, engine: AsyncEngine) -> None:
        """Listen to `engine` (its synchronous core, where the events fire)."""
        sync_engine = engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._on_statement)
        event.listen(sync_engine, "commit", self._on_commit)
        event.listen(sync_engine, "rollback", self._on_rollback)

    def _on_statement(
        self,
        _connection: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if statement.lstrip().startswith(CONTROL):
            return
        self.statements += 1
        for watcher in self._watchers:
            watcher.statement()

    def _on_commit(self, _connection: Any) -> None:
        self.commits += 1
        for watcher in self._watchers:
            watcher.transaction("commit")

    def _on_rollback(self, _connection: Any) -> None:
        self.rollbacks += 1
        for watcher in self._watchers:
            watcher.transaction("rollback")
