"""`yekuo serve --workers 2`: two processes on one port, each serving a publish within 1 s.

One request publishes; it is answered by whichever worker accepted its connection, which serves
the new schema before answering. The other worker learns of the revision through the database
(PostgreSQL's NOTIFY, or the revision poll on SQLite), like a second machine would, and must
serve it within `SERVED_WITHIN` of the answer.

A worker is told apart by its pid: /healthz names the process that answered (the
`X-Yekuo-Process` header), and an httpx client limited to one connection keeps talking to the
worker that accepted it, so a GraphQL request on that client is answered by that pid. /metrics
sums the workers' counters and lists the revision each live worker serves, by pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from database.session import Database
from server.app import PROCESS_HEADER
from tests.api.conftest import ADMIN_PASSWORD, Api, add_user
from tests.api.setup_metamodel import DRAFT, PUBLISH, SAVE_DRAFT, define_basics
from tests.server.processes import ROOT, STARTUP_SECONDS, ServerProcess, start_server
from tests.server.test_two_processes import CASE_TYPE, POLL_EVERY, SERVED_WITHIN, serves
from tools.server_process import served_revisions, wait_workers

WORKERS = 2
CONNECTIONS_TRIED = 200
"""New connections opened, at most, until each worker has accepted one."""


async def pid_of(client: httpx.AsyncClient) -> int:
    """The pid of the worker behind `client`'s connection."""
    return int((await client.get("/healthz")).headers[PROCESS_HEADER])


def metric_in(text: str, name: str) -> float:
    """The value of the one sample `name` in a /metrics text."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"no metric {name} in {text}")


@contextlib.asynccontextmanager
async def one_client_per_worker(
    url: str, pids: set[int], hooks: dict[str, list[Any]]
) -> AsyncIterator[dict[int, httpx.AsyncClient]]:
    """A one-connection client for each worker, by pid (the kernel picks who accepts)."""
    pinned: dict[int, httpx.AsyncClient] = {}
    try:
        for _ in range(CONNECTIONS_TRIED):
            client = httpx.AsyncClient(
                base_url=url,
                timeout=30.0,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                event_hooks=hooks,
            )
            pid = await pid_of(client)
            if pid in pinned:
                await client.aclose()
                continue
            pinned[pid] = client
            if set(pinned) == pids:
                break
        assert set(pinned) == pids, f"only {sorted(pinned)} of {sorted(pids)} accepted"
        yield pinned
    finally:
        for client in pinned.values():
            await client.aclose()


async def serve_with_workers(
    database_url: str, data_dir: Path, servers: list[ServerProcess]
) -> None:
    """The scenario both tests run; see the module docstring."""
    db = Database(database_url)
    try:
        await add_user(db, "admin", ["ADMIN"], password=ADMIN_PASSWORD)
    finally:
        await db.dispose()
    server = start_server("workers", database_url, data_dir, workers=WORKERS)
    servers.append(server)
    graphql_requests = 0

    async def count(request: httpx.Request) -> None:
        nonlocal graphql_requests
        graphql_requests += request.url.path == "/graphql"

    hooks: dict[str, list[Any]] = {"request": [count]}
    async with httpx.AsyncClient(base_url=server.url, timeout=30.0, event_hooks=hooks) as client:
        pids = await wait_workers(client, server, WORKERS, within=STARTUP_SECONDS)
        assert len(pids) == WORKERS and server.process.pid not in pids
        assert pids == {child.pid for child in server.children() if child.pid in pids}

        api = Api(client=client, app=None)
        await define_basics(api)
        saved = (await api.data(SAVE_DRAFT, {"input": DRAFT}))["saveBusinessTypeDraft"]
        assert saved["errors"] == [] and saved["problems"] == [], saved
        deadline = time.monotonic() + 10.0
        while len(set((await served_revisions(client, server)).values())) != 1:
            assert time.monotonic() < deadline, "the workers never agreed on a revision"
            await asyncio.sleep(POLL_EVERY)

        async with one_client_per_worker(server.url, pids, hooks) as pinned:
            for pid, worker in pinned.items():
                assert not await serves(worker, CASE_TYPE)
                assert await pid_of(worker) == pid

            published = (await api.data(PUBLISH, {"code": DRAFT["code"]}))["publishBusinessType"]
            answered = time.monotonic()
            assert published["errors"] == [] and published["problems"] == [], published

            async def seconds_until_served(pid: int) -> float | None:
                while not await serves(pinned[pid], CASE_TYPE):
                    if time.monotonic() - answered > SERVED_WITHIN:
                        return None
                    await asyncio.sleep(POLL_EVERY)
                return time.monotonic() - answered

            waited = dict(
                zip(pids, await asyncio.gather(*map(seconds_until_served, pids)), strict=True)
            )
            late = {pid: s for pid, s in waited.items() if s is None or s > SERVED_WITHIN}
            assert not late, f"not served within {SERVED_WITHIN} s by {late}:\n{server.output()}"
            for pid, worker in pinned.items():
                assert await pid_of(worker) == pid  # the same worker answered throughout

        revisions = await served_revisions(client, server)
        assert set(revisions) == pids and len(set(revisions.values())) == 1, revisions
        # Every worker's requests are counted, whichever answers the scrape.
        text = (await client.get("/metrics")).text
        assert metric_in(text, "yekuo_graphql_requests_total") == graphql_requests
        assert metric_in(text, "yekuo_sql_statements_total") > 0

    server.stop()
    deadline = time.monotonic() + 10.0
    left = {pid for pid in {server.process.pid, *pids} if psutil.pid_exists(pid)}
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        left = {pid for pid in left if psutil.pid_exists(pid)}
    assert not left, f"still running after the stop: {sorted(left)}"
    assert server.process.returncode == 0, server.output()


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_workers_serve_a_publish_on_postgresql(
    postgresql_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await serve_with_workers(postgresql_url, tmp_path, servers)


@pytest.mark.slow
async def test_two_workers_serve_a_publish_on_sqlite(
    sqlite_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await serve_with_workers(sqlite_url, tmp_path, servers)


@pytest.mark.parametrize("given", ["0", "-1", "many"])
def test_workers_must_be_a_whole_number_of_at_least_one(given: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--workers", given],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"argument --workers: must be a whole number of at least 1, not '{given}'" in done.stderr
