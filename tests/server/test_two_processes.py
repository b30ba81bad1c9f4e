"""Two real server processes on one database: a publish on one is served by both within 1 s.

Process A publishes; it answers only once it serves the new schema itself. Process B learns of
the new revision from PostgreSQL's NOTIFY (or from its revision poll, every 0.25 s, on SQLite)
and must serve it within `SERVED_WITHIN` of A's answer. Each test starts both processes with
`python -m server.cli serve` on free ports, on a database of its own, and stops them at the end.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from database.session import Database
from tests.api.conftest import ADMIN_PASSWORD, Api, add_user
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, define_basics
from tests.server.processes import ServerProcess, start_server, wait_until_healthy

SERVED_WITHIN = 1.0
"""How long after the publish response the other process may take to serve the new schema."""
POLL_EVERY = 0.02
CASE_TYPE = "HvNewCase"
TYPE_OF = "query($name: String!) { __type(name: $name) { name } }"


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
