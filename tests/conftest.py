"""Shared fixtures: a migrated database of the kind chosen for this run, emptied between tests.

`YEKUO_TEST_DATABASE=postgresql` runs against the local PostgreSQL server (a fresh database per
run, dropped at the end); anything else uses a SQLite file in a temporary folder. Under CI
(`CI=true`) an unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete

from casework import history
from database import migrate, tables
from database.session import Database

SECRET = "test-secret-not-for-production-0123456789"
"""The secret of the applications the tests serve (tests/api/conftest.py)."""
HISTORY_KEYS = history.keyring(SECRET)
"""The history keys those applications seal with, for the run's Database too."""

PG_ADMIN_URL = os.environ.get(
    "YEKUO_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def backend() -> str:
    """The database kind this run tests: `sqlite` or `postgresql`."""
    return os.environ.get("YEKUO_TEST_DATABASE", "sqlite")


async def _pg_admin(sql: str) -> None:
    import asyncpg  # only the PostgreSQL run needs it

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database for the whole run."""
    if backend() != "postgresql":
        path: Path = tmp_path_factory.mktemp("db") / "yekuo.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    name = f"yekuo_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (TimeoutError, OSError) as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable on CI: {error}")
        pytest.skip(f"PostgreSQL is unreachable: {error}")
    url = _pg_url(name)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of the run's kind, for one test (dropped after it)."""
    if backend() != "postgresql":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"yekuo_scratch_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    """The run's Database (engine and unit of work)."""
    db = Database(database_url, history_keys=HISTORY_KEYS)
    yield db
    await db.dispose()


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    """The database, emptied of every row after the test (the revision row is kept).

    DELETE, not TRUNCATE: the tables hold a few rows, and TRUNCATE syncs every table's files
    to disk, which made the PostgreSQL run several times slower.
    """
    yield database
    async with database.transaction() as session:
        for table in reversed(tables.Base.metadata.sorted_tables):
            if table.name != "metadata_revision":
                await session.execute(delete(table))
