"""`yekuo serve`: uvicorn running the application in one process, or in N worker processes.

With `--workers N` (default: one per core) uvicorn's supervisor binds the port once and starts
N worker processes that accept on it; it restarts a worker that dies and stops them all when it
is told to stop (SIGINT, SIGTERM). Each worker builds its own application from the environment
through `application`, a factory uvicorn imports by name, so every worker runs its own schema
registry: a publish answered by one worker reaches the others through the database (PostgreSQL
NOTIFY, or the revision poll), as it reaches other machines.

Metrics: Prometheus scrapes one port, and each scrape reaches whichever worker accepts it, so
per-worker figures would jump from scrape to scrape. With more than one worker, prometheus_client
runs in its multiprocess mode instead: each worker writes its samples to files in a directory
made for this run (removed at exit), and every worker's /metrics sums them (counters and
histograms) or lists them per `pid` (the schema revision each worker serves).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette

from server import settings as settings_module
from server.app import MULTIPROCESS_DIR, create_app

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
"""The command line's log format; worker processes log the same way."""


def default_workers() -> int:
    """One worker per core the machine has."""
    return os.cpu_count() or 1


def application() -> Starlette:
    """The application of one worker, from the environment (uvicorn's factory)."""
    if not logging.getLogger().handlers:  # a spawned worker: the command line's logging is gone
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app(settings_module.load())


@contextlib.contextmanager
def metrics_directory(workers: int) -> Iterator[None]:
    """For several workers: a fresh directory for prometheus_client's multiprocess mode."""
    if workers <= 1:
        yield
        return
    # Always a fresh one: the mode requires the directory to be empty when the workers start.
    previous = os.environ.get(MULTIPROCESS_DIR)
    directory = tempfile.mkdtemp(prefix="yekuo-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR, None)
        else:
            os.environ[MULTIPROCESS_DIR] = previous
        shutil.rmtree(directory, ignore_errors=True)


def serve(*, host: str, port: int, workers: int, log_level: str) -> None:
    """Serve until stopped."""
    # Checked here once, before any worker starts; this also makes the secret key, if there is
    # none yet, so that the workers read one key instead of racing to create it.
    settings_module.load()
    with metrics_directory(workers):
        # Forwarded headers are believed only from YEKUO_TRUSTED_PROXIES (the app's own
        # middleware), not from uvicorn's default of localhost.
        uvicorn.run(
            "server.serving:application",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            proxy_headers=False,
        )
