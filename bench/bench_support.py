"""What every bench needs: a fresh database, server processes, a scratch folder, the secret.

The database is a fresh one per run: PostgreSQL at YEKUO_BENCH_PG_ADMIN (default
postgresql://postgres@127.0.0.1:5432/postgres), where each run creates a database of its own
and drops it afterwards, or a SQLite file in the scratch folder. Servers are
tools/server_process.py's, which the tests use too, with the benches' secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402  (the repository root is put on the path first)
import httpx  # noqa: E402

from database import migrate  # noqa: E402
from tools.server_process import ServerProcess, wait_workers  # noqa: E402
from tools.server_process import start_server as start_process  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "YEKUO_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-not-for-production-0123456789"
ADMIN_PASSWORD = "bench-admin-password"
LOGIN = """mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"""
STARTUP_SECONDS = 180.0
FIELDS_OF = "query($name: String!) { __type(name: $name) { fields { name } } }"
PUBLISH = """mutation($code: String!) { publishBusinessType(code: $code) {
  version problems { code message } errors { code message } } }"""


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextlib.contextmanager
def pg_scratch_database(prefix: str = "yekuo_bench", *, keep: bool = False) -> Iterator[str]:
    """A fresh, empty PostgreSQL database's libpq URL; dropped afterwards unless `keep`."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        if keep:
            print(f"kept the database {name}")
        else:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def bench_database(use_sqlite: bool, folder: Path, *, keep: bool = False) -> Iterator[str]:
    """A fresh, migrated database URL; a PostgreSQL one is dropped afterwards unless `keep`."""

    if use_sqlite:
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        migrate.upgrade(url)
        yield url
        return
    with pg_scratch_database(keep=keep) as plain:
        url = plain.replace("postgresql://", "postgresql+asyncpg://", 1)
        migrate.upgrade(url)
        yield url


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary data directory, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="yekuo-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def start_server(
    name: str,
    url: str,
    folder: Path,
    *,
    workers: int = 1,
    environment: Mapping[str, str | None] | None = None,
) -> ServerProcess:
    """`yekuo serve --workers N` on a free port with the benches' secret, logging warnings."""
    return start_process(
        name,
        url,
        folder,
        secret=SECRET,
        workers=workers,
        log_level="warning",
        environment=environment,
    )


async def wait_healthy(servers: Sequence[ServerProcess], workers: int = 1) -> None:
    """Until every server has `workers` workers serving (at most STARTUP_SECONDS each)."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        for server in servers:
            await wait_workers(client, server, workers, within=STARTUP_SECONDS)
