"""What archive effects cost the command that ends a case: statements, transactions, time, CPU.

Run on demand (not a test; nothing is asserted beyond each case completing as it should):

    .venv/bin/python bench/archive_effects.py [--households N [N ...]] [--repeat R] [--sqlite]

A fresh database (PostgreSQL at YEKUO_BENCH_PG_ADMIN, default
postgresql://postgres@127.0.0.1:5432/postgres, dropped at the end; or with `--sqlite` a SQLite
file) is migrated and the app runs in this process (create_app + httpx.ASGITransport, as
`lifecycle.py --profile` does), so its engine's counters and its CPU are at hand.
archive_effects_workload.py defines one-stage business types through GraphQL as ADMIN; a STAFF
clerk then opens and submits each case (not measured) and the measured command is the one
completeTask that ends it, in whose transaction the effects are planned and written
(service/case_commands.settle -> database/archive_repo.run_effects -> archive_writes).

Rows (each one warm-up completion, discarded, then R measured ones, default 5, each on a case of
its own):

1. 小区新装 (bench_estate: CREATE_CUSTOMER + CREATE_ACCOUNTS over a LIST item) with N
   households, default N = 10, 120, 1000 and 2000 (2000 is the limit of every list): N
   household accounts, each with its meter, under the new estate account. Beside each, the
   same completion of a type with the same items and `effects: []` (bench_estate_plain) with
   the same N entries: the baseline, so the difference is what the effects cost.
2. 销户 (bench_close: CLOSE_ACCOUNT + TERMINATE_CONTRACT) on a customer with one meter and one
   contract, made by a 高压新装 case with the default effects; and 并户 (bench_merge:
   MERGE_ACCOUNTS) of 5 such accounts into a sixth. Their baseline: a CHANGE type naming such a
   customer with `effects: []` (bench_named_plain).

Printed per row, the median over the R completions: SQL statements and transactions (deltas of
the engine's counters, database/counters.py: an executemany or an insertmanyvalues batch is one
statement; a range when the completions differ; the transactions are two, the caller check's
snapshot read (service/callers.py, rolled back) and the command's own), wall time of the
request, this process's CPU (time.process_time: the app, plus the in-process client's small
share; on SQLite also the driver's thread) and, on PostgreSQL, the CPU of this database's
backends (psutil snapshots; the mean, not the median, as psutil counts whole 10 ms ticks).
Then the effects' cost over the baseline per N and per household. The schema registry's watch
is stopped once the types are published and a garbage collection runs before each completion,
so neither lands inside one; the machine's other load still moves the times, not the counts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402  (the repository root is put on the path first)
from archive_effects_workload import (  # noqa: E402
    POST,
    STAFF,
    STAFF_PASSWORD,
    UNIT,
    define,
    effect_events,
    finish,
    households,
    hv_customer,
    open_case,
)
from bench_support import ADMIN_PASSWORD, SECRET, bench_database, scratch_folder  # noqa: E402
from cpu_accounting import postgres_cpu  # noqa: E402
from lifecycle_workload import Driver, add_user  # noqa: E402

from database.counters import SqlCounters  # noqa: E402
from server.app import create_app  # noqa: E402
from server.settings import Settings  # noqa: E402

DEFAULT_HOUSEHOLDS = (10, 120, 1000, 2000)
MERGED = 5
CLOSE_DATA = {"arrearsCleared": True, "finalReading": "1234.5"}


@dataclass(frozen=True)
class Sample:
    """What one completion used."""

    statements: int
    transactions: int
    wall: float
    cpu: float
    postgres: float | None


@dataclass
class Row:
    """One kind of completion and its measured samples."""

    case: str
    effects: str
    households: int | None
    samples: list[Sample] = field(default_factory=list)

    def median(self, pick: Callable[[Sample], float]) -> float:
        """The median of one figure over the samples."""
        return statistics.median(pick(s) for s in self.samples)

    def count(self, pick: Callable[[Sample], int]) -> str:
        """A count: one number when every sample agrees, else its range."""
        low, high = min(map(pick, self.samples)), max(map(pick, self.samples))
        return str(low) if low == high else f"{low}-{high}"


class Meter:
    """Measures one awaited call: the engine's counters, this process's CPU, the backends'."""

    def __init__(self, counters: SqlCounters, database: str | None) -> None:
        self.counters = counters
        self.database = database

    def _backends(self) -> dict[int, float]:
        return postgres_cpu(self.database)[0] if self.database else {}

    async def measure(self, call: Awaitable[dict[str, Any]]) -> tuple[dict[str, Any], Sample]:
        """Await `call` with everything read just before and just after it."""
        gc.collect()
        backends = self._backends()
        statements, transactions = self.counters.statements, self.counters.transactions
        cpu, wall = time.process_time(), time.perf_counter()
        result = await call
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sample = Sample(
            self.counters.statements - statements,
            self.counters.transactions - transactions,
            wall,
            cpu,
            None,
        )
        if self.database:
            after = self._backends()
            used = sum(seconds - backends.get(pid, 0.0) for pid, seconds in after.items())
            sample = Sample(sample.statements, sample.transactions, wall, cpu, used)
        return result, sample


class Workload:
    """Opens the cases of each row and measures the completions that end them."""

    def __init__(self, driver: Driver, meter: Meter, repeat: int) -> None:
        self.driver = driver
        self.meter = meter
        self.repeat = repeat
        self.tags = itertools.count(1)

    async def row(
        self,
        row: Row,
        one: Callable[[str], Awaitable[tuple[str, str, dict[str, Any]]]],
        check: Callable[[list[dict[str, Any]]], None],
    ) -> Row:
        """A warm-up, then `repeat` measured completions; `one` opens a case, `check` its events."""
        for attempt in range(self.repeat + 1):
            case_id, task, data = await one(f"{next(self.tags)}")
            _, sample = await self.meter.measure(finish(self.driver, task, data))
            if attempt == 0:
                check(await effect_events(self.driver, case_id))
            else:
                row.samples.append(sample)
        print(f"({row.case}, {row.effects}: measured)", flush=True)
        return row

    async def estate(self, count: int, plain: bool) -> Row:
        """小区新装 with `count` households, with its effects or with none."""
        code = "bench_estate_plain" if plain else "bench_estate"

        async def one(tag: str) -> tuple[str, str, dict[str, Any]]:
            case_id, task = await open_case(self.driver, code, households(count, tag))
            return case_id, task, {}

        def check(events: list[dict[str, Any]]) -> None:
            kinds = [e["kind"] for e in events]
            expected = [] if plain else ["CREATE_CUSTOMER", "CREATE_ACCOUNTS"]
            if kinds != expected or (events and len(events[1]["created"]) != count):
                raise RuntimeError(f"{code} with {count} households wrote {events}")

        effects = "effects: []" if plain else "CREATE_CUSTOMER+CREATE_ACCOUNTS"
        return await self.row(Row("小区新装", effects, count), one, check)

    async def named(self, code: str, case: str, effects: str, expected: list[str]) -> Row:
        """A case naming a customer with one meter (bench_merge: and MERGED more to merge)."""
        merging = code == "bench_merge"

        async def one(tag: str) -> tuple[str, str, dict[str, Any]]:
            customer = await hv_customer(self.driver, tag)
            if not merging:
                case_id, task = await open_case(self.driver, code, {}, customer)
                return case_id, task, CLOSE_DATA
            absorbed = [await hv_customer(self.driver, f"{tag}-{i}") for i in range(MERGED)]
            entries = [{"customerNumber": number} for number in absorbed]
            case_id, task = await open_case(
                self.driver, code, {"mergedAccounts": entries}, customer
            )
            return case_id, task, {}

        def check(events: list[dict[str, Any]]) -> None:
            merged = len(events[0]["merged"]) if merging and events else MERGED
            if [e["kind"] for e in events] != expected or merged != MERGED:
                raise RuntimeError(f"{code} wrote {events}")

        return await self.row(Row(case, effects, MERGED if merging else 1), one, check)


async def measure_all(url: str, folder: Path, args: argparse.Namespace) -> list[Row]:
    """Run the app in-process, define the types, measure every row."""
    settings = Settings(data_dir=folder, database_url=url, secret=SECRET, poll_seconds=3600.0)
    app = create_app(settings)
    services = app.state.services
    database = None if args.sqlite else url.rsplit("/", 1)[-1]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600.0
        ) as client:
            driver = Driver(client)
            driver.token = await driver.login("admin", ADMIN_PASSWORD)
            await define(driver)
            await services.registry.refresh(raise_errors=True)
            await services.registry.stop()  # no poll or rebuild beside what is measured
            await add_user(url, STAFF, STAFF_PASSWORD, ["STAFF"], [POST], UNIT)
            driver.token = await driver.login(STAFF, STAFF_PASSWORD)
            work = Workload(driver, Meter(services.db.counters, database), args.repeat)
            rows = []
            for count in args.households:
                rows.append(await work.estate(count, plain=True))
                rows.append(await work.estate(count, plain=False))
            rows.append(await work.named("bench_named_plain", "销户/并户 base", "effects: []", []))
            close = ["CLOSE_ACCOUNT", "TERMINATE_CONTRACT"]
            rows.append(await work.named("bench_close", "销户", "+".join(close), close))
            merge = ["MERGE_ACCOUNTS"]
            rows.append(await work.named("bench_merge", "并户", "MERGE_ACCOUNTS", merge))
            return rows


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.1f}"


def print_rows(rows: Sequence[Row], repeat: int) -> None:
    """The table, then the effects' cost over the baseline for each household count."""
    print(f"\nThe completeTask that ends the case (median of {repeat}; one warm-up discarded)")
    header = (
        f"{'case':<16} {'effects':<32} {'N':>5} {'SQL stmts':>10} {'transactions':>13} "
        f"{'wall ms':>9} {'app CPU ms':>11} {'PG CPU ms':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        postgres = None
        if all(s.postgres is not None for s in row.samples):  # a mean: 10 ms ticks
            postgres = statistics.mean(s.postgres or 0.0 for s in row.samples)
        print(
            f"{row.case:<{16 - _wide(row.case)}} {row.effects:<32} {row.households or 0:>5} "
            f"{row.count(lambda s: s.statements):>10} {row.count(lambda s: s.transactions):>13} "
            f"{_ms(row.median(lambda s: s.wall)):>9} {_ms(row.median(lambda s: s.cpu)):>11} "
            f"{_ms(postgres):>10}"
        )
    estates = [r for r in rows if r.case == "小区新装"]
    print("\nCREATE_CUSTOMER + CREATE_ACCOUNTS over the baseline (medians)")
    header = (
        f"{'N':>5} {'+ stmts':>8} {'+ wall ms':>10} {'+ app CPU ms':>13} "
        f"{'wall ms/household':>18} {'app CPU ms/household':>21}"
    )
    print(header)
    print("-" * len(header))
    for plain, effects in zip(estates[::2], estates[1::2], strict=True):
        count = effects.households or 0
        extra = [
            effects.median(pick) - plain.median(pick)
            for pick in (lambda s: s.statements, lambda s: s.wall, lambda s: s.cpu)
        ]
        print(
            f"{count:>5} {extra[0]:>8.0f} {_ms(extra[1]):>10} {_ms(extra[2]):>13} "
            f"{extra[1] / max(count, 1) * 1000:>18.3f} {extra[2] / max(count, 1) * 1000:>21.3f}"
        )


def _wide(text: str) -> int:
    """How many more columns than characters `text` takes (CJK characters take two)."""
    return sum(1 for character in text if ord(character) > 0x2E80)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--households",
        type=int,
        nargs="+",
        default=list(DEFAULT_HOUSEHOLDS),
        metavar="N",
        help="households per 小区新装 case (default 10 120 1000 2000; at most 2000)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="measured completions (default 5)")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    args = parser.parse_args(argv)
    if args.repeat < 1 or min(args.households) < 1 or max(args.households) > 2000:
        parser.error("--repeat is at least 1, --households between 1 and 2000")
    print(
        f"archive effects bench: {'SQLite' if args.sqlite else 'PostgreSQL'}, app in-process; "
        f"households {' '.join(map(str, args.households))}, {args.repeat} repetitions "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    with scratch_folder() as folder, bench_database(args.sqlite, folder) as url:
        asyncio.run(add_user(url, "admin", ADMIN_PASSWORD, ["ADMIN"], [], None))
        rows = asyncio.run(measure_all(url, folder, args))
    print_rows(rows, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
