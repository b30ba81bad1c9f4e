"""Calendar overrides on both databases: upsert, read back (all or by year), delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import cast

import pytest
from sqlalchemy import Table, delete, inspect, select
from sqlalchemy.engine import Connection

from casework.calendar import CalendarDay, WorkCalendar
from database.calendar_repo import NOTE_MAX_LENGTH, delete_days, get_overrides, set_days
from database.metadata_tables import CalendarDayRow
from database.session import Database

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
TABLE = cast(Table, CalendarDayRow.__table__)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="module")
async def calendar_table(database: Database) -> AsyncIterator[None]:
    """The `calendar_day` table until the migrations create it (then this does nothing).

    A table made here is dropped again, so the alembic check of test_migrations stays clean.
    """

    def create(connection: Connection) -> bool:
        if inspect(connection).has_table(TABLE.name):
            return False
        TABLE.create(connection)
        return True

    async with database.engine.begin() as connection:
        created = await connection.run_sync(create)
    yield
    if created:
        async with database.engine.begin() as connection:
            await connection.run_sync(TABLE.drop)


@pytest.fixture
async def cdb(db: Database, calendar_table: None) -> AsyncIterator[Database]:
    """The database with the calendar table, emptied of overrides after the test."""
    yield db
    async with db.transaction() as session:
        await session.execute(delete(CalendarDayRow))


async def test_no_overrides_at_first(cdb: Database) -> None:
    async with cdb.read() as session:
        assert await get_overrides(session) == {}
        assert await get_overrides(session, years=[2026]) == {}


async def test_set_and_get(cdb: Database) -> None:
    async with cdb.transaction() as session:
        await set_days(
            session,
            [
                (d("2026-10-10"), False, "调休取消"),
                (d("2026-10-01"), True, None),
                (d("2027-02-20"), True, "2027年通知"),
            ],
            now=NOW,
        )
    async with cdb.read() as session:
        overrides = await get_overrides(session)
    assert overrides == {
        d("2026-10-01"): (True, None),
        d("2026-10-10"): (False, "调休取消"),
        d("2027-02-20"): (True, "2027年通知"),
    }
    assert list(overrides) == sorted(overrides)  # in date order


async def test_set_replaces_and_stamps(cdb: Database) -> None:
    async with cdb.transaction() as session:
        await set_days(session, [(d("2026-10-10"), False, "调休取消")], now=NOW)
    async with cdb.transaction() as session:
        await set_days(
            session, [(d("2026-10-10"), True, "恢复"), (d("2026-10-11"), True, None)], now=LATER
        )
    async with cdb.read() as session:
        assert await get_overrides(session) == {
            d("2026-10-10"): (True, "恢复"),
            d("2026-10-11"): (True, None),
        }
        stamps = dict((await session.execute(select(TABLE.c.date, TABLE.c.updated_at))).all())
    assert stamps == {d("2026-10-10"): LATER, d("2026-10-11"): LATER}
    assert all(stamp.tzinfo is not None for stamp in stamps.values())


async def test_the_last_entry_for_a_date_wins(cdb: Database) -> None:
    async with cdb.transaction() as session:
        await set_days(
            session,
            [(d("2026-05-09"), False, "first"), (d("2026-05-09"), True, "second")],
            now=NOW,
        )
    async with cdb.read() as session:
        assert await get_overrides(session) == {d("2026-05-09"): (True, "second")}


async def test_an_empty_note_is_none_and_the_longest_fits(cdb: Database) -> None:
    longest = "节" * NOTE_MAX_LENGTH
    async with cdb.transaction() as session:
        await set_days(
            session, [(d("2026-01-04"), False, ""), (d("2026-01-05"), False, longest)], now=NOW
        )
    async with cdb.read() as session:
        assert await get_overrides(session) == {
            d("2026-01-04"): (False, None),
            d("2026-01-05"): (False, longest),
        }


@pytest.mark.parametrize(
    ("years", "expected"),
    [
        ([2026], ["2026-01-01", "2026-12-31"]),
        ([2025, 2027], ["2025-12-31", "2027-01-01"]),
        ([2025, 2026], ["2025-12-31", "2026-01-01", "2026-12-31"]),
        (range(2024, 2029), ["2025-12-31", "2026-01-01", "2026-12-31", "2027-01-01"]),
        ([2030], []),
        ([], []),
        (None, ["2025-12-31", "2026-01-01", "2026-12-31", "2027-01-01"]),
    ],
)
async def test_get_by_years(cdb: Database, years: list[int] | None, expected: list[str]) -> None:
    days = ["2025-12-31", "2026-01-01", "2026-12-31", "2027-01-01"]
    async with cdb.transaction() as session:
        await set_days(session, [(d(day), True, None) for day in days], now=NOW)
    async with cdb.read() as session:
        assert list(await get_overrides(session, years=years)) == [d(day) for day in expected]


async def test_many_days_at_once(cdb: Database) -> None:
    first = d("2026-01-01")
    days = [(first + dt.timedelta(days=n), n % 3 == 0, f"n{n}") for n in range(1200)]
    async with cdb.transaction() as session:
        await set_days(session, days, now=NOW)
    async with cdb.transaction() as session:
        await set_days(
            session, [(day, not workday, note) for day, workday, note in days], now=LATER
        )
    async with cdb.read() as session:
        overrides = await get_overrides(session)
        assert len(await get_overrides(session, years=[2027])) == 365
    assert overrides == {day: (not workday, note) for day, workday, note in days}


async def test_delete_days(cdb: Database) -> None:
    async with cdb.transaction() as session:
        await set_days(
            session, [(d("2026-10-10"), False, None), (d("2026-10-11"), True, None)], now=NOW
        )
    async with cdb.transaction() as session:
        assert await delete_days(session, [d("2026-10-10"), d("2026-10-12")]) == 1
        assert await delete_days(session, []) == 0
    async with cdb.read() as session:
        assert await get_overrides(session) == {d("2026-10-11"): (True, None)}


async def test_overrides_feed_the_calendar(cdb: Database) -> None:
    async with cdb.transaction() as session:
        await set_days(
            session,
            [(d("2026-10-10"), False, "调休取消"), (d("2026-10-01"), True, "值班")],
            now=NOW,
        )
    async with cdb.read() as session:
        calendar = WorkCalendar(await get_overrides(session, years=[2026]))
    assert calendar.is_workday(d("2026-10-01")) is True
    assert calendar.is_workday(d("2026-10-10")) is False
    assert calendar.days(2026)[d("2026-10-10").timetuple().tm_yday - 1] == CalendarDay(
        d("2026-10-10"), False, "调休取消", True
    )


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ((dt.datetime(2026, 1, 1, tzinfo=dt.UTC), True, None), TypeError),
        (("2026-01-01", True, None), TypeError),
        ((d("2026-01-01"), 1, None), TypeError),
        ((d("2026-01-01"), True, "x" * (NOTE_MAX_LENGTH + 1)), ValueError),
    ],
    ids=["datetime", "string date", "int flag", "long note"],
)
async def test_malformed_entries_are_refused(
    cdb: Database, entry: tuple[dt.date, bool, str | None], error: type[Exception]
) -> None:
    async with cdb.transaction() as session:
        with pytest.raises(error):
            await set_days(session, [(d("2026-01-02"), True, None), entry], now=NOW)
    async with cdb.read() as session:
        assert await get_overrides(session) == {}  # nothing written


async def test_nothing_to_set_is_fine(cdb: Database) -> None:
    async with cdb.transaction() as session:
        await set_days(session, [], now=NOW)
    async with cdb.read() as session:
        assert await get_overrides(session) == {}
