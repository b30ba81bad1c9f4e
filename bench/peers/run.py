"""yekuo side by side with PostGraphile 5 and the raw-SQL floor: one interleaved pass.

Run on demand (not a test; the targets are printed next to the figures, nothing is asserted):

    .venv/bin/python bench/peers/run.py [--cases N] [--seconds S] [--warmup W]
        [--connections C [C ...]] [--no-persisted] [--json PATH] [--keep]

Defaults as ../shared/bench/WORKLOAD.md measured the peers: 100,000 rows, a 10 s warm-up and
20 s measured per row, at 1 and 16 connections. A smoke run: `--cases 5000 --seconds 3
--warmup 1`. Needs PostgreSQL (YEKUO_BENCH_PG_ADMIN, default postgres@127.0.0.1:5432), wrk,
pgbench and npm (the first run installs the peer: `npm ci` in bench/peers, pinned versions).

One run: gen_data.py's rows are made once and loaded twice: into a fresh, migrated yekuo
database that also holds the standard catalogue (`yekuo catalogue load`, so the server's RSS is
a real deployment's), as views_workload.py loads them; and into a second fresh database as
the table `application` (raw_sql.py) that PostGraphile serves and pgbench reads. One `yekuo
serve` process and one PostGraphile process (postgraphile.py) run side by side. Each system
answers Q1 and Q2 once first and is checked: no errors, Q1 50 rows of every field, Q2 the case
asked for, and the three Q1 answers name the same 50 ids.

Then for Q1 and Q2, at each connection count, yekuo, PostGraphile and pgbench run one after
the other (a warm-up, then the measured run): wrk with one thread for the two servers (the
views bench's Lua script; Q2 draws a random id per request), pgbench `-c C -j 1` for SQL.
yekuo's requests are sent as ADMIN with a bearer token and, unless --no-persisted, as
persisted queries (`extensions.persistedQuery` with the document's SHA-256, registered once
before): what a deployed client sends. PostGraphile gets the document text (it has no
persisted queries without a plugin) and no token.

Figures per row: requests/s, p50 and p99, the server process's CPU per request (user + system
from /proc via psutil, over the measured run, divided by the requests wrk completed; for node
that is all its threads: the event loop, libuv's pool and the garbage collector), the CPU of
the system's own database backends per request (cpu_accounting.BackendWatch), and each
server's peak RSS (VmHWM) at the end. Then yekuo's ratios to PostGraphile against the targets,
and the JSON file (bench/peers/results/, git-ignored, or --json). The scratch databases are
dropped at the end unless --keep. wrk, both servers and PostgreSQL share this machine's CPUs,
so only figures of one pass compare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(HERE)]

import asyncpg  # noqa: E402  (the repository root and bench/ are put on the path first)
import figures  # noqa: E402
import httpx  # noqa: E402
import postgraphile  # noqa: E402
import raw_sql  # noqa: E402
from bench_support import (  # noqa: E402
    ADMIN_PASSWORD,
    SECRET,
    bench_database,
    pg_scratch_database,
    scratch_folder,
    start_server,
    wait_healthy,
)
from cpu_accounting import BackendWatch, process_cpu  # noqa: E402
from figures import PEER, YEKUO, Figures  # noqa: E402
from lifecycle_workload import add_user  # noqa: E402
from views import LONG_POLL, LUA, add_load_arguments, peak_rss_mb, prepare, run_wrk  # noqa: E402
from views_workload import ITEMS, LIST_FIELD, Q1, Q2, generate  # noqa: E402

from server.persisted_queries import digest  # noqa: E402
from tools.server_process import ServerProcess  # noqa: E402

ID_MARK = "@ID@"
Body = tuple[str, str]
"""A POST body, split where Q2's id goes (Q1's: the whole body and "")."""


@dataclass(frozen=True)
class Contender:
    """One GraphQL server under test: its process, database, token and bodies per query."""

    system: str
    server: ServerProcess
    database: str
    token: str | None
    bodies: dict[str, Body]


def split(payload: dict[str, Any], *, quoted: bool) -> Body:
    """The payload as JSON, split at ID_MARK (inside its quotes when the id is a string)."""
    text = json.dumps(payload, ensure_ascii=False)
    prefix, found, suffix = text.partition(ID_MARK if quoted else json.dumps(ID_MARK))
    return (prefix, suffix) if found else (text, "")


def filled(body: Body, some_id: int) -> str:
    """The body with `some_id` where the id goes (Q1's as it is)."""
    prefix, suffix = body
    return prefix + (f"{some_id}{suffix}" if suffix else "")


def ask(client: httpx.Client, text: str, token: str | None) -> tuple[dict[str, Any], int]:
    """POST one body; its data and size in bytes (RuntimeError on errors)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    answer = client.post("/graphql", content=text.encode("utf-8"), headers=headers)
    result = answer.json()
    if answer.status_code != 200 or result.get("errors") or not result.get("data"):
        raise RuntimeError(f"HTTP {answer.status_code}: {str(result.get('errors'))[:2000]}")
    return result["data"], len(answer.content)


def checked_ids(system: str, query: str, data: dict[str, Any], some_id: int) -> list[str]:
    """The ids an answer names, once it is checked to be complete (RuntimeError if not)."""
    if system == YEKUO:
        found = data[LIST_FIELD]["nodes"] if query == "Q1" else [data["case"]]
        complete = all(node and len(node.get("data") or {}) == len(ITEMS) for node in found)
    else:
        list_field, row_field = postgraphile.LIST_FIELD, postgraphile.ROW_FIELD
        found = data[list_field]["nodes"] if query == "Q1" else [data[row_field]]
        complete = all(node and len(node) == len(postgraphile.FIELDS) for node in found)
    key = "id" if system == YEKUO else postgraphile.ID_FIELD
    ids = [str(node[key]) for node in found if node]
    if not complete or len(found) != (50 if query == "Q1" else 1):
        raise RuntimeError(f"{system} {query}: {len(found)} rows, or rows without every field")
    if query == "Q2" and ids != [str(some_id)]:
        raise RuntimeError(f"{system} Q2 asked for {some_id} and answered {ids}")
    return ids


def verify(contender: Contender, query: str, some_id: int) -> list[str]:
    """Send the measured body once and check the answer; Q1's ids, or Q2's."""
    with httpx.Client(base_url=contender.server.url, timeout=60.0) as client:
        text = filled(contender.bodies[query], some_id)
        data, size = ask(client, text, contender.token)
    print(f"{contender.system} {query}: one answer is {size:,} bytes")
    return checked_ids(contender.system, query, data, some_id)


def yekuo_bodies(
    server: ServerProcess, token: str, persisted: bool, some_id: int
) -> dict[str, Body]:
    """views_workload's Q1 and Q2, by hash (registered here first) unless not `persisted`."""
    bodies = {}
    with httpx.Client(base_url=server.url, timeout=60.0) as client:
        for query, document in (("Q1", Q1), ("Q2", Q2)):
            full = {"query": document, "variables": {"id": ID_MARK} if query == "Q2" else {}}
            if not persisted:
                bodies[query] = split(full, quoted=True)
                continue
            extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest(document)}}
            ask(
                client,
                filled(split(full | {"extensions": extensions}, quoted=True), some_id),
                token,
            )
            by_hash = {"variables": full["variables"], "extensions": extensions}
            bodies[query] = split(by_hash, quoted=True)
    return bodies


def peer_bodies() -> dict[str, Body]:
    """PostGraphile's Q1 and Q2 (its id is an Int)."""
    return {
        "Q1": split({"query": postgraphile.Q1, "variables": {}}, quoted=False),
        "Q2": split({"query": postgraphile.Q2, "variables": {"id": ID_MARK}}, quoted=False),
    }


def measure_http(
    contender: Contender, query: str, connections: int, args: argparse.Namespace, folder: Path
) -> Figures:
    """A warm-up, then one measured wrk run with the server's and its backends' CPU around it."""
    prefix, suffix = contender.bodies[query]
    top = args.cases if suffix else 0
    text = LUA.format(token=contender.token or "", prefix=prefix, suffix=suffix, top=top)
    if contender.token is None:  # no Authorization header at all for a server without auth
        text = "\n".join(line for line in text.splitlines() if "Authorization" not in line)
    script = folder / f"{contender.system}-{query}.lua"
    script.write_text(text)
    url, pid = contender.server.url, contender.server.process.pid
    if args.warmup:
        run_wrk(url, script, connections, args.warmup)
    before = process_cpu(pid)
    with BackendWatch(contender.database) as backends:
        done, micros, broken, refused, p50, p99 = run_wrk(url, script, connections, args.seconds)
    used = process_cpu(pid) - before
    requests = int(done)
    return Figures(
        system=contender.system,
        query=query,
        connections=connections,
        requests=requests,
        per_second=done / (micros / 1e6),
        p50_ms=p50 / 1000 if requests else None,
        p99_ms=p99 / 1000 if requests else None,
        server_ms=used / requests * 1000 if requests else None,
        postgres_ms=backends.used / requests * 1000 if requests else None,
        errors=int(broken + refused),
    )


def load_catalogue(url: str, folder: Path) -> None:
    """`yekuo catalogue load` on the yekuo database, as a deployment does before serving."""
    environment = {**os.environ, "YEKUO_DATABASE_URL": url, "YEKUO_SECRET": SECRET}
    environment["YEKUO_DATA_DIR"] = str(folder)
    command = [sys.executable, "-m", "server.cli", "catalogue", "load"]
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"yekuo catalogue load failed:\n{done.stdout}\n{done.stderr}")
    said = [line for line in done.stdout.splitlines() if line.startswith("yekuo:")]
    print(said[0] if said else "yekuo: standard catalogue loaded")


def setup(args: argparse.Namespace) -> dict[str, Any]:
    """What the figures were measured on (printed, and kept in the JSON)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "yekuo_commit": commit,
        "cases": args.cases,
        "warmup_s": args.warmup,
        "measured_s": args.seconds,
        "connections": args.connections,
        "yekuo_persisted_queries": args.persisted,
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        **postgraphile.versions(),
    }


async def postgres_version(url: str) -> str:
    """PostgreSQL's `server_version`."""
    connection = await asyncpg.connect(url)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def interleaved(
    contenders: Sequence[Contender], sql: str, args: argparse.Namespace, folder: Path
) -> list[Figures]:
    """Q1 then Q2; at each connection count every system in turn, the floor last."""
    scripts = raw_sql.scripts(folder, args.cases)
    rows: list[Figures] = []
    for query in ("Q1", "Q2"):
        for connections in args.connections:
            for contender in contenders:
                rows.append(measure_http(contender, query, connections, args, folder))
                print(f"({contender.system} {query} c={connections}: measured)", flush=True)
            warmup, seconds = args.warmup, args.seconds
            rows.append(raw_sql.measure(sql, scripts[query], query, connections, warmup, seconds))
            print(f"(raw SQL {query} c={connections}: measured)", flush=True)
    return rows


def run(
    args: argparse.Namespace, folder: Path, url: str, sql: str, facts: dict[str, Any]
) -> dict[str, float | None]:
    """Load both databases, start both servers, check them, measure; the servers' peak RSS."""
    rows = generate(args.cases)
    asyncio.run(raw_sql.load(sql, rows))
    load_catalogue(url, folder)
    asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
    yekuo = start_server("peers", url, folder, environment={"YEKUO_POLL_SECONDS": LONG_POLL})
    peer: ServerProcess | None = None
    some_id = max(args.cases // 2, 1)
    try:
        asyncio.run(wait_healthy([yekuo]))
        token, _manager, _statistics = asyncio.run(prepare(yekuo, url, args.cases, rows))
        peer = postgraphile.start(sql, folder)
        postgraphile.check_names(peer)
        contenders = [
            Contender(
                YEKUO,
                yekuo,
                url.rsplit("/", 1)[-1],
                token,
                yekuo_bodies(yekuo, token, args.persisted, some_id),
            ),
            Contender(PEER, peer, sql.rsplit("/", 1)[-1], None, peer_bodies()),
        ]
        for query in ("Q1", "Q2"):
            answers = {c.system: verify(c, query, some_id) for c in contenders}
            if query == "Q1":
                answers["SQL"] = [str(i) for i in asyncio.run(raw_sql.answers(sql, some_id))]
                if len({tuple(ids) for ids in answers.values()}) != 1:
                    raise RuntimeError(f"the Q1 answers differ: {answers}")
                print("Q1: yekuo, PostGraphile and SQL answer the same 50 ids")
        found = interleaved(contenders, sql, args, folder)
        rss = {YEKUO: peak_rss_mb(yekuo), PEER: peak_rss_mb(peer), figures.FLOOR: None}
    except BaseException:
        for server in (yekuo, peer):
            if server is not None:
                with contextlib.suppress(OSError):
                    print(server.output()[-3000:], file=sys.stderr)
        raise
    finally:
        for server in (peer, yekuo):
            if server is not None:
                server.stop()
    facts["load_average_end"] = round(os.getloadavg()[0], 2)
    print(f"\nload average: {facts['load_average']} before, {facts['load_average_end']} after")
    figures.print_table(found, rss)
    targets = figures.targets(found, rss)
    figures.print_targets(targets)
    path = args.json or HERE / "results" / f"peers-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    figures.write_json(path, facts, found, rss, targets)
    return rss


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    add_load_arguments(parser)
    parser.add_argument(
        "--no-persisted",
        dest="persisted",
        action="store_false",
        help="send yekuo the query text instead of persisted queries' hashes",
    )
    parser.add_argument("--json", type=Path, help="where to write the figures")
    parser.add_argument("--keep", action="store_true", help="keep both databases afterwards")
    args = parser.parse_args(argv)
    if args.cases < 50 or args.seconds < 1 or args.warmup < 0 or min(args.connections) < 1:
        parser.error("--cases is at least 50, --seconds and --connections 1, --warmup 0")
    postgraphile.install()
    with (
        scratch_folder() as folder,
        bench_database(False, folder, keep=args.keep) as url,
        pg_scratch_database("yekuo_peers", keep=args.keep) as sql,
    ):
        facts = setup(args) | {"postgresql": asyncio.run(postgres_version(sql))}
        print("peers bench: " + ", ".join(f"{key} {value}" for key, value in facts.items()))
        print(
            f"yekuo requests: {'persisted queries (by SHA-256)' if args.persisted else 'text'}"
            f"; PostGraphile: text; raw SQL: pgbench -M prepared -j 1"
        )
        run(args, folder, url, sql, facts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
