"""The server passes graphql-http's GraphQL-over-HTTP audit: no MUST and no SHOULD fails.

A real server process on a database with the standard catalogue loaded is audited by
`tools/graphql-http/audit.mjs` (graphql-http's `auditServer`, pinned in that folder's
lockfile). Without `npm ci --prefix tools/graphql-http` the test skips, except under CI.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.processes import ROOT, ServerProcess, start_server, wait_until_healthy
from tests.server.test_cli import yekuo

TOOL = ROOT / "tools" / "graphql-http"
pytestmark = pytest.mark.slow


def _node_or_skip() -> str:
    node = shutil.which("node")
    if node is None or not (TOOL / "node_modules" / "graphql-http").is_dir():
        message = "graphql-http is not installed: run `npm ci --prefix tools/graphql-http`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return node


async def _audit(database_url: str, data_dir: Path, servers: list[ServerProcess]) -> None:
    node = _node_or_skip()
    loaded = await yekuo(database_url, data_dir, "catalogue", "load")
    assert loaded.returncode == 0, loaded.stderr
    server = start_server("audited", database_url, data_dir)
    servers.append(server)
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_until_healthy(client, server)
    done = await asyncio.to_thread(
        subprocess.run,
        [node, str(TOOL / "audit.mjs"), server.url + "/graphql"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=TOOL,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    assert len(results) > 30, results  # the audit ran
    # graphql-http reports a failed MUST as "error" and a failed SHOULD as "warn".
    failed = [
        f"{r['id']} {r['name']}: {r['reason']}" for r in results if r["status"] in ("error", "warn")
    ]
    assert failed == [], "\n".join(failed) + "\n" + server.output()[-3000:]


async def test_graphql_http_audit_on_sqlite(
    sqlite_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await _audit(sqlite_url, tmp_path, servers)


async def test_graphql_http_audit_on_postgresql(
    postgresql_url: str, tmp_path: Path, servers: list[ServerProcess]
) -> None:
    await _audit(postgresql_url, tmp_path, servers)
