"""Real server processes (`python -m server.cli serve`) for tests that need more than ASGI.

Each runs on a free port with the tests' shared secret and logs to a file in the test's data
directory; `wait_until_healthy` fails the test with that log if the process exits or hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.api.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60.0


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
