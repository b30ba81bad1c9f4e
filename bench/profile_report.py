"""`--profile`: the lifecycle workload in-process, SQL counted by shape, under a profiler.

The app runs inside the bench (create_app + httpx.ASGITransport, its lifespan through
`app.router.lifespan_context`), so a profiler sees the server's code; the workload and the
tables are the server mode's. Printed besides: the SQL statements, transactions and pool
checkouts per case and mutation, by statement shape, and, under a profiler, self time by layer
(graphql-core parse/validate/execute, strawberry, our resolvers, engine and repositories,
SQLAlchemy, asyncpg, JWT/argon2, JSON, ...), the inclusive time of the spans that matter, and
the top 25 functions by cumulative time.

pyinstrument is used when importable (`.venv/bin/pip install pyinstrument`; the project does
not depend on it): it samples the real stack, its samples weighed by this thread's CPU time
(`--profile-clock wall` for wall time), so other processes on the machine do not show up as time
in whichever frame was running. Its per-call overhead slows the run several times, most in
call-heavy pure Python, and SQLAlchemy's synchronous work inside greenlets is seen without the
coroutine awaiting it (the output says how much). `--profiler cprofile` uses cProfile, whose
call stack goes astray at every greenlet switch (each SQL statement), so it is rough around SQL;
`--profiler none` runs in-process without a profiler, to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import importlib
import importlib.util
import math
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from bench_support import ADMIN_PASSWORD, SECRET  # noqa: E402
from cpu_accounting import CpuSnapshot, print_cpu, print_throughput  # noqa: E402
from lifecycle_workload import WARM_UP, Driver, add_user, prepare, run_cases  # noqa: E402
from profile_analysis import (  # noqa: E402
    BORING,
    SPANS,
    Profile,
    from_cprofile,
    from_pyinstrument,
    layer_of,
)
from sqlalchemy import event  # noqa: E402

from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402


class SqlCounter:
    """Counts the statements and transactions an engine runs, by statement shape."""

    SHAPE = re.compile(
        r"^\s*(SELECT\b.*?\bFROM\s+(\"?\w+\"?)|INSERT INTO\s+(\"?\w+\"?)|UPDATE\s+(\"?\w+\"?)"
        r"|DELETE FROM\s+(\"?\w+\"?))",
        re.IGNORECASE | re.DOTALL,
    )

    def __init__(self, engine: Any) -> None:
        self.pre_ping = bool(getattr(engine.sync_engine.pool, "_pre_ping", False))
        self.statements: Counter[str] = Counter()
        self.transactions = 0
        self.checkouts = 0
        self.counting = False
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "before_cursor_execute")
        def _statement(*args: Any) -> None:
            if self.counting:
                self.statements[self.shape(str(args[2]))] += 1

        @event.listens_for(sync_engine, "begin")
        def _begin(_connection: Any) -> None:
            if self.counting:
                self.transactions += 1

        @event.listens_for(sync_engine, "checkout")
        def _checkout(*_args: Any) -> None:
            if self.counting:
                self.checkouts += 1

    @staticmethod
    @functools.cache
    def shape(statement: str) -> str:
        """`SELECT … FROM t [FOR UPDATE]`, `INSERT INTO t`, `UPDATE t`, `DELETE FROM t`."""
        found = SqlCounter.SHAPE.match(statement)
        if found is None:
            return " ".join(statement.split())[:60]
        verb = statement.split(None, 1)[0].upper()
        table = next(g for g in found.groups()[1:] if g).strip('"')
        if verb == "SELECT":
            locked = " FOR UPDATE" if "FOR UPDATE" in statement.upper() else ""
            return f"SELECT … FROM {table}{locked}"
        return {"INSERT": "INSERT INTO", "DELETE": "DELETE FROM"}.get(verb, verb) + f" {table}"

    def print(self, cases: int, commands: int) -> None:
        """Statements per case and command, the most frequent shapes first."""
        total = sum(self.statements.values())
        print(
            f"\nSQL in the measured phase: {total / cases:.1f} statements and "
            f"{self.transactions / cases:.1f} transactions per case "
            f"({total / commands:.1f} and {self.transactions / commands:.1f} per mutation); "
            f"{self.checkouts / commands:.1f} pool checkouts per mutation"
        )
        if self.pre_ping:
            print(
                "(pool_pre_ping: every checkout first runs BEGIN; ';'; ROLLBACK on asyncpg, "
                "3 more round trips)"
            )
        print(f"{'statement shape':<46} {'per case':>9}")
        print("-" * 56)
        for shape, count in self.statements.most_common(25):
            print(f"{shape:<46} {count / cases:>9.1f}")


def print_profile(profile: Profile, cases: int) -> None:
    """Self time by layer, the spans and the top 25 functions by cumulative time."""
    total = sum(profile.self_by_layer.values()) or 1e-9
    print(f"\nWhere the time goes ({profile.tool})")
    print(f"self time by layer: {total:.2f} s = 100%")
    header = f"{'layer':<56} {'s':>7} {'%':>6} {'ms/case':>8}"
    print(header)
    print("-" * len(header))
    for label, seconds in sorted(profile.self_by_layer.items(), key=lambda kv: -kv[1]):
        if seconds / total >= 0.001:
            print(
                f"{label:<56} {seconds:>7.2f} {seconds / total * 100:>5.1f}% "
                f"{seconds / cases * 1000:>8.2f}"
            )

    for note in profile.notes:
        print(f"note: {note}")

    print("\ntop 15 functions by self time")
    header = f"{'self s':>7} {'%':>6}  {'layer':<34} function"
    print(header)
    print("-" * 110)
    for key, seconds in sorted(profile.own.items(), key=lambda kv: -kv[1])[:15]:
        path, line, function = key
        print(
            f"{seconds:>7.2f} {seconds / total * 100:>5.1f}%  "
            f"{layer_of(path, function)[:34]:<34} {function} ({path}:{line})"
        )

    def span(suffix: str, function: str) -> float:
        return sum(
            seconds
            for (path, _line, name), seconds in profile.cumulative.items()
            if path.endswith(suffix) and (name == function or name.endswith("." + function))
        )

    print("\nspans (inclusive; a coroutine's time counts while it runs, not while it awaits)")
    header = f"{'span':<56} {'s':>7} {'%':>6} {'ms/case':>8}"
    print(header)
    print("-" * len(header))
    for suffix, function, label in SPANS:
        seconds = span(suffix, function)
        if seconds > 0 or "parse" in label or "validate" in label:
            print(
                f"{label:<56} {seconds:>7.2f} {seconds / total * 100:>5.1f}% "
                f"{seconds / cases * 1000:>8.2f}"
            )

    print(
        "\ntop 25 functions by cumulative time (event-loop plumbing and the driver left out; "
        "a function within 3% of the one above it is a pass-through wrapper and is folded)"
    )
    header = f"{'cum s':>7} {'cum %':>6} {'self s':>7}  {'layer':<34} function"
    print(header)
    print("-" * 118)
    shown = folded = 0
    above = math.inf
    for key, seconds in sorted(profile.cumulative.items(), key=lambda kv: -kv[1]):
        path, line, function = key
        if path in ("", "~") or path.startswith(BORING) or function == "<module>":
            continue
        wrapper = seconds >= 0.97 * above
        above = seconds
        if wrapper:
            folded += 1
            continue
        print(
            f"{seconds:>7.2f} {seconds / total * 100:>5.1f}% {profile.own.get(key, 0.0):>7.2f}  "
            f"{layer_of(path, function)[:34]:<34} {function} ({path}:{line})"
        )
        shown += 1
        if shown == 25:
            break
    print(f"({folded} wrappers folded)")


async def profiled(driver: Driver, args: argparse.Namespace) -> tuple[float, Profile | None]:
    """The measured phase under the chosen profiler: its wall time and the profile."""
    run = run_cases(driver, args.cases, args.concurrency, args.completions)
    tool = args.profiler
    if tool == "auto":
        tool = "pyinstrument" if importlib.util.find_spec("pyinstrument") else "cprofile"
        if tool == "cprofile":
            print("(pyinstrument is not installed: cProfile, rough around greenlet switches)")
    if tool == "none":
        return await run, None
    if tool == "cprofile":
        timer = time.thread_time if args.profile_clock == "cpu" else time.perf_counter
        profiler = cProfile.Profile(timer)
        profiler.enable()
        try:
            seconds = await run
        finally:
            profiler.disable()
        return seconds, from_cprofile(profiler)
    pyinstrument: Any = importlib.import_module("pyinstrument")
    stack_sampler: Any = importlib.import_module("pyinstrument.stack_sampler")
    thread_sampler = stack_sampler.get_stack_sampler()
    if args.profile_clock == "cpu":
        # Samples weighed by this thread's CPU time: other processes taking the CPU away (the
        # machine is shared with the database) then do not show up as time in whatever frame
        # happened to be running.
        thread_sampler.timer_func = time.thread_time
    sampler = pyinstrument.Profiler(interval=0.002, async_mode="disabled")
    sampler.start()
    try:
        seconds = await run
    finally:
        sampler.stop()
        thread_sampler.timer_func = None
    tool_label = f"pyinstrument, in-process, samples every 2 ms of {args.profile_clock} time"
    return seconds, from_pyinstrument(sampler.last_session.root_frame(), tool_label)


async def drive_in_process(url: str, folder: Path, args: argparse.Namespace) -> None:
    """The same workload through httpx.ASGITransport, the measured phase under a profiler."""
    app = create_app(Settings(data_dir=folder, database_url=url, secret=SECRET))
    counter = SqlCounter(app.state.services.db.engine)
    database = None if args.sqlite else url.rsplit("/", 1)[-1]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=60.0
        ) as client:
            driver = Driver(client)
            await prepare(driver, url)
            warm = await run_cases(driver, WARM_UP, args.concurrency, args.completions)
            print(f"(warm-up: {WARM_UP} cases in {warm:.2f} s)")
            driver.latencies.clear()
            counter.counting = True
            before = CpuSnapshot.take(None, database)
            seconds, profile = await profiled(driver, args)
            after = CpuSnapshot.take(None, database)
            counter.counting = False
    if profile is not None:
        print("\n(in-process under the profiler: its overhead slows everything below)")
    print_throughput(driver.latencies, args.cases, seconds, args.completions)
    print_cpu(
        before,
        after,
        args.cases,
        seconds,
        args.completions,
        in_process=True,
    )
    counter.print(args.cases, args.cases * (1 + args.completions))
    if profile is not None:
        print_profile(profile, args.cases)


def run_profile_mode(url: str, folder: Path, args: argparse.Namespace) -> None:
    """Add the admin, then run in-process."""
    asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
    asyncio.run(drive_in_process(url, folder, args))
