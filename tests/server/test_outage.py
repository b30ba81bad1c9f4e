"""A database outage is 503 with Retry-After and a GraphQL error; /readyz says so; it recovers.

On both databases the app's database is swapped for one that cannot be opened (a SQLite file in
a folder that does not exist) and back. On PostgreSQL a real server process reaches its database
through a TCP proxy the test controls: the proxy stops (every connection cut, the port closed)
and starts again, and the same process serves again without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from database.session import Database
from tests.api.conftest import ADMIN_PASSWORD, Api, add_user
from tests.server.processes import ServerProcess, free_port, start_server, wait_until_healthy

LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
  token errors { code message } } }"""
ME = "{ me { username } }"
RECOVERY_SECONDS = 60.0


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE", error
    assert "Traceback" not in response.text


async def test_an_unreachable_database_is_503_and_readyz_says_so(api: Api, tmp_path: Path) -> None:
    token = await api.token("admin")
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    services = api.app.state.services
    working = services.db
    services.db = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
    try:
        signed_in = await api.client.post(
            "/graphql", json={"query": ME}, headers={"authorization": f"Bearer {token}"}
        )
        assert_unavailable(signed_in)  # the caller's lookup failed before anything ran
        login = await api.client.post(
            "/graphql", json={"query": LOGIN, "variables": {"u": "admin", "p": "x"}}
        )
        assert_unavailable(login)  # a resolver failed on the database
        not_ready = await api.client.get("/readyz")
        assert not_ready.status_code == 503 and int(not_ready.headers["retry-after"]) > 0
        assert not_ready.json()["status"] == "unavailable" and not_ready.json()["reason"]
        live = await api.client.get("/healthz")
        assert live.status_code == 200  # liveness: the process itself is fine
    finally:
        await services.db.dispose()
        services.db = working
    assert (await api.data(ME))["me"] == {"username": "admin"}
    assert (await api.client.get("/readyz")).status_code == 200


class Proxy:
    """A TCP proxy to PostgreSQL that the test stops (cutting every connection) and restarts."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


async def until(check: Any) -> None:
    """Wait (bounded) until `check()` is true."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while not await check():
        assert time.monotonic() < deadline, "did not recover"
        await asyncio.sleep(0.2)


async def test_postgresql_outage_through_a_proxy_and_recovery(
    postgresql_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    db = Database(postgresql_url)
    try:
        await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    finally:
        await db.dispose()
    url = make_url(postgresql_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        server = start_server("behind-proxy", proxied, tmp_path)
        servers.append(server)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await wait_until_healthy(client, server)
            login = await client.post(
                "/graphql", json={"query": LOGIN, "variables": {"u": "admin", "p": ADMIN_PASSWORD}}
            )
            token = login.json()["data"]["login"]["token"]
            assert token, login.text
            auth = {"authorization": f"Bearer {token}"}

            async def me() -> httpx.Response:
                return await client.post("/graphql", json={"query": ME}, headers=auth)

            assert (await me()).json() == {"data": {"me": {"username": "admin"}}}
            assert (await client.get("/readyz")).status_code == 200

            await proxy.stop()
            assert_unavailable(await me())
            assert_unavailable(
                await client.post(
                    "/graphql", json={"query": LOGIN, "variables": {"u": "admin", "p": "x"}}
                )
            )
            not_ready = await client.get("/readyz")
            assert not_ready.status_code == 503, not_ready.text
            assert (await client.get("/healthz")).status_code == 200

            await proxy.start()

            async def served() -> bool:
                response = await me()
                return response.status_code == 200 and response.json() == {
                    "data": {"me": {"username": "admin"}}
                }

            await until(served)
            assert (await client.get("/readyz")).status_code == 200
            assert server.process.poll() is None  # the same process, never restarted
    finally:
        with contextlib.suppress(Exception):
            await proxy.stop()
