"""Fixtures of the database tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from database.session import Database
from tests.database import item_index_setup as setup


@pytest.fixture
async def indexes(db: Database) -> AsyncIterator[Database]:
    """The database, without item indexes before and after the test (the run's is shared).

    So are SQLite's statistics, and the pooled connections: a SQLite connection that built an
    index keeps the row count it saw as its estimate, and plans of later tests must not depend
    on this one's cases.
    """
    await _forget(db)  # an earlier test's server may have left an index, or statistics
    yield db
    await _forget(db)


async def _forget(db: Database) -> None:
    await setup.drop_item_indexes(db)
    if db.dialect == "sqlite":
        await setup.autocommit_ddl(db, "DROP TABLE IF EXISTS sqlite_stat1")
    await db.engine.dispose()
