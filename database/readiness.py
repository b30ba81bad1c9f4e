"""Whether a database can be used, and if not, why: its URL, its file, its server, its migrations.

The command line checks a database before it touches it, so a wrong setting reads as one sentence
instead of a driver's traceback, and looking at a missing SQLite file never creates it. The
reasons are typed here; the words a person reads are the caller's.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TypeGuard

from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import create_async_engine

from database import migrate
from database.session import normalise_url

DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
"""The drivers yekuo runs on, after `normalise_url`."""

DEFAULT_PORT = 5432
"""PostgreSQL's port when a URL names none."""

CONNECT_SECONDS = 10.0
"""How long the check waits for a database server to answer (asyncpg's own default is 60 s)."""

_MISSING_DATABASE = "3D000"  # PostgreSQL's invalid_catalog_name
_REFUSED_LOGIN = {"28000", "28P01"}  # invalid_authorization_specification, invalid_password
_MISSING_TABLE = "42P01"  # undefined_table
_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTUNREACH,
    errno.EHOSTDOWN,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EADDRNOTAVAIL,
}


class BadUrl(ValueError):
    """A database URL yekuo cannot use; the message says why without repeating the URL."""


class Unusable(Exception):
    """A database that cannot be used as it is; `where` names it without its password."""

    def __init__(self, where: str, detail: str = "") -> None:
        super().__init__(f"{where}: {detail}" if detail else where)
        self.where = where
        self.detail = detail


class NoDatabaseFile(Unusable):
    """The SQLite file does not exist."""


class NotADatabase(Unusable):
    """The SQLite file cannot be opened, or is not an SQLite database; `detail` says which."""


class NotMigrated(Unusable):
    """The database has no tables yet, or is behind the newest migration."""

    def __init__(self, where: str, *, current: tuple[str, ...], newest: tuple[str, ...]) -> None:
        super().__init__(where, f"at {', '.join(current) or 'no revision'}")
        self.current = current
        self.newest = newest


class NewerThanCode(Unusable):
    """The database was migrated by a newer yekuo: its revision is unknown to this one."""

    def __init__(self, where: str, *, current: tuple[str, ...]) -> None:
        super().__init__(where, f"at {', '.join(current)}")
        self.current = current


class NoSuchDatabase(Unusable):
    """The PostgreSQL server answers, but has no database of that name."""

    def __init__(self, where: str, *, name: str, host: str | None, port: int | None, user: str):
        super().__init__(where, f'no database "{name}"')
        self.name, self.host, self.port, self.user = name, host, port, user

    def createdb(self) -> str:
        """The `createdb` command that creates the database for the same user."""
        words = ["createdb"]
        if self.host:
            words += ["-h", self.host]
        if self.port and self.port != DEFAULT_PORT:
            words += ["-p", str(self.port)]
        if self.user:
            words += ["-U", self.user]
        return " ".join([*words, self.name])


class Unreachable(Unusable):
    """No database server answers at the URL's host and port; `detail` says what happened."""


class LoginRefused(Unusable):
    """The PostgreSQL server refused the URL's user or password; `detail` is its reason."""

    def __init__(self, where: str, detail: str, *, user: str) -> None:
        super().__init__(where, detail)
        self.user = user


def check_url(url: str) -> None:
    """Raise BadUrl unless `url` names an SQLite file or a PostgreSQL database."""
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise BadUrl("is not a database URL") from None
    if parsed.drivername not in DRIVERS:
        raise BadUrl(f"names the driver '{parsed.drivername}', which yekuo does not run on")
    if parsed.drivername.startswith("sqlite") and (
        parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    ):
        raise BadUrl("names an in-memory SQLite database, which vanishes when the command ends")


def where(url: str) -> str:
    """How messages name the database at `url`: the SQLite file, or the URL without password."""
    parsed = make_url(normalise_url(url))
    if parsed.drivername.startswith("sqlite"):
        return str(Path(parsed.database or "").absolute())
    plain = parsed.set(drivername=parsed.drivername.split("+", 1)[0])
    return plain.render_as_string(hide_password=True)


def _server(parsed: URL) -> str:
    host = parsed.host or "localhost"
    return f"{f'[{host}]' if ':' in host else host}:{parsed.port or DEFAULT_PORT}"


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names; None for PostgreSQL."""
    parsed = make_url(normalise_url(url))
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    return Path(parsed.database).absolute()


async def revision(url: str, *, connect_seconds: float = CONNECT_SECONDS) -> tuple[str, ...]:
    """The migration revisions the database is at; none for no tables or no SQLite file yet.

    Looks without creating anything: a missing SQLite file is not opened. A server that cannot
    be used raises the Unusable that says why.
    """
    check_url(url)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return ()
    connect_args = {} if path is not None else {"timeout": connect_seconds}
    engine = create_async_engine(normalise_url(url), connect_args=connect_args)
    try:
        async with engine.connect() as connection:
            current: tuple[str, ...] = await connection.run_sync(_current_heads)
    except Exception as error:
        reason = classify(error, url)
        if reason is None:
            raise
        raise reason from error
    finally:
        await engine.dispose()
    return current


async def check(url: str, *, connect_seconds: float = CONNECT_SECONDS) -> None:
    """Raise an Unusable unless the database exists, answers and is at the newest migration."""
    check_url(url)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise NoDatabaseFile(where(url))
    current = await revision(url, connect_seconds=connect_seconds)
    newest = migrate.heads()
    if set(current) == set(newest):
        return
    if set(current) <= migrate.revisions():
        raise NotMigrated(where(url), current=current, newest=newest)
    raise NewerThanCode(where(url), current=current)


def _current_heads(connection: Connection) -> tuple[str, ...]:
    # Reading the revision is not migrating: alembic's INFO lines about its context are noise.
    logger = logging.getLogger("alembic.runtime.migration")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        logger.setLevel(level)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (`orig`) and what it was raised from (`from`), each once."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "orig", None), current.__cause__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _reason(error: BaseException) -> str:
    """A driver's message on one line, without SQLAlchemy's decorations."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text.strip()


def classify(error: BaseException, url: str) -> Unusable | None:
    """The Unusable that `error`, raised while using the database at `url`, amounts to, if any."""
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError):
        return None
    place = where(url)
    for cause in _causes(error):
        state = getattr(cause, "sqlstate", None)
        if state == _MISSING_DATABASE:
            return NoSuchDatabase(
                place,
                name=parsed.database or "",
                host=parsed.host,
                port=parsed.port,
                user=parsed.username or "",
            )
        if state in _REFUSED_LOGIN:
            return LoginRefused(place, _reason(cause), user=parsed.username or "")
        if state == _MISSING_TABLE or (
            isinstance(cause, sqlite3.OperationalError) and "no such table" in str(cause)
        ):
            return NotMigrated(place, current=(), newest=migrate.heads())
        if isinstance(cause, sqlite3.DatabaseError):
            text = str(cause)
            if "file is not a database" in text or "unable to open database file" in text:
                return NotADatabase(place, text)
        if parsed.drivername.startswith("sqlite"):
            continue
        if isinstance(cause, socket.gaierror):
            return Unreachable(_server(parsed), f"unknown host: {cause.strerror}")
        if isinstance(cause, TimeoutError):
            return Unreachable(_server(parsed), "no answer")
        if _is_connect_failure(cause):
            # asyncio's text repeats the address, already in the message: the errno's words do.
            said = os.strerror(cause.errno) if cause.errno else _reason(cause)
            return Unreachable(_server(parsed), said)
    return None


def _is_connect_failure(error: BaseException) -> TypeGuard[OSError]:
    """Whether an error is a failed connection, not some other I/O (a file a command reads)."""
    return isinstance(error, ConnectionError) or (
        isinstance(error, OSError)
        and (error.errno in _NETWORK_ERRNOS or "Connect call failed" in str(error))
    )
