"""The server tests drive the same application, with the same fixtures, as the API tests.

Tests that start real server processes get a database of their own (a file on SQLite, a fresh
database on PostgreSQL) and the `servers` list, whose processes are stopped whatever happens.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from database import migrate
from tests.api.conftest import *  # noqa: F403
from tests.conftest import _pg_admin, _pg_url, backend
from tests.server.processes import ServerProcess


@pytest.fixture
async def postgresql_url() -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database of its own, dropped afterwards."""
    if backend() != "postgresql":
        pytest.skip("a PostgreSQL test: run with YEKUO_TEST_DATABASE=postgresql")
    name = f"yekuo_test_{uuid.uuid4().hex[:10]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError) as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable on CI: {error}")
        pytest.skip(f"PostgreSQL is unreachable: {error}")
    try:
        url = _pg_url(name)
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite file of its own."""
    if backend() == "postgresql":
        pytest.skip("the SQLite variant runs on the SQLite run")
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    return url


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    """Server processes a test starts; every one is stopped afterwards, whatever happens."""
    started: list[ServerProcess] = []
    try:
        yield started
    finally:
        for server in started:
            server.stop()
