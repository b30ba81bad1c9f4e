"""Whether the database can be reached: the errors that mean "away", and a bounded ping.

A request that fails because the database is away (refused or dropped connections, a pool
that timed out, a file that cannot be opened) is the server's temporary state, not the
client's fault: the server answers it 503 with Retry-After instead of a masked error.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import exc, text

from database.session import Database

PING_SECONDS = 2.0
"""How long a readiness ping may take before the database counts as away."""

_AWAY = (
    exc.OperationalError,  # DBAPI: connection refused or lost, "unable to open database file"
    exc.InterfaceError,  # DBAPI: the connection object is closed or unusable
    exc.DisconnectionError,  # the pool found a dead connection
    exc.TimeoutError,  # no connection free in the pool in time
    ConnectionError,  # refused, reset, aborted (OSError subclasses)
    TimeoutError,  # a connect that did not finish
)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) means the database cannot be reached right now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 32:
        seen.add(id(current))
        if isinstance(current, _AWAY):
            return True
        if isinstance(current, exc.DBAPIError) and current.connection_invalidated:
            return True
        if _is_asyncpg_connection_error(current):
            return True
        if isinstance(current, OSError) and not isinstance(current, FileNotFoundError):
            return True  # e.g. "Connect call failed", host unreachable
        current = current.__cause__ or current.__context__
    return False


def _is_asyncpg_connection_error(error: BaseException) -> bool:
    """Asyncpg's own connection errors (imported lazily: SQLite-only installs lack nothing)."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(
        error,
        asyncpg.exceptions.PostgresConnectionError
        | asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.CannotConnectNowError
        | asyncpg.exceptions.InterfaceError,
    )


async def ping(db: Database, *, seconds: float = PING_SECONDS) -> str | None:
    """None if `SELECT 1` answers within `seconds`, else why not (a short reason, no secrets)."""
    try:
        async with asyncio.timeout(seconds), db.read() as session:
            await session.execute(text("SELECT 1"))
    except TimeoutError:
        return f"the database did not answer within {seconds:g} s"
    except Exception as error:
        if is_unavailable(error):
            return f"the database is unreachable ({type(error).__name__})"
        raise
    return None
