"""Case statistics in SQL: working days against the engine's calendar, and the plan that keeps
them cheap. The API tests (tests/api/test_case_statistics.py) check groups, scope and totals."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import true

from casework.calendar import WorkCalendar
from database import case_statistics
from database.case_reads import CaseScope
from database.case_tables import CaseRow
from database.metadata_tables import BusinessTypeRow, OrgUnitRow
from database.session import Database
from database.tables import Base
from metamodel.filters import Compare, Op, SystemField
from metamodel.specs import TimeUnit

UTC = dt.UTC
CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 1, tzinfo=UTC)
OVERRIDES = {dt.date(2026, 10, 9): False, dt.date(2026, 10, 3): True, dt.date(2026, 9, 23): False}
"""A Friday off, a Saturday of the National Day week worked, a Wednesday off."""
CALENDAR = WorkCalendar(OVERRIDES)


def _instants(rng: random.Random, count: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """Pairs around the 2026 National Day holiday (with its make-up Sundays and Saturdays),
    many of them on or next to local midnight, where a day starts counting."""
    base = dt.datetime(2026, 9, 15, tzinfo=CST)
    edges = [dt.timedelta(0), dt.timedelta(seconds=-1), dt.timedelta(seconds=1)]
    pairs = []
    for _ in range(count):
        start = base + dt.timedelta(days=rng.randrange(30))
        end = start + dt.timedelta(days=rng.randrange(25))
        if rng.random() < 0.5:
            start += rng.choice(edges)
            end += rng.choice(edges)
        else:
            start += dt.timedelta(seconds=rng.randrange(86_400))
            end += dt.timedelta(seconds=rng.randrange(86_400))
        pairs.append((start, max(start, end)))
    return pairs


async def _seed(db: Database, pairs: list[tuple[dt.datetime, dt.datetime]]) -> list[int]:
    """One completed case per pair (submitted, completed)."""
    async with db.transaction() as session:
        unit = OrgUnitRow(code="county", name="县", path="/county/", updated_at=NOW)
        kind = BusinessTypeRow(
            code="hv_new",
            name="高压新装",
            group="NEW",
            status="PUBLISHED",
            draft={},
            draft_updated_at=NOW,
            latest_version=1,
            created_at=NOW,
        )
        session.add_all([unit, kind])
        await session.flush()
        rows = [
            CaseRow(
                number=f"2026090100{n:03d}",
                business_type_id=kind.id,
                business_type_version=1,
                status="COMPLETED",
                org_unit_id=unit.id,
                priority=0,
                data={},
                created_by="tester",
                created_at=submitted,
                updated_at=completed,
                submitted_at=submitted,
                completed_at=completed,
            )
            for n, (submitted, completed) in enumerate(pairs)
        ]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


async def test_working_days_are_the_calendars_business_time(db: Database) -> None:
    pairs = _instants(random.Random(7), 40)
    ids = await _seed(db, pairs)
    async with db.read() as session:
        for case_id, (submitted, completed) in zip(ids, pairs, strict=True):
            [group] = await case_statistics.case_groups(
                session,
                Compare(SystemField.ID, Op.EQ, case_id),
                CaseScope(everything=True),
                [],
                now=NOW,
                calendar=CALENDAR,
            )
            expected = CALENDAR.business_seconds(submitted, completed, TimeUnit.WORKING_DAYS)
            assert group.avg_working_seconds == expected, (submitted, completed)
        [everything] = await case_statistics.case_groups(
            session,
            Compare(SystemField.ID, Op.IN, ids),
            CaseScope(everything=True),
            [],
            now=NOW,
            calendar=CALENDAR,
        )
    mean = sum(CALENDAR.business_seconds(s, c, TimeUnit.WORKING_DAYS) for s, c in pairs) / len(
        pairs
    )
    assert everything.avg_working_seconds == pytest.approx(mean, abs=1e-6)
    assert everything.avg_working_days == pytest.approx(mean / 86_400, abs=1e-9)


def test_the_flags_follow_the_library_and_the_overrides() -> None:
    days = case_statistics.working_days(
        CALENDAR, dt.datetime(2026, 9, 30, 17, 0, tzinfo=UTC), dt.datetime(2026, 10, 9, tzinfo=UTC)
    )
    # From Thursday 10-01 01:00 in Beijing to 10-09 08:00, and one day more: the holiday week
    # with Saturday 10-03 worked (override), Thursday 10-08, Friday 10-09 off (override) and
    # Saturday 10-10 worked (the library's make-up day).
    assert days.origin == dt.datetime(2026, 10, 1, tzinfo=CST)
    assert days.flags == "0010000" + "101"
    with pytest.raises(case_statistics.TooBroad):
        case_statistics.working_days(
            CALENDAR, NOW - dt.timedelta(days=case_statistics.MAX_WORKING_DAY_SPAN), NOW
        )


async def test_sqlite_looks_the_days_up_by_index() -> None:
    """Without an index on the day table SQLite scans it per case (100,000 cases: 265 s)."""
    db = Database("sqlite+aiosqlite:///:memory:")
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        days = case_statistics.working_days(CALENDAR, NOW - dt.timedelta(days=400), NOW)
        statement = case_statistics.groups_statement(
            true(), [], dialect="sqlite", now=NOW, days=days
        )
        sql = str(
            statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
        )
        async with db.engine.connect() as connection:
            rows = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")).all()
        plan = [str(row[-1]) for row in rows]
        for alias in ("stat_submitted", "stat_completed"):
            [step] = [p for p in plan if alias in p]
            assert "INDEX" in step, plan
    finally:
        await db.dispose()
