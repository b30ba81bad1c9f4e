"""Two real server processes on one database: a publish on one is served by both within 1 s.

Process A publishes; it answers only once it serves the new schema itself. Process B learns of
the new revision from PostgreSQL's NOTIFY (or from its revision poll, every 0.25 s, on SQLite)
and must serve it within `SERVED_WITHIN` of A's answer. Each test starts both processes with
`python -m server.cli serve` on free ports, on a database of its own, and stops them at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from database import migrate
from database.session import Database
from tests.api.conftest import ADMIN_PASSWORD, SECRET, Api, add_user
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, define_basics
from tests.conftest import _pg_admin, _pg_url, backend

ROOT = Path(__file__).resolve().parents[2]
SERVED_WITHIN = 1.0
"""How long after the publish response the other process may take to serve the new schema."""
POLL_EVERY = 0.02
STARTUP_SECONDS = 60.0
CASE_TYPE = "HvNewCase"
TYPE_OF = "query($name: String!) { __type(name: $name) { name } }"


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """One `python -m server.cli serve` process, logging to a file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        """What it logged so far."""
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate (kill after 10 s) and reap it; close its log."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            self.log.close()


def start_server(name: str, database_url: str, data_dir: Path) -> ServerProcess:
    """Start a server on a free port with the shared secret and data directory."""
    port = free_port()
    env = {
        **os.environ,
        "YEKUO_DATABASE_URL": database_url,
        "YEKUO_SECRET": SECRET,
        "YEKUO_DATA_DIR": str(data_dir),
    }
    env.pop("YEKUO_POLL_SECONDS", None)  # the default poll (0.25 s) is what is promised
    log_path = data_dir / f"server-{name}.log"
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    except BaseException:
        log.close()
        raise
    return ServerProcess(name, port, process, log_path, log)


async def wait_until_healthy(client: httpx.AsyncClient, server: ServerProcess) -> None:
    """Until /healthz answers (bounded); fail with the server's log if it exits or hangs."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"server {server.name} exited:\n{server.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(server.url + "/healthz")).status_code == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail(
                f"server {server.name} not healthy in {STARTUP_SECONDS} s:\n{server.output()}"
            )
        await asyncio.sleep(0.1)


async def revision(client: httpx.AsyncClient) -> int:
    """The metadata revision the server behind `client` serves."""
    served: int = (await client.get("/healthz")).json()["revision"]
    return served


async def serves(client: httpx.AsyncClient, type_name: str) -> bool:
    """Whether the schema the server serves now has `type_name` (introspection is public)."""
    response = await client.post(
        "/graphql", json={"query": TYPE_OF, "variables": {"name": type_name}}
    )
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    return body["data"]["__type"] is not None


async def seconds_until_served(
    client: httpx.AsyncClient, type_name: str, since: float, limit: float
) -> float | None:
    """Poll every POLL_EVERY until the server serves `type_name`: seconds since `since`."""
    while True:
        if await serves(client, type_name):
            return time.monotonic() - since
        if time.monotonic() - since > limit:
            return None
        await asyncio.sleep(POLL_EVERY)


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


async def publish_on_a_and_watch_b(
    database_url: str, data_dir: Path, servers: list[ServerProcess]
) -> None:
    """The scenario both tests run; see the module docstring."""
    db = Database(database_url)
    try:
        await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    finally:
        await db.dispose()
    servers.extend(start_server(name, database_url, data_dir) for name in ("a", "b"))
    a, b = servers
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30.0) as client_a,
        httpx.AsyncClient(base_url=b.url, timeout=30.0) as client_b,
    ):
        for server in servers:
            await wait_until_healthy(client_a, server)
        api = Api(client=client_a, app=None)
        await define_basics(api)
        saved = (await api.data(SAVE_DRAFT, {"input": DRAFT}))["saveBusinessTypeDraft"]
        assert saved["errors"] == [] and saved["problems"] == [], saved

        deadline = time.monotonic() + 10.0
        while await revision(client_b) != await revision(client_a):
            assert time.monotonic() < deadline, "B never caught up with A's revision"
            await asyncio.sleep(POLL_EVERY)
        assert not await serves(client_b, CASE_TYPE)

        published = (await api.data(PUBLISH, {"code": DRAFT["code"]}))["publishBusinessType"]
        answered = time.monotonic()
        assert published["errors"] == [] and published["problems"] == [], published
        assert await serves(client_a, CASE_TYPE), "A answered before serving its own publish"
        waited = await seconds_until_served(client_b, CASE_TYPE, answered, SERVED_WITHIN)
        assert waited is not None and waited <= SERVED_WITHIN, (
            f"B did not serve the publish within {SERVED_WITHIN} s:\n{b.output()}"
        )

        token = await api.token("admin")  # one secret: A's token is good on B
        listed = await client_b.post(
            "/graphql",
            json={"query": "{ hvNewCases { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert listed.json() == {"data": {"hvNewCases": {"totalCount": 0}}}


@pytest.mark.slow
@pytest.mark.postgres
async def test_a_publish_is_served_by_both_processes_on_postgresql(
    postgresql_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await publish_on_a_and_watch_b(postgresql_url, tmp_path, servers)


@pytest.mark.slow
async def test_a_publish_is_served_by_both_processes_on_sqlite(
    sqlite_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await publish_on_a_and_watch_b(sqlite_url, tmp_path, servers)
