"""Real server processes (`python -m server.cli serve`) for tests that need more than ASGI.

The processes themselves are tools/server_process.py's, shared with the benchmarks; this adds
the tests' secret and their way of failing. Each runs on a free port with the tests' shared
secret and logs to a file in the test's data directory; `wait_until_healthy` fails the test
with that log if the process exits or hangs.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.conftest import SECRET
from tools.server_process import ROOT, ServerFailed, ServerProcess, free_port, wait_healthy
from tools.server_process import start_server as start_process

__all__ = ["ROOT", "STARTUP_SECONDS", "ServerProcess", "free_port", "start_server"]

STARTUP_SECONDS = 60.0


def start_server(
    name: str, database_url: str, data_dir: Path, *, workers: int = 1
) -> ServerProcess:
    """Start a server on a free port with the shared secret and data directory."""
    return start_process(
        name,
        database_url,
        data_dir,
        secret=SECRET,
        workers=workers,
        # The default poll (0.25 s) is what is promised.
        environment={"YEKUO_POLL_SECONDS": None},
    )


async def wait_until_healthy(client: httpx.AsyncClient, server: ServerProcess) -> None:
    """Until /healthz answers (bounded); fail with the server's log if it exits or hangs."""
    try:
        await wait_healthy(client, server, within=STARTUP_SECONDS)
    except ServerFailed as failed:
        pytest.fail(str(failed))
