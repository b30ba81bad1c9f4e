"""Real `yekuo serve` processes for the tests and the benchmarks, which both need them.

It lives in tools/ (developer tooling, like vendor_graphiql.py) rather than in server/: it
starts and watches processes from the outside, with httpx and psutil, which are development
dependencies the installed package must not need; and tests/ and bench/ must not import each
other. Both put the repository root on the import path already (pytest's rootdir, the bench's
`sys.path` line), so `tools.server_process` needs no packaging.

A server runs `python -m server.cli serve` on a free port, logging to a file in its data
directory. With `workers` > 1 the process is uvicorn's supervisor and the workers are its
children: `pids`, `cpu_seconds` and `stop` cover all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
STOP_SECONDS = 10.0
PROCESS_HEADER = "X-Yekuo-Process"
"""server.app.PROCESS_HEADER, not imported: a bench's fresh process must not load the app."""


class ServerFailed(RuntimeError):
    """A server exited, or did not become healthy in time; the message ends with its log."""


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """One `python -m server.cli serve` process (and its workers), logging to a file."""

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

    def build_seconds(self, revision: int) -> float | None:
        """The build time it logged for `revision` (the first process that logged one)."""
        pattern = re.compile(rf"serving schema revision {revision} \(built in ([0-9.]+) s\)")
        found = pattern.search(self.output())
        return float(found.group(1)) if found else None

    def children(self) -> list[psutil.Process]:
        """Its live descendants: the workers, with --workers N > 1."""
        with contextlib.suppress(psutil.Error):
            return list(psutil.Process(self.process.pid).children(recursive=True))
        return []

    def pids(self) -> set[int]:
        """The process and its live descendants."""
        return {self.process.pid, *(child.pid for child in self.children())}

    def cpu_seconds(self) -> float:
        """User + system CPU of the process and its live workers so far."""
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += float(times.user + times.system)
        return total

    def stop(self) -> None:
        """Terminate (it stops its workers), kill everything left after 10 s; close its log."""
        try:
            if self.process.poll() is None:
                descendants = self.children()
                self.process.terminate()
                try:
                    self.process.wait(timeout=STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_SECONDS)
                _gone, alive = psutil.wait_procs(descendants, timeout=STOP_SECONDS)
                for left in alive:
                    with contextlib.suppress(psutil.Error):
                        left.kill()
        finally:
            self.log.close()


def start_server(
    name: str,
    database_url: str,
    data_dir: Path,
    *,
    secret: str,
    workers: int = 1,
    log_level: str | None = None,
    environment: Mapping[str, str | None] | None = None,
) -> ServerProcess:
    """Start a server on a free port; `environment` adds variables (None removes one)."""
    port = free_port()
    env = {
        **os.environ,
        "YEKUO_DATABASE_URL": database_url,
        "YEKUO_SECRET": secret,
        "YEKUO_DATA_DIR": str(data_dir),
    }
    for key, value in (environment or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    if log_level is not None:
        command += ["--log-level", log_level]
    return launch(name, port, command, cwd=ROOT, env=env, log_path=data_dir / f"server-{name}.log")


def launch(
    name: str, port: int, command: list[str], *, cwd: Path, env: Mapping[str, str], log_path: Path
) -> ServerProcess:
    """Start any server process listening on `port`, its output (both streams) to `log_path`."""
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    except BaseException:
        log.close()
        raise
    return ServerProcess(name, port, process, log_path, log)


async def wait_healthy(
    client: httpx.AsyncClient, server: ServerProcess, *, within: float = 60.0
) -> None:
    """Until /healthz answers 200; ServerFailed (with the log) if it exits or takes too long."""
    deadline = time.monotonic() + within
    while True:
        if server.process.poll() is not None:
            raise ServerFailed(f"server {server.name} exited:\n{server.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(server.url + "/healthz")).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise ServerFailed(
                f"server {server.name} not healthy in {within:g} s:\n{server.output()}"
            )
        await asyncio.sleep(0.1)


async def served_revisions(client: httpx.AsyncClient, server: ServerProcess) -> dict[int, int]:
    """The metadata revision each live worker serves, by pid, from one scrape of /metrics.

    With several workers the scrape sums every worker's samples and lists the revision gauge
    once per worker (server/app.py, `Metrics`); one process lists its own, labelled by the pid
    this reads from /healthz.
    """
    text = (await client.get(server.url + "/metrics")).text
    found: dict[int, int] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "yekuo_schema_revision":
                pid = sample.labels.get("pid")
                if pid is None:
                    answered = await client.get(server.url + "/healthz")
                    pid = answered.headers[PROCESS_HEADER]
                found[int(pid)] = int(sample.value)
    return found


async def wait_workers(
    client: httpx.AsyncClient, server: ServerProcess, workers: int, *, within: float = 60.0
) -> set[int]:
    """Until `workers` worker processes serve a schema; their pids (ServerFailed if not)."""
    await wait_healthy(client, server, within=within)
    deadline = time.monotonic() + within
    while True:
        pids = set(await served_revisions(client, server))
        if len(pids) >= workers:
            return pids
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise ServerFailed(
                f"server {server.name}: {len(pids)} of {workers} workers up:\n{server.output()}"
            )
        await asyncio.sleep(0.1)
