"""A mixed workload at fixed concurrency against a real server process, quiet and then under attack.

Run on demand (not a test; nothing is asserted, a verdict is printed):

    .venv/bin/python bench/load.py [--seconds 60] [--concurrency 8] [--sqlite]

A fresh database (PostgreSQL at YEKUO_BENCH_PG_ADMIN, dropped at the end; `--sqlite`: a file) gets
lifecycle.py's business type (five stages, accept -> survey -> reply -> fees -> connect), its STAFF
user holding every post of the county, and a MANAGER of the county; both sign in at argon2's
default cost, as in production. One `python -m server.cli serve` is driven over loopback by C
workers (default 8), each drawing operations in fixed proportions (MIX): create-and-submit,
completion of the next task (its id from an earlier payload, never from myTasks; a worker with none
to do creates instead), a per-type list (a filter, orderBy, first: 50), taskStatistics (and
caseStatistics, sharing its share, when the server has it; both as the MANAGER) and a login. After
a short warm-up, two runs of the same length: a quiet one, then one while an anonymous attacker
sends, every second, the fragment bomb (F0 selects `me { username }`, each F_i spreads F_(i-1)
twice, the query spreads F40), a 1 MB body (a query padded with spaces to 1,000,000 bytes, just
under the 1 MiB body limit: the server reads and decodes it, then refuses the document's length),
the longest document the server parses (a query padded to MAX_DOCUMENT_LENGTH characters) and a
query of 300,000 tokens. Printed: throughput, p50/p99 per operation and errors (with the first
message), the attacker's answers, each operation's p99 under attack relative to the quiet run with
a verdict on 2x, and the CPU of the server, of this database's PostgreSQL backends and of the
machine. The client, server and database share this machine's CPUs, so the figures are of all three
at once; the attack run also starts on more cases than the quiet one (those the quiet run created).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from attacker import Attacker, print_answers  # noqa: E402
from bench_support import (  # noqa: E402
    ADMIN_PASSWORD,
    FIELDS_OF,
    LOGIN,
    bench_database,
    scratch_folder,
    start_server,
    wait_healthy,
)
from cpu_accounting import CpuSnapshot, percentile  # noqa: E402
from lifecycle_workload import (  # noqa: E402
    POSTS,
    STAFF,
    STAFF_PASSWORD,
    STEPS,
    UNIT,
    Driver,
    add_user,
    define,
)

from tools.server_process import ServerProcess as Server  # noqa: E402

MANAGER, MANAGER_PASSWORD = "bench_manager", "bench-manager-password"
MIX = {"create": 20, "complete": 40, "list": 20, "statistics": 18, "login": 2}
"""Operations per hundred; statistics is split between task and case statistics if both exist."""
WARM_UP_SECONDS = 5.0
VERDICT_SAMPLES = 20
"""Operations run fewer times in either run are left out of the verdict."""
VALID_ID = "11010519491231002X"
CHANGES = dict(STEPS)
"""The data each stage's completion writes."""

CASE = "case { id tasks { id status stage { code } } }"
CREATE = f"""mutation($input: CreateBenchLifecycleCaseInput!) {{
  createBenchLifecycleCase(input: $input) {{ {CASE} errors {{ code message }} }} }}"""
COMPLETE = f"""mutation($input: CompleteTaskInput!) {{ completeTask(input: $input) {{
  {CASE} errors {{ code message }} }} }}"""
LIST = """query($where: BenchLifecycleWhere, $orderBy: [BenchLifecycleOrderBy!]) {
  benchLifecycleCases(where: $where, orderBy: $orderBy, first: 50) {
    totalCount nodes { id number status createdAt dueAt data { customerName capacityKva } } } }"""
LIST_VARIABLES = {
    "where": {"status": {"eq": "IN_PROGRESS"}, "data": {"capacityKva": {"gte": "50"}}},
    "orderBy": [{"createdAt": "DESC"}],
}
TASK_STATISTICS = """{ taskStatistics(groupBy: [POST, STAGE]) {
  keys total open overdue completed avgHandlingSeconds } }"""
CASE_STATISTICS = """{ caseStatistics(groupBy: [STAGE, STATUS]) {
  keys count open completed overdue } }"""


# --- the workload ------------------------------------------------------------------------------


@dataclass
class Results:
    """Latencies and errors by operation, for one run."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Workload:
    """The server's client, the signed-in users, and which statistics the server has."""

    client: httpx.AsyncClient
    staff: str
    manager: str
    statistics: tuple[str, ...]


async def call(
    client: httpx.AsyncClient, token: str | None, query: str, variables: Mapping[str, Any]
) -> tuple[float, dict[str, Any] | None, str | None]:
    """(seconds, data, error): an error is a non-200, a GraphQL error or a payload's errors."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    try:
        response = await client.post(
            "/graphql", json={"query": query, "variables": dict(variables)}, headers=headers
        )
    except httpx.HTTPError as error:
        return time.perf_counter() - started, None, f"{type(error).__name__}: {error}"
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        return elapsed, None, f"HTTP {response.status_code}: {response.text[:200]}"
    body = response.json()
    if body.get("errors"):
        return elapsed, None, str(body["errors"][0].get("message"))
    data: dict[str, Any] = body["data"]
    for payload in data.values():
        if isinstance(payload, dict) and payload.get("errors"):
            return elapsed, None, str(payload["errors"][0])
    return elapsed, data, None


def open_tasks(case: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(task id, stage code) of the case's open tasks."""
    return [(t["id"], t["stage"]["code"]) for t in case["tasks"] if t["status"] == "OPEN"]


async def worker(number: int, load: Workload, deadline: float, results: Results) -> None:
    """Operations in MIX's proportions (a shuffled cycle of 100) until the deadline."""
    rng = random.Random(number)
    cycle = [op for op, share in MIX.items() for _ in range(share)]
    rng.shuffle(cycle)
    todo: list[tuple[str, str]] = []  # open tasks of cases this worker created
    step = number
    while time.monotonic() < deadline:
        op = cycle[step % len(cycle)]
        step += 1
        token: str | None = load.staff
        variables: dict[str, Any] = {}
        if op == "complete" and not todo:
            op = "create"
        if op == "create":
            data = {"customerName": f"负载客户{number}-{step}", "idNumber": VALID_ID}
            query, variables = CREATE, {"input": {"orgUnit": UNIT, "submit": True, "data": data}}
        elif op == "complete":
            task, stage = todo.pop(rng.randrange(len(todo)))
            completion = {"taskId": task, "outcome": "APPROVE", "data": CHANGES[stage]}
            query, variables = COMPLETE, {"input": completion}
        elif op == "list":
            query, variables = LIST, LIST_VARIABLES
        elif op == "statistics":
            op = load.statistics[step % len(load.statistics)]
            query = TASK_STATISTICS if op == "taskStatistics" else CASE_STATISTICS
            token = load.manager
        else:
            query, variables, token = LOGIN, {"u": STAFF, "p": STAFF_PASSWORD}, None
        seconds, answer, error = await call(load.client, token, query, variables)
        if answer and op in ("create", "complete"):
            todo.extend(open_tasks(next(iter(answer.values()))["case"]))
        if answer and op == "login" and not answer["login"]["token"]:
            error = "login answered without a token"
        results.latencies[op].append(seconds)
        if error:
            results.errors[op] += 1
            results.first_error.setdefault(op, error)


async def run(load: Workload, seconds: float, concurrency: int) -> Results:
    """C workers for `seconds`; the wall time until the last one finished."""
    results = Results()
    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for number in range(concurrency):
            group.create_task(worker(number, load, started + seconds, results))
    results.seconds = time.monotonic() - started
    return results


# --- reporting ---------------------------------------------------------------------------------


def print_run(title: str, results: Results, quiet: Results | None = None) -> None:
    """Throughput and the per-operation table (with p99 relative to `quiet` if given)."""
    total = count(results)
    errors = sum(results.errors.values())
    print(
        f"\n{title}: {total} operations in {results.seconds:.1f} s -> "
        f"{total / results.seconds:.1f} ops/s; errors: {errors}"
    )
    header = f"{'operation':<15} {'n':>6} {'ops/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    header += f" {'p99 vs quiet':>13}" if quiet else ""
    print(header)
    print("-" * len(header))
    for op, values in sorted(results.latencies.items()):
        line = (
            f"{op:<15} {len(values):>6} {len(values) / results.seconds:>7.1f} "
            f"{percentile(values, 0.5) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f} "
            f"{results.errors[op]:>7}"
        )
        if quiet and quiet.latencies.get(op):
            line += f" {ratio(results, quiet, op):>12.2f}x"
        print(line)
    for op, message in sorted(results.first_error.items()):
        print(f"first error of {op}: {message}")


def count(results: Results) -> int:
    """Operations in a run."""
    return sum(map(len, results.latencies.values()))


def ratio(results: Results, quiet: Results, op: str) -> float:
    """p99 under attack over the quiet p99."""
    return percentile(results.latencies[op], 0.99) / percentile(quiet.latencies[op], 0.99)


def print_cpu(before: CpuSnapshot, after: CpuSnapshot, seconds: float) -> float:
    """The server's, the database's and the machine's CPU over one run; the server's."""
    server = after.server - before.server
    backends = sum(s - before.backends.get(pid, 0.0) for pid, s in after.backends.items())
    busy = (after.busy - before.busy) / max(after.total - before.total, 1e-9)
    database = (
        f"{backends:.1f} s ({backends / seconds * 100:.0f}% of a core)" if backends else "n/a"
    )
    print(
        f"CPU: server {server:.1f} s ({server / seconds * 100:.0f}% of a core), this "
        f"database's PostgreSQL backends {database}, bench client "
        f"{after.client - before.client:.1f} s; machine busy {busy * 100:.0f}% of "
        f"{os.cpu_count()} CPUs"
    )
    return server


def print_verdict(attacked: Results, quiet: Results) -> None:
    """Whether p99 under attack stayed within 2x of the quiet run: all operations, and each."""
    pooled = [v for values in attacked.latencies.values() for v in values]
    before = [v for values in quiet.latencies.values() for v in values]
    ratios = {"all operations": percentile(pooled, 0.99) / percentile(before, 0.99)}
    ratios |= {
        op: ratio(attacked, quiet, op)
        for op in attacked.latencies
        if min(len(attacked.latencies[op]), len(quiet.latencies[op])) >= VERDICT_SAMPLES
    }
    worst = max(ratios, key=lambda op: ratios[op])
    within = ratios[worst] <= 2.0
    shown = ", ".join(f"{op} {r:.2f}x" for op, r in ratios.items())
    print(
        f"\nverdict: p99 under attack {'stays' if within else 'does NOT stay'} within 2x of the "
        f"quiet run ({shown}; an operation run fewer than {VERDICT_SAMPLES} times in either run "
        "counts only among all operations)"
    )


# --- entry point -------------------------------------------------------------------------------


async def setup(client: httpx.AsyncClient, url: str) -> Workload:
    """Define the business type as admin, add the STAFF user and the MANAGER, sign them in."""
    driver = Driver(client)
    driver.token = await driver.login("admin", ADMIN_PASSWORD)
    await define(driver)
    await add_user(url, STAFF, STAFF_PASSWORD, ["STAFF"], list(POSTS), UNIT)
    await add_user(url, MANAGER, MANAGER_PASSWORD, ["MANAGER"], [], UNIT)
    fields = await driver.call(FIELDS_OF, {"name": "Query"})
    names = {f["name"] for f in fields["__type"]["fields"]}
    statistics = tuple(s for s in ("taskStatistics", "caseStatistics") if s in names)
    staff = await driver.login(STAFF, STAFF_PASSWORD)
    manager = await driver.login(MANAGER, MANAGER_PASSWORD)
    return Workload(client, staff, manager, statistics)


async def drive(server: Server, url: str, database: str | None, args: argparse.Namespace) -> None:
    """Warm up, the quiet run, the attacked run; print everything."""
    connections = args.concurrency + 4
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=server.url, timeout=60.0, limits=limits) as client:
        load = await setup(client, url)
        shares = ", ".join(f"{op} {share}%" for op, share in MIX.items())
        print(f"mix: {shares} (statistics: {' and '.join(load.statistics)})")
        warm = await run(load, WARM_UP_SECONDS, args.concurrency)
        print(f"(warm-up: {count(warm)} operations in {warm.seconds:.1f} s)")

        before = CpuSnapshot.take(server.process.pid, database)
        quiet = await run(load, args.seconds, args.concurrency)
        print_run("quiet run", quiet)
        quiet_cpu = print_cpu(before, CpuSnapshot.take(server.process.pid, database), quiet.seconds)

        attacker, stop = Attacker(), asyncio.Event()
        before = CpuSnapshot.take(server.process.pid, database)
        attacking = asyncio.create_task(attacker.run(server.url, stop))
        attacked = await run(load, args.seconds, args.concurrency)
        stop.set()
        await attacking
        print_run("under attack", attacked, quiet)
        attacked_cpu = print_cpu(
            before, CpuSnapshot.take(server.process.pid, database), attacked.seconds
        )
    # The attacker's share: the server's CPU beyond what the workload's operations cost when quiet.
    workload = quiet_cpu / count(quiet) * count(attacked)
    attacks = sum(map(len, attacker.answers.values()))
    print(
        f"server CPU beyond the workload's (the attacker's, estimated): "
        f"{attacked_cpu - workload:.1f} s, {(attacked_cpu - workload) / attacks * 1000:.0f} ms "
        f"per attack request ({attacks} sent)"
    )
    print_answers(attacker)
    print_verdict(attacked, quiet)
    print_logged_errors(server)


def print_logged_errors(server: Server) -> None:
    """The exceptions the server logged (their last lines), behind any "Unexpected error"."""
    lines = server.log_path.read_text(errors="replace").splitlines()
    raised = Counter(
        line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exhausted)\b", line)
    )
    if raised:
        print("\nexceptions in the server's log:")
        for line, times in raised.most_common(5):
            print(f"  {times} x {line[:200]}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="each run (default 60)")
    parser.add_argument("--concurrency", type=int, default=8, help="workers (default 8)")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1:
        parser.error("--seconds is positive and --concurrency at least 1")
    print(
        f"load bench: {'SQLite' if args.sqlite else 'PostgreSQL'}, server process over loopback; "
        f"{args.seconds:.0f} s per run, concurrency {args.concurrency} "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    with scratch_folder() as folder, bench_database(args.sqlite, folder) as url:
        database = None if args.sqlite else url.rsplit("/", 1)[-1]
        asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
        server = start_server("load", url, folder)
        try:
            asyncio.run(wait_healthy([server]))
            asyncio.run(drive(server, url, database, args))
        except BaseException:
            with contextlib.suppress(OSError):
                print(server.log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
