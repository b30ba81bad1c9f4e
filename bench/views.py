"""Case views at the speed of the database: the list workload's queries against a real server.

Run on demand (not a test; no target is asserted, the targets are printed next to the figures):

    .venv/bin/python bench/views.py [--cases N] [--seconds S] [--warmup W]
                                    [--connections C [C ...]] [--keep]

A fresh PostgreSQL database (YEKUO_BENCH_PG_ADMIN, default
postgresql://postgres@127.0.0.1:5432/postgres; dropped at the end unless `--keep`) is migrated
and one `yekuo serve` process started (YEKUO_POLL_SECONDS=3600: its revision poll would add a
statement every 0.25 s; LISTEN/NOTIFY still brings the publish). views_workload.py defines the
business type `bench_application` through GraphQL as ADMIN and copies N cases (default 100,000)
of ../shared/bench/gen_data.py in bulk, as ../shared/bench/WORKLOAD.md describes; if the server
made no expression index for the indexed `capacity_kva`, the bench makes it and says so.

Each query then runs under wrk (one thread; a warm-up of W seconds, default 10, then S seconds
measured, default 20) at each connection count (default 1 and 16):

- Q1: 50 cases, newest first, IN_PROGRESS with capacity_kva > 100, every data item plus id,
  createdAt and status; as the ADMIN (every case), and again as a MANAGER of the org unit that
  holds the cases (their scope is part of the plan);
- Q2: one case by id, a random id in 1..N per request (drawn in wrk's Lua), every data item;
- statistics: `caseStatistics(groupBy: [STATUS])` as the MANAGER, when the schema has it
  (introspection; otherwise the row is left out with a note).

Printed per row: requests/s, p50 and p99 (wrk's latency distribution), the server's CPU and
the CPU of this database's PostgreSQL backends per request (psutil; the backends are sampled
while wrk runs, so one the pool closes still counts: cpu_accounting.BackendWatch, whose
started/ended count is the last column), and the SQL statements per request (deltas of
/metrics' `yekuo_sql_statements_total` over `yekuo_graphql_requests_total`); then a verdict per
target and the server's peak RSS. wrk, the server and PostgreSQL share this machine's CPUs, so
requests/s and latency move with whatever else runs; CPU and statements per request do much
less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from bench_support import (  # noqa: E402
    ADMIN_PASSWORD,
    FIELDS_OF,
    bench_database,
    scratch_folder,
    start_server,
    wait_healthy,
)
from cpu_accounting import BackendWatch, CpuSnapshot  # noqa: E402
from lifecycle_workload import Driver, add_user  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402
from views_workload import ITEMS, LIST_FIELD, Q1, Q2, STATISTICS, UNIT, define, load  # noqa: E402

from tools.server_process import ServerProcess  # noqa: E402

MANAGER, MANAGER_PASSWORD = "bench_manager", "bench-manager-password"
LONG_POLL = "3600"
SCHEMA_SECONDS = 60.0
Q1_SERVER_MS, Q1_POSTGRES_MS, Q2_SERVER_MS, STATEMENTS = 5.0, 1.0, 1.5, 2.0
"""The targets on one process: server and PostgreSQL CPU per request, statements per request."""

LUA = """wrk.method = "POST"
wrk.path = "/graphql"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local prefix, suffix, top = [==[{prefix}]==], [==[{suffix}]==], {top}
if top > 0 then
  math.randomseed(20240601)
  request = function()
    return wrk.format(nil, nil, nil, prefix .. math.random(1, top) .. suffix)
  end
else
  wrk.body = prefix
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("VIEWS %d %d %d %d %f %f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""
"""wrk's script: a fixed body, or the body around a random id; `done` prints the figures."""


@dataclass(frozen=True)
class Query:
    """One row kind: its name, its body (split around the id when random) and its token."""

    name: str
    body: tuple[str, str]
    token: str
    top: int = 0
    """Ids are drawn from 1..top; 0: a fixed body."""


@dataclass(frozen=True)
class Row:
    """What one query did at one connection count, over the measured run."""

    query: str
    connections: int
    per_second: float
    p50_ms: float | None
    p99_ms: float | None
    """None when no request completed within the run (wrk has no latencies then)."""
    server_ms: float
    postgres_ms: float | None
    statements: float
    errors: int
    busy: float
    churn: tuple[int, int]
    """PostgreSQL backends of the database that started and that ended during the run."""


def body(query: str, variables: dict[str, Any] | None = None) -> str:
    """A POST body."""
    return json.dumps({"query": query, "variables": variables or {}})


def random_id_body(query: str) -> tuple[str, str]:
    """Q2's body split where the id goes."""
    prefix, suffix = body(query, {"id": "@ID@"}).split("@ID@")
    return prefix, suffix


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> list[float]:
    """wrk's figures: requests, microseconds, socket errors, HTTP errors, p50 and p99 (µs)."""
    command = [shutil.which("wrk") or "/usr/bin/wrk", "-t1", f"-c{connections}"]
    command += [f"-d{seconds}s", "--timeout", "30s", "-s", str(script), f"{url}/graphql"]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60)
    for line in done.stdout.splitlines():
        if line.startswith("VIEWS "):
            return [float(v) for v in line.split()[1:]]
    raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")


def counters(client: httpx.Client) -> tuple[float, float]:
    """The server's running totals of SQL statements and GraphQL requests."""
    found = {"yekuo_sql_statements_total": 0.0, "yekuo_graphql_requests_total": 0.0}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if sample.name in found:
                found[sample.name] += sample.value
    return found["yekuo_sql_statements_total"], found["yekuo_graphql_requests_total"]


def measure(
    server: ServerProcess,
    database: str,
    query: Query,
    connections: int,
    args: argparse.Namespace,
    folder: Path,
) -> Row:
    """Warm up, then one measured wrk run with the server's counters and CPU around it."""
    script = folder / f"{query.name.replace(' ', '_')}.lua"
    token, (prefix, suffix) = query.token, query.body
    script.write_text(LUA.format(token=token, prefix=prefix, suffix=suffix, top=query.top))
    if args.warmup:
        run_wrk(server.url, script, connections, args.warmup)
    pid = server.process.pid
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        statements, requests = counters(client)
        before = CpuSnapshot.take(pid, None)
        with BackendWatch(database) as backends:
            done, micros, broken, refused, p50, p99 = run_wrk(
                server.url, script, connections, args.seconds
            )
        after = CpuSnapshot.take(pid, None)
        statements_after, requests_after = counters(client)
    served = max(requests_after - requests, 1.0)
    return Row(
        query=query.name,
        connections=connections,
        per_second=done / (micros / 1e6),
        p50_ms=p50 / 1000 if done else None,
        p99_ms=p99 / 1000 if done else None,
        server_ms=(after.server - before.server) / served * 1000,
        postgres_ms=backends.used / served * 1000 if backends.last else None,
        statements=(statements_after - statements) / served,
        errors=int(broken + refused),
        busy=(after.busy - before.busy) / max(after.total - before.total, 1e-9),
        churn=backends.churn,
    )


def check(client: httpx.Client, query: Query) -> str | None:
    """Send the query once and check its answer; None if it works, else why it does not."""
    prefix, suffix = query.body
    sent = prefix + (str(max(query.top // 2, 1)) + suffix if query.top else "")
    answer = client.post(
        "/graphql",
        content=sent,
        headers={"Authorization": f"Bearer {query.token}", "Content-Type": "application/json"},
    )
    result = answer.json()
    if answer.status_code != 200 or result.get("errors"):
        return f"HTTP {answer.status_code}: {json.dumps(result.get('errors'), ensure_ascii=False)}"
    data = result["data"]
    if query.name.startswith("Q1"):
        nodes = data[LIST_FIELD]["nodes"]
        if not nodes or any(len(n["data"]) != len(ITEMS) for n in nodes):
            return f"Q1 answered {len(nodes)} cases, or cases without every item"
    elif query.name == "Q2" and not (data["case"] and len(data["case"]["data"]) == len(ITEMS)):
        return f"Q2 answered {data['case']}"
    print(f"{query.name}: one answer is {len(answer.content):,} bytes")
    return None


async def prepare(
    server: ServerProcess, url: str, cases: int, rows: list[list[str]] | None = None
) -> tuple[str, str, bool]:
    """Define and load (gen_data.py's rows, or `rows`); the ADMIN's and the MANAGER's tokens,
    and whether caseStatistics exists."""
    async with httpx.AsyncClient(base_url=server.url, timeout=120.0) as client:
        driver = Driver(client)
        driver.token = await driver.login("admin", ADMIN_PASSWORD)
        await define(driver)
        deadline = time.monotonic() + SCHEMA_SECONDS
        while True:
            fields = await driver.call(FIELDS_OF, {"name": "Query"})
            names = {f["name"] for f in fields["__type"]["fields"]}
            if LIST_FIELD in names:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{LIST_FIELD} not served {SCHEMA_SECONDS:g} s after publish")
            await asyncio.sleep(0.1)
        await add_user(url, MANAGER, MANAGER_PASSWORD, ["MANAGER"], [], UNIT)
        manager = await driver.login(MANAGER, MANAGER_PASSWORD)
        await load(url, cases, rows)
        return driver.token, manager, "caseStatistics" in names


def peak_rss_mb(server: ServerProcess) -> float:
    """The server's peak resident memory (VmHWM), its own plus its workers', in MB."""
    total = 0
    for pid in server.pids():
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def print_rows(rows: Sequence[Row]) -> None:
    """The results table."""
    header = (
        f"{'query':<13} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'server CPU ms/req':>18} {'PG CPU ms/req':>14} {'statements/req':>15} "
        f"{'errors':>7} {'machine busy':>13} {'PG backends +/-':>16}"
    )
    print(f"\n{header}\n{'-' * len(header)}")
    for r in rows:
        postgres, p50, p99 = (
            "n/a" if value is None else f"{value:.2f}"
            for value in (r.postgres_ms, r.p50_ms, r.p99_ms)
        )
        print(
            f"{r.query:<13} {r.connections:>5} {r.per_second:>8.1f} {p50:>8} "
            f"{p99:>8} {r.server_ms:>18.2f} {postgres:>14} {r.statements:>15.2f} "
            f"{r.errors:>7} {r.busy * 100:>12.0f}% {f'+{r.churn[0]}/-{r.churn[1]}':>16}"
        )


def verdict(
    rows: Sequence[Row], label: str, queries: tuple[str, ...], field: str, limit: float
) -> None:
    """One target: met when every row of `queries` is within `limit`; each row's figure."""
    chosen = [r for r in rows if r.query in queries and getattr(r, field) is not None]
    if not chosen:
        print(f"  {label}: not measured")
        return
    figures = [(f"{r.query} c={r.connections}", float(getattr(r, field))) for r in chosen]
    met = all(value <= limit for _, value in figures)
    shown = ", ".join(f"{value:.2f} ({where})" for where, value in figures)
    print(f"  {label}: {'met' if met else 'MISSED'} — {shown}")


def print_targets(rows: Sequence[Row]) -> None:
    """A verdict per target (every row of the query counts, at each connection count)."""
    print("\ntargets (one process):")
    q1 = ("Q1 admin", "Q1 manager")
    verdict(rows, f"Q1 server CPU <= {Q1_SERVER_MS:g} ms/request", q1, "server_ms", Q1_SERVER_MS)
    verdict(
        rows,
        f"Q1 PostgreSQL CPU <= {Q1_POSTGRES_MS:g} ms/request",
        q1,
        "postgres_ms",
        Q1_POSTGRES_MS,
    )
    verdict(
        rows, f"Q2 server CPU <= {Q2_SERVER_MS:g} ms/request", ("Q2",), "server_ms", Q2_SERVER_MS
    )
    verdict(
        rows,
        f"statements <= {STATEMENTS:g} per request (Q1, Q2)",
        (*q1, "Q2"),
        "statements",
        STATEMENTS,
    )


def run(url: str, folder: Path, args: argparse.Namespace) -> None:
    """Start the server, load, measure every query at every connection count, print."""
    database = url.rsplit("/", 1)[-1]
    asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
    server = start_server("views", url, folder, environment={"YEKUO_POLL_SECONDS": LONG_POLL})
    try:
        asyncio.run(wait_healthy([server]))
        admin, manager, has_statistics = asyncio.run(prepare(server, url, args.cases))
        queries = [
            Query("Q1 admin", (body(Q1), ""), admin),
            Query("Q1 manager", (body(Q1), ""), manager),
            Query("Q2", random_id_body(Q2), admin, top=args.cases),
        ]
        if has_statistics:
            queries.append(Query("statistics", (body(STATISTICS), ""), manager))
        else:
            print("statistics: the server has no caseStatistics yet; its row is left out")
        with httpx.Client(base_url=server.url, timeout=60.0) as client:
            for query in list(queries):
                problem = check(client, query)
                if problem is not None:
                    if query.name != "statistics":
                        raise RuntimeError(f"{query.name} does not work: {problem}")
                    print(f"statistics: left out, the query does not work: {problem}")
                    queries.remove(query)
        rows = []
        for query in queries:
            for connections in args.connections:
                rows.append(measure(server, database, query, connections, args, folder))
                print(f"({query.name}, c={connections}: measured)", flush=True)
        print_rows(rows)
        print_targets(rows)
        print(f"\nserver peak RSS: {peak_rss_mb(server):.0f} MB")
    except BaseException:
        with contextlib.suppress(OSError):
            print(server.output()[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """--cases, --seconds, --warmup and --connections, with WORKLOAD.md's figures as defaults."""
    parser.add_argument("--cases", type=int, default=100_000, help="cases (default 100000)")
    parser.add_argument("--seconds", type=int, default=20, help="measured seconds (default 20)")
    parser.add_argument("--warmup", type=int, default=10, help="warm-up seconds (default 10)")
    parser.add_argument(
        "--connections", type=int, nargs="+", default=[1, 16], metavar="C", help="default 1 16"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    add_load_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.seconds < 1 or args.warmup < 0 or min(args.connections) < 1:
        parser.error("--cases, --seconds and --connections are at least 1, --warmup 0")
    print(
        f"views bench: PostgreSQL, one server process over loopback, wrk 1 thread; "
        f"{args.cases} cases, {args.warmup} s warm-up + {args.seconds} s per row "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    with scratch_folder() as folder, bench_database(False, folder, keep=args.keep) as url:
        run(url, folder, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
