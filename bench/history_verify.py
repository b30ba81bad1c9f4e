"""Checking every case history: time and memory of `history_repo.verify_all` on many cases.

Run on demand (not a test; no target is asserted):

    .venv/bin/python bench/history_verify.py [--cases N] [--events K] [--batch B] [--postgresql]

A fresh database (a SQLite file in a temporary folder, or with --postgresql a database on
YEKUO_BENCH_PG_ADMIN, default postgresql://postgres@127.0.0.1:5432/postgres, dropped at the
end) is migrated and filled, in bulk, with N cases (default 100,000) of K events each (default
12): CREATED with ten data items, SUBMITTED, then DATA_WRITTEN events each changing one item,
chained, anchored and sealed as yekuo writes them, the case rows holding what the events say.
Printed: cases per second checked, and the process's resident memory before the check and at
its highest during it (sampled every batch), which should not grow with N.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import insert

from casework import history
from database import history_repo, migrate
from database.case_tables import CaseEventRow, CaseRow
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.session import Database

KEYS = history.keyring("bench-secret")
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
CHUNK = 2000


def case_rows(first: int, count: int, events: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """Case rows and their event rows for ids first..first+count-1."""
    cases: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for case_id in range(first, first + count):
        data: dict[str, Any] = {f"item_{i}": f"value {i} of case {case_id}" for i in range(10)}
        story: list[tuple[str, dict[str, Any]]] = [
            ("CREATED", {"data": dict(data), "caseVersion": 1}),
            ("SUBMITTED", {}),
        ]
        for n in range(events - 2):
            change = {f"item_{n % 10}": f"changed {n}"}
            data.update(change)
            story.append(("DATA_WRITTEN", {"changes": change, "caseVersion": n + 2}))
        previous = history.GENESIS
        for seq, (action, body) in enumerate(story, start=1):
            at = T0 + dt.timedelta(seconds=seq)
            entry = history.canonical(seq, at, "bench", action, body, 1)
            previous = history.chain(previous, entry)
            entries.append(
                {
                    "case_id": case_id,
                    "seq": seq,
                    "at": at,
                    "actor": "bench",
                    "action": action,
                    "data": body,
                    "metadata_version": 1,
                    "hash": previous,
                }
            )
        cases.append(
            {
                "id": case_id,
                "number": f"B{case_id:012d}",
                "business_type_id": 1,
                "business_type_version": 1,
                "status": "IN_PROGRESS",
                "org_unit_id": 1,
                "priority": 0,
                "data": data,
                "created_by": "bench",
                "created_at": T0,
                "updated_at": T0,
                "submitted_at": T0 + dt.timedelta(seconds=2),
                "version": max(events - 1, 1),
                "history_length": len(story),
                "history_head": previous,
                "history_mac": history.seal(KEYS.current, case_id, len(story), previous),
                "history_key_id": KEYS.current.id,
            }
        )
    return cases, entries


async def fill(db: Database, cases: int, events: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            insert(OrgUnitRow).values(id=1, code="root", name="root", path="/root/", updated_at=T0)
        )
        await session.execute(
            insert(BusinessTypeRow).values(
                id=1,
                code="bench",
                name="bench",
                group="NEW",
                status="PUBLISHED",
                draft={},
                draft_updated_at=T0,
                created_at=T0,
            )
        )
    for first in range(1, cases + 1, CHUNK):
        rows, entries = case_rows(first, min(CHUNK, cases - first + 1), events)
        async with db.transaction() as session:
            await session.execute(insert(CaseRow), rows)
            await session.execute(insert(CaseEventRow), entries)


async def check(db: Database, batch: int) -> tuple[int, int, float, int]:
    process = psutil.Process()
    highest = process.memory_info().rss
    checked = broken = 0
    started = time.perf_counter()
    async for found in history_repo.verify_all(db, batch=batch):
        checked += 1
        broken += not found.verdict.valid
        if checked % batch == 0:
            highest = max(highest, process.memory_info().rss)
    return checked, broken, time.perf_counter() - started, highest


async def run(url: str, cases: int, events: int, batch: int) -> None:
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url, history_keys=KEYS)
    try:
        started = time.perf_counter()
        await fill(db, cases, events)
        print(f"filled {cases} cases x {events} events in {time.perf_counter() - started:.1f} s")
        await db.dispose()  # start the check with an empty pool, as a fresh command does
        before = psutil.Process().memory_info().rss
        checked, broken, seconds, highest = await check(db, batch)
        print(
            f"checked {checked} cases ({broken} broken) in {seconds:.1f} s: "
            f"{checked / seconds:.0f} cases/s"
        )
        print(
            f"resident memory: {before / 2**20:.0f} MiB before, "
            f"{highest / 2**20:.0f} MiB at most during the check"
        )
    finally:
        await db.dispose()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    admin = os.environ.get("YEKUO_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=12)
    parser.add_argument("--batch", type=int, default=history_repo.BATCH)
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    if not args.postgresql:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            asyncio.run(run(url, args.cases, args.events, args.batch))
        return
    name = f"yekuo_bench_{uuid.uuid4().hex[:8]}"
    admin = os.environ.get("YEKUO_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
        asyncio.run(run(url, args.cases, args.events, args.batch))
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
