"""The deadline sweep on rows: what falls due is recorded once, whatever else runs meanwhile.

Concurrent sweepers run on both databases (SQLite queues its writers, PostgreSQL skips a case
another sweeper holds); leaving a case that a command has locked needs PostgreSQL's row locks
(`FOR UPDATE SKIP LOCKED`) and skips on SQLite.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, select

from casework import history
from casework.model import Event
from database import case_reads, case_repo, deadline_repo
from database.case_tables import CaseEventRow, CaseRow, StageInstanceRow
from database.deadline_repo import SweepResult
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.session import Database
from service.sweep import sweep
from tests.conftest import backend

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)

postgres_only = pytest.mark.skipif(
    backend() != "postgresql", reason="row locks (SKIP LOCKED) need PostgreSQL"
)


@dataclass(frozen=True)
class Deadlines:
    """When a case's stage and the case itself warn and fall due (None: no limit running)."""

    stage_warn: dt.datetime | None = T0 + 8 * HOUR
    stage_due: dt.datetime | None = T0 + 10 * HOUR
    case_warn: dt.datetime | None = T0 + 40 * HOUR
    case_due: dt.datetime | None = T0 + 50 * HOUR
    status: str = "IN_PROGRESS"
    stage_status: str = "ACTIVE"


async def seed(db: Database, cases: list[Deadlines]) -> list[int]:
    """An org unit, a business type and one case per entry, each with one stage visit."""
    async with db.transaction() as session:
        unit = OrgUnitRow(code="root", name="总部", path="/root/", updated_at=T0)
        kind = BusinessTypeRow(
            code="t",
            name="t",
            group="NEW",
            status="PUBLISHED",
            draft={},
            draft_updated_at=T0,
            latest_version=1,
            created_at=T0,
        )
        session.add_all([unit, kind])
        await session.flush()
        ids = []
        for n, times in enumerate(cases):
            row = CaseRow(
                number=f"2026030200{n:03d}",
                business_type_id=kind.id,
                business_type_version=1,
                status=times.status,
                org_unit_id=unit.id,
                priority=0,
                data={},
                created_by="test",
                created_at=T0,
                updated_at=T0,
                submitted_at=T0,
                due_at=times.case_due,
                warn_at=times.case_warn,
                version=1,
            )
            session.add(row)
            await session.flush()
            session.add(
                StageInstanceRow(
                    case_id=row.id,
                    stage="accept",
                    status=times.stage_status,
                    entered_at=T0,
                    due_at=times.stage_due,
                    warn_at=times.stage_warn,
                    splits=[],
                    arrivals=0,
                )
            )
            await case_repo.append_events(
                session, row, [Event("CREATED", {})], actor="test", now=T0
            )
            ids.append(row.id)
    return ids


async def actions(db: Database, case_ids: list[int]) -> dict[int, list[str]]:
    async with db.read() as session:
        found = await case_reads.events(session, case_ids)
    return {i: [e.action for e in found[i]] for i in case_ids}


async def chain_intact(db: Database, case_ids: list[int]) -> bool:
    async with db.read() as session:
        found = await case_reads.events(session, case_ids)
    for rows in found.values():
        chained = [
            history.ChainedEvent(
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                action=r.action,
                data=r.data,
                metadata_version=r.metadata_version,
                hash=r.hash,
            )
            for r in rows
        ]
        if [e.seq for e in chained] != list(range(1, len(chained) + 1)):
            return False
        if history.first_broken(chained) is not None:
            return False
    return True


async def test_each_deadline_is_recorded_once(db: Database) -> None:
    on_time, warned, late = await seed(db, [Deadlines(), Deadlines(), Deadlines()])
    ids = [on_time, warned, late]
    async with db.transaction() as session:
        for row in await case_repo.stage_rows(session, warned):
            row.warn_at = T0 + HOUR
        for row in await case_repo.stage_rows(session, late):
            row.warn_at, row.due_at = T0 + HOUR, T0 + 2 * HOUR

    assert await sweep(db, now=T0) == SweepResult()
    found = await sweep(db, now=T0 + 3 * HOUR)
    assert found == SweepResult(stage_warnings=2, stage_breaches=1)
    assert await actions(db, ids) == {
        on_time: ["CREATED"],
        warned: ["CREATED", "STAGE_WARNING"],
        late: ["CREATED", "STAGE_WARNING", "STAGE_BREACHED"],
    }
    assert await sweep(db, now=T0 + 3 * HOUR) == SweepResult()

    # Much later everything has fallen due; what was recorded is not recorded again.
    found = await sweep(db, now=T0 + 100 * HOUR)
    assert found == SweepResult(
        stage_warnings=1, stage_breaches=2, case_warnings=3, case_breaches=3
    )
    assert await sweep(db, now=T0 + 200 * HOUR) == SweepResult()
    recorded = await actions(db, ids)
    for case_id in ids:
        assert Counter(recorded[case_id]) == {
            "CREATED": 1,
            "STAGE_WARNING": 1,
            "STAGE_BREACHED": 1,
            "CASE_WARNING": 1,
            "CASE_BREACHED": 1,
        }
    assert await chain_intact(db, ids)
    async with db.read() as session:
        sweep_events = (
            await session.scalars(
                select(CaseEventRow).where(CaseEventRow.actor == "sweep").order_by(CaseEventRow.id)
            )
        ).all()
        stamped = (await session.scalars(select(StageInstanceRow.warned_at))).all()
    assert len(sweep_events) == 12
    assert sweep_events[0].data["stage"] == "accept" and sweep_events[0].data["visit"] == 0
    assert all(t is not None for t in stamped)


async def test_only_running_clocks_of_open_cases_are_swept(db: Database) -> None:
    suspended, waiting, completed, running = await seed(
        db,
        [
            Deadlines(status="SUSPENDED"),
            Deadlines(stage_status="WAITING", case_warn=None, case_due=None),
            Deadlines(status="COMPLETED", stage_status="DONE"),
            Deadlines(),
        ],
    )
    found = await sweep(db, now=T0 + 100 * HOUR)
    assert found == SweepResult(
        stage_warnings=1, stage_breaches=1, case_warnings=1, case_breaches=1
    )
    recorded = await actions(db, [suspended, waiting, completed, running])
    assert recorded[suspended] == recorded[waiting] == recorded[completed] == ["CREATED"]
    assert len(recorded[running]) == 5


async def test_many_cases_are_swept_in_batches(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadline_repo, "BATCH", 3)
    ids = await seed(db, [Deadlines() for _ in range(8)])
    # The query for the next batch must not grow with the cases already swept: a list of
    # them as bound parameters fails past 32 767 (asyncpg's and SQLite's limit).
    sizes: list[int] = []

    def candidate_query(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().startswith("SELECT") and 'ORDER BY "case".id' in statement:
            sizes.append(len(parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", candidate_query)
    try:
        found = await sweep(db, now=T0 + 9 * HOUR)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", candidate_query)
    assert found == SweepResult(stage_warnings=8)
    assert all(a == ["CREATED", "STAGE_WARNING"] for a in (await actions(db, ids)).values())
    assert len(sizes) == 4 and len(set(sizes)) == 1, sizes  # batches of 3, 3, 2, then none


CONCURRENT_CASES = 30


@pytest.fixture
async def second_database(db: Database) -> AsyncIterator[Database]:
    """Another engine on the same database, as a sweeper on another node would have."""
    other = Database(db.url, history_keys=db.history_keys)
    yield other
    await other.dispose()


async def test_concurrent_sweeps_record_each_warning_exactly_once(
    db: Database, second_database: Database
) -> None:
    ids = await seed(db, [Deadlines() for _ in range(CONCURRENT_CASES)])
    third = Database(db.url, history_keys=db.history_keys)
    try:
        for when in (T0 + 9 * HOUR, T0 + 11 * HOUR, T0 + 45 * HOUR, T0 + 60 * HOUR):
            results = await asyncio.gather(
                sweep(db, now=when), sweep(second_database, now=when), sweep(third, now=when)
            )
            total = Counter[str]()
            for result in results:
                total.update(vars(result))
            expected = {
                T0 + 9 * HOUR: "stage_warnings",
                T0 + 11 * HOUR: "stage_breaches",
                T0 + 45 * HOUR: "case_warnings",
                T0 + 60 * HOUR: "case_breaches",
            }[when]
            assert +total == {expected: CONCURRENT_CASES}, results
    finally:
        await third.dispose()
    recorded = await actions(db, ids)
    for case_id in ids:
        assert recorded[case_id] == [
            "CREATED",
            "STAGE_WARNING",
            "STAGE_BREACHED",
            "CASE_WARNING",
            "CASE_BREACHED",
        ]
    assert await chain_intact(db, ids)


@postgres_only
@pytest.mark.postgres
async def test_a_case_locked_elsewhere_is_left_for_the_next_run(
    db: Database, second_database: Database
) -> None:
    busy, free = await seed(db, [Deadlines(), Deadlines()])
    when = T0 + 9 * HOUR
    async with second_database.transaction() as session:
        await case_repo.get(session, busy, lock=True)  # a command is working on it
        found = await asyncio.wait_for(sweep(db, now=when), timeout=10)
        assert found == SweepResult(stage_warnings=1)
    assert await actions(db, [busy, free]) == {
        busy: ["CREATED"],
        free: ["CREATED", "STAGE_WARNING"],
    }
    assert await sweep(db, now=when) == SweepResult(stage_warnings=1)
    assert (await actions(db, [busy]))[busy] == ["CREATED", "STAGE_WARNING"]
