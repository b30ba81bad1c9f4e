"""What a command costs, and commands per second through the API, on PostgreSQL.

Run on demand (not a test; no target is asserted, the targets are printed next to the figures):

    .venv/bin/python bench/lifecycle.py [--cases N] [--concurrency C] [--completions K]
                                        [--workers W [W ...]] [--cost-cases M]
                                        [--sqlite] [--profile]

A fresh database (PostgreSQL at YEKUO_BENCH_PG_ADMIN, default
postgresql://postgres@127.0.0.1:5432/postgres; dropped at the end) is migrated, and the
business type of lifecycle_workload.py is defined through GraphQL: five stages in a line,
eight data items, five posts, an org unit tree and the responsibilities; one STAFF user holds
all five posts.

Default mode: a real server (`python -m server.cli serve --workers W`, default one worker)
driven over loopback with httpx. After a warm-up of 20 cases:

1. What one command costs (command_costs.py): M cases (default 20) go through createCase,
   submitCase, claimTask and completeTask for each stage, one command at a time and one kind
   at a time; per kind, the SQL statements and transactions (deltas of the server's /metrics
   counters `yekuo_sql_statements_total` and `yekuo_sql_transactions_total` around the batch,
   divided by its size), the server CPU (psutil, summed over the workers) and the wall time per
   command. The server runs with YEKUO_POLL_SECONDS=3600 (its revision poll would otherwise add
   a statement and a transaction every 0.25 s to whatever is measured), except on SQLite with
   several workers, where the poll is how the workers learn of the publish: there the figures
   carry the poll's few statements a second.
2. Throughput: C clients (default 8) share N cases (default 200), each
   `createBenchLifecycleCase(submit: true)` then K `completeTask` calls (default 4: accept,
   survey, reply and fees; 5 also completes the case and writes the customer archive). Printed:
   cases/s, commands/s, p50/p95 latency per mutation kind, SQL statements and transactions per
   command, the server's CPU (summed over its workers), the CPU of this database's PostgreSQL
   backends, the bench client's CPU, and how busy the machine was (client, server and
   PostgreSQL share its CPUs).
3. The targets: ≤ 12 statements and 1 transaction per completeTask, ≤ 6 ms server CPU per
   command, ≥ 150 commands/s at 8 clients on one process.

`--workers 1 2` runs the whole bench once per count, each on a fresh database, and ends with the
scaling: commands/s and server CPU per command for each count.

`--profile`: the same workload in-process, under a profiler (profile_report.py says how).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from bench_support import (  # noqa: E402
    ADMIN_PASSWORD,
    bench_database,
    scratch_folder,
    start_server,
    wait_healthy,
)
from command_costs import measure, print_costs, print_targets, totals  # noqa: E402
from cpu_accounting import CpuSnapshot, print_cpu, print_throughput  # noqa: E402
from lifecycle_workload import STEPS, WARM_UP, Driver, add_user, prepare, run_cases  # noqa: E402
from profile_report import run_profile_mode  # noqa: E402

from tools.server_process import ServerProcess, served_revisions  # noqa: E402

LONG_POLL = "3600"
"""YEKUO_POLL_SECONDS for the bench's server, where the poll is not needed (see above)."""


@dataclass(frozen=True)
class Scaling:
    """One worker count's throughput."""

    workers: int
    commands_per_second: float
    cpu_ms: float


async def converge(client: httpx.AsyncClient, server: ServerProcess, workers: int) -> None:
    """Until every worker serves the same revision (the publish reached them all)."""
    deadline = time.monotonic() + 30.0
    while True:
        revisions = await served_revisions(client, server)
        if len(revisions) >= workers and len(set(revisions.values())) == 1:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the workers did not converge: {revisions}")
        await asyncio.sleep(0.05)


async def drive_server(
    server: ServerProcess, url: str, database: str | None, args: argparse.Namespace, workers: int
) -> Scaling:
    """Define, warm up, measure the costs, then the throughput, against a server."""
    limits = httpx.Limits(
        max_connections=args.concurrency + 4, max_keepalive_connections=args.concurrency + 4
    )
    pid = server.process.pid
    async with httpx.AsyncClient(base_url=server.url, timeout=60.0, limits=limits) as client:
        driver = Driver(client)
        await prepare(driver, url)
        await converge(client, server, workers)
        warm = await run_cases(driver, WARM_UP, args.concurrency, args.completions)
        print(f"(warm-up: {WARM_UP} cases in {warm:.2f} s)")
        costs = await measure(driver, pid, args.cost_cases) if args.cost_cases else None
        driver.latencies.clear()
        sql_before = await totals(client, pid)
        before = CpuSnapshot.take(pid, database)
        seconds = await run_cases(driver, args.cases, args.concurrency, args.completions)
        after = CpuSnapshot.take(pid, database)
        sql = await totals(client, pid) - sql_before
    commands = args.cases * (1 + args.completions)
    print_throughput(driver.latencies, args.cases, seconds, args.completions)
    print(
        f"SQL in this phase: {sql.statements / commands:.1f} statements and "
        f"{(sql.commits + sql.rollbacks) / commands:.1f} transactions per command "
        "(/metrics deltas)"
    )
    print_cpu(
        before, after, args.cases, seconds, args.completions, in_process=False, workers=workers
    )
    scaling = Scaling(workers, commands / seconds, (after.server - before.server) / commands * 1e3)
    if costs is not None:
        print_costs(costs)
        print_targets(costs, scaling.cpu_ms, scaling.commands_per_second, workers)
    return scaling


def run_server_mode(
    url: str, folder: Path, database: str | None, args: argparse.Namespace, workers: int
) -> Scaling:
    """Start `yekuo serve --workers N`, measure, stop it."""
    asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
    needs_poll = args.sqlite and workers > 1
    environment = {} if needs_poll else {"YEKUO_POLL_SECONDS": LONG_POLL}
    server = start_server("lifecycle", url, folder, workers=workers, environment=environment)
    try:
        asyncio.run(wait_healthy([server], workers))
        return asyncio.run(drive_server(server, url, database, args, workers))
    except BaseException:
        with contextlib.suppress(OSError):
            print(server.output()[-3000:], file=sys.stderr)
        raise
    finally:
        server.stop()


def print_scaling(results: Sequence[Scaling]) -> None:
    """Commands/s and server CPU per command for each worker count."""
    print("\nScaling (throughput phase; server CPU summed over the workers)")
    header = f"{'workers':>8} {'commands/s':>11} {'vs first':>9} {'server CPU ms/command':>22}"
    print(header)
    print("-" * len(header))
    first = results[0].commands_per_second
    for result in results:
        print(
            f"{result.workers:>8} {result.commands_per_second:>11.1f} "
            f"{result.commands_per_second / first:>8.2f}x {result.cpu_ms:>22.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=200, help="measured cases (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients (default 8)")
    parser.add_argument(
        "--completions",
        type=int,
        default=4,
        choices=range(1, len(STEPS) + 1),
        help="task completions per case (default 4; 5 completes the case and archives it)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        metavar="W",
        help="server worker processes (`yekuo serve --workers W`); several: one run each",
    )
    parser.add_argument(
        "--cost-cases",
        type=int,
        default=20,
        metavar="M",
        help="cases for the per-command costs, one command at a time (default 20; 0: skip)",
    )
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    parser.add_argument("--profile", action="store_true", help="in-process, under a profiler")
    parser.add_argument(
        "--profiler",
        choices=("auto", "pyinstrument", "cprofile", "none"),
        default="auto",
        help="with --profile; auto: pyinstrument if installed, else cProfile; "
        "none: in-process without a profiler (its overhead, by comparison)",
    )
    parser.add_argument(
        "--profile-clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="weigh samples by this thread's CPU time (default) or by wall time",
    )
    args = parser.parse_args(argv)
    if args.cases < 1 or args.concurrency < 1 or min(args.workers) < 1 or args.cost_cases < 0:
        parser.error("--cases, --concurrency and --workers are at least 1, --cost-cases 0")
    dialect = "SQLite" if args.sqlite else "PostgreSQL"
    print(
        f"lifecycle bench: {dialect}; {args.cases} cases, concurrency {args.concurrency}, "
        f"create+submit then {args.completions} completions per case "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    if args.profile:
        print("mode: in-process ASGI")
        with scratch_folder() as folder, bench_database(args.sqlite, folder) as url:
            run_profile_mode(url, folder, args)
        return 0
    results = []
    for workers in args.workers:
        print(f"\n=== server over loopback: `yekuo serve --workers {workers}` ===")
        with scratch_folder() as folder, bench_database(args.sqlite, folder) as url:
            database = None if args.sqlite else url.rsplit("/", 1)[-1]
            results.append(run_server_mode(url, folder, database, args, workers))
    if len(results) > 1:
        print_scaling(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
