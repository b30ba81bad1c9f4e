"""Working days and due dates against the official 2026 schedule (国办发明电〔2025〕7号).

2026: 元旦 Jan 1–3 off, Sun Jan 4 worked; 春节 Feb 15–23 off, Sat Feb 14 and Sat Feb 28 worked;
清明 Apr 4–6; 劳动节 May 1–5 off, Sat May 9 worked; 端午 Jun 19–21; 中秋 Sep 25–27;
国庆 Oct 1–7 off, Sun Sep 20 and Sat Oct 10 worked.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.calendar import (
    MAKE_UP_WORKDAY_NOTE,
    WORKING_WINDOWS,
    CalendarDay,
    WorkCalendar,
    limit_seconds,
)
from metamodel.specs import TimeLimit, TimeUnit

CST = dt.timezone(dt.timedelta(hours=8), "CST")
UTC = dt.UTC
WD = TimeUnit.WORKING_DAYS
WH = TimeUnit.WORKING_HOURS
CD = TimeUnit.CALENDAR_DAYS
CALENDAR = WorkCalendar()
PROPERTY = settings(deadline=None, max_examples=200)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def at(text: str) -> dt.datetime:
    """A local (Asia/Shanghai) wall-clock time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


# --- which days are working days --------------------------------------------------------


OFFICIAL_2026: list[tuple[str, bool]] = [
    # 元旦
    ("2026-01-01", False),  # Thu, New Year's Day
    ("2026-01-02", False),  # Fri, moved from Sun Jan 4
    ("2026-01-03", False),  # Sat
    ("2026-01-04", True),  # Sun, make-up working day
    ("2026-01-05", True),  # Mon
    # 春节
    ("2026-02-13", True),  # Fri
    ("2026-02-14", True),  # Sat, make-up working day
    *((f"2026-02-{day}", False) for day in range(15, 24)),  # Sun Feb 15 .. Mon Feb 23
    ("2026-02-24", True),  # Tue
    ("2026-02-28", True),  # Sat, make-up working day
    ("2026-03-01", False),  # Sun
    # 清明
    ("2026-04-03", True),
    ("2026-04-04", False),
    ("2026-04-05", False),
    ("2026-04-06", False),  # Mon
    ("2026-04-07", True),
    # 劳动节
    *((f"2026-05-0{day}", False) for day in range(1, 6)),  # Fri May 1 .. Tue May 5
    ("2026-05-06", True),
    ("2026-05-09", True),  # Sat, make-up working day
    ("2026-05-10", False),
    # 端午
    ("2026-06-18", True),
    ("2026-06-19", False),  # Fri
    ("2026-06-22", True),
    # 中秋 and 国庆
    ("2026-09-20", True),  # Sun, make-up working day
    ("2026-09-24", True),
    ("2026-09-25", False),  # Fri, Mid-Autumn
    ("2026-09-28", True),
    ("2026-09-30", True),
    *((f"2026-10-0{day}", False) for day in range(1, 8)),  # Thu Oct 1 .. Wed Oct 7
    ("2026-10-08", True),  # Thu
    ("2026-10-09", True),  # Fri
    ("2026-10-10", True),  # Sat, make-up working day
    ("2026-10-11", False),  # Sun
    ("2026-10-12", True),
    # ordinary weeks
    ("2026-03-09", True),  # Mon
    ("2026-03-13", True),  # Fri
    ("2026-03-14", False),  # Sat
    ("2026-03-15", False),  # Sun
]


@pytest.mark.parametrize(("day", "workday"), OFFICIAL_2026)
def test_official_2026_schedule(day: str, workday: bool) -> None:
    assert CALENDAR.is_workday(d(day)) is workday


def test_2026_has_the_official_number_of_working_days() -> None:
    # 365 days - 104 weekend days - 19 weekdays off (2 + 6 + 1 + 3 + 1 + 1 + 5) + 6 make-up days.
    days = CALENDAR.days(2026)
    assert len(days) == 365
    assert [day.date for day in days] == sorted(day.date for day in days)
    assert sum(day.workday for day in days) == 248
    make_up = [day.date for day in days if day.workday and day.date.weekday() >= 5]
    assert make_up == [
        d("2026-01-04"),
        d("2026-02-14"),
        d("2026-02-28"),
        d("2026-05-09"),
        d("2026-09-20"),
        d("2026-10-10"),
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-01-01", CalendarDay(d("2026-01-01"), False, "元旦", False)),
        ("2026-02-17", CalendarDay(d("2026-02-17"), False, "春节", False)),
        ("2026-02-16", CalendarDay(d("2026-02-16"), False, "农历除夕", False)),
        ("2026-10-01", CalendarDay(d("2026-10-01"), False, "国庆节", False)),
        ("2026-10-07", CalendarDay(d("2026-10-07"), False, "休息日（由 2026-10-10 调休）", False)),
        ("2026-10-10", CalendarDay(d("2026-10-10"), True, MAKE_UP_WORKDAY_NOTE, False)),
        ("2026-03-14", CalendarDay(d("2026-03-14"), False, None, False)),
        ("2026-03-16", CalendarDay(d("2026-03-16"), True, None, False)),
    ],
)
def test_days_carry_the_library_notes(day: str, expected: CalendarDay) -> None:
    assert CALENDAR.day(d(day)) == expected
    assert CALENDAR.days(2026)[d(day).timetuple().tm_yday - 1] == expected


def test_a_leap_year_has_366_days() -> None:
    assert len(CALENDAR.days(2028)) == 366


def test_estimated_years_are_served() -> None:
    # 2027 has no notice in the library yet: statutory days off, no make-up weekends.
    assert CALENDAR.is_workday(d("2027-01-01")) is False  # Fri, New Year's Day
    assert CALENDAR.is_workday(d("2027-10-01")) is False
    assert not any(day.workday and day.date.weekday() >= 5 for day in CALENDAR.days(2027))
    # After 2100 the library has nothing: Monday to Friday only.
    assert CALENDAR.is_workday(d("2101-01-01")) is False  # Saturday
    assert CALENDAR.is_workday(d("2101-01-03")) is True  # Monday, no New Year holiday known
    assert sum(day.workday for day in CALENDAR.days(2101)) == 260  # 365 - 105 weekend days


OVERRIDES: dict[dt.date, bool | tuple[bool, str | None]] = {
    d("2026-10-01"): True,  # a holiday made a working day
    d("2026-10-10"): (False, "调休取消"),  # a make-up Saturday made a day off
    d("2026-03-11"): (False, "抗灾停工"),  # an ordinary Wednesday made a day off
    d("2026-03-14"): (True, None),  # an ordinary Saturday made a working day
    d("2027-02-20"): (True, "2027 notice"),  # correcting an estimated year
}


@pytest.mark.parametrize(
    ("day", "library", "override", "note"),
    [
        ("2026-10-01", False, True, None),
        ("2026-10-10", True, False, "调休取消"),
        ("2026-03-11", True, False, "抗灾停工"),
        ("2026-03-14", False, True, None),
        ("2027-02-20", False, True, "2027 notice"),
    ],
)
def test_overrides_beat_the_library_both_ways(
    day: str, library: bool, override: bool, note: str | None
) -> None:
    calendar = WorkCalendar(OVERRIDES)
    assert CALENDAR.is_workday(d(day)) is library
    assert calendar.is_workday(d(day)) is override
    assert calendar.day(d(day)) == CalendarDay(d(day), override, note, True)
    assert calendar.days(d(day).year)[d(day).timetuple().tm_yday - 1].overridden


def test_overrides_leave_other_days_alone() -> None:
    calendar = WorkCalendar(OVERRIDES)
    changed = {
        day.date for day in calendar.days(2026) if day != CALENDAR.day(day.date) or day.overridden
    }
    assert changed == {day for day in OVERRIDES if day.year == 2026}


def test_overrides_move_due_dates() -> None:
    # Entered Wed 2026-09-30 10:00 with 1 WD: due Thu Oct 8 10:00, unless Oct 1 is worked.
    assert CALENDAR.due(at("2026-09-30T10:00"), TimeLimit(1, WD)) == at("2026-10-08T10:00")
    calendar = WorkCalendar({d("2026-10-01"): True})
    assert calendar.due(at("2026-09-30T10:00"), TimeLimit(1, WD)) == at("2026-10-01T10:00")


@pytest.mark.parametrize(
    "bad",
    [
        {dt.datetime(2026, 1, 1, tzinfo=UTC): True},
        {"2026-01-01": True},
        {d("2026-01-01"): 1},
        {d("2026-01-01"): ("yes", None)},
    ],
)
def test_malformed_overrides_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        WorkCalendar(bad)  # type: ignore[arg-type]


def test_is_workday_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        CALENDAR.is_workday(dt.datetime(2026, 1, 5, tzinfo=UTC))


# --- due dates -----------------------------------------------------------------------------


DUE: list[tuple[str, str, int, TimeUnit, str]] = [
    # WORKING_DAYS: all 24 hours of working days.
    ("Friday 15:00 + 1 WD -> Monday 15:00", "2026-03-13T15:00", 1, WD, "2026-03-16T15:00"),
    ("Monday 00:00 + 1 WD -> Tuesday 00:00", "2026-03-09T00:00", 1, WD, "2026-03-10T00:00"),
    ("Saturday 10:00 + 1 WD -> end of Monday", "2026-03-14T10:00", 1, WD, "2026-03-17T00:00"),
    ("holiday 10:00 + 1 WD -> end of next WD", "2026-10-02T10:00", 1, WD, "2026-10-09T00:00"),
    ("2026-01-01 10:00 + 1 WD -> end of Jan 4", "2026-01-01T10:00", 1, WD, "2026-01-05T00:00"),
    ("Sep 30 10:00 + 3 WD -> Oct 10 10:00", "2026-09-30T10:00", 3, WD, "2026-10-10T10:00"),
    ("Sep 30 10:00 + 4 WD -> Oct 12 10:00", "2026-09-30T10:00", 4, WD, "2026-10-12T10:00"),
    ("Feb 13 09:00 + 1 WD -> Feb 14 09:00", "2026-02-13T09:00", 1, WD, "2026-02-14T09:00"),
    ("Feb 13 09:00 + 2 WD -> Feb 24 09:00", "2026-02-13T09:00", 2, WD, "2026-02-24T09:00"),
    ("Wed 09:00 + 5 WD -> next Wed 09:00", "2026-03-11T09:00", 5, WD, "2026-03-18T09:00"),
    ("Wed 09:00 + 15 WD -> three weeks on", "2026-03-11T09:00", 15, WD, "2026-04-01T09:00"),
    ("Wed 09:00 + 20 WD over 清明", "2026-03-11T09:00", 20, WD, "2026-04-09T09:00"),
    # WORKING_HOURS: 09:00-12:00 and 13:00-18:00 of working days.
    ("17:00 + 2 WH -> next WD 10:00", "2026-03-10T17:00", 2, WH, "2026-03-11T10:00"),
    ("Fri 17:00 + 2 WH -> Mon 10:00", "2026-03-13T17:00", 2, WH, "2026-03-16T10:00"),
    ("11:00 + 2 WH across lunch -> 14:00", "2026-03-10T11:00", 2, WH, "2026-03-10T14:00"),
    ("12:30 (lunch) + 1 WH -> 14:00", "2026-03-10T12:30", 1, WH, "2026-03-10T14:00"),
    ("07:00 + 1 WH -> 10:00", "2026-03-10T07:00", 1, WH, "2026-03-10T10:00"),
    ("16:00 + 2 WH -> 18:00 the same day", "2026-03-10T16:00", 2, WH, "2026-03-10T18:00"),
    ("20:00 + 8 WH -> 18:00 next day", "2026-03-10T20:00", 8, WH, "2026-03-11T18:00"),
    ("09:00 + 8 WH -> 18:00", "2026-03-10T09:00", 8, WH, "2026-03-10T18:00"),
    ("09:00 + 9 WH -> next day 10:00", "2026-03-10T09:00", 9, WH, "2026-03-11T10:00"),
    ("Sep 30 17:00 + 2 WH -> Oct 8 10:00", "2026-09-30T17:00", 2, WH, "2026-10-08T10:00"),
    ("Oct 9 17:30 + 4 WH -> Sat Oct 10 13:30", "2026-10-09T17:30", 4, WH, "2026-10-10T13:30"),
    # CALENDAR_DAYS: all time.
    ("Fri 15:00 + 1 CD -> Sat 15:00", "2026-03-13T15:00", 1, CD, "2026-03-14T15:00"),
    ("Sep 30 10:00 + 3 CD -> Oct 3 10:00", "2026-09-30T10:00", 3, CD, "2026-10-03T10:00"),
    ("Dec 31 23:00 + 1 CD -> Jan 1 23:00", "2026-12-31T23:00", 1, CD, "2027-01-01T23:00"),
    # Zero limits: the start itself, in or out of business time.
    ("zero WD on a holiday", "2026-10-02T10:00", 0, WD, "2026-10-02T10:00"),
    ("zero WH at night", "2026-03-10T22:00", 0, WH, "2026-03-10T22:00"),
    ("zero CD", "2026-03-10T22:00", 0, CD, "2026-03-10T22:00"),
]


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [case[1:] for case in DUE],
    ids=[case[0] for case in DUE],
)
def test_due(start: str, amount: int, unit: TimeUnit, expected: str) -> None:
    due = CALENDAR.due(at(start), TimeLimit(amount, unit))
    assert due == at(expected)
    assert due.tzinfo is UTC
    assert CALENDAR.business_seconds(at(start), due, unit) == limit_seconds(TimeLimit(amount, unit))


def test_due_accepts_any_zone_and_returns_utc() -> None:
    start = dt.datetime(2026, 3, 13, 7, 0, tzinfo=UTC)  # Friday 15:00 in Shanghai
    due = CALENDAR.due(start, TimeLimit(1, WD))
    assert due == dt.datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_days_are_shanghai_dates_not_utc_dates() -> None:
    # Sunday 2026-03-15 20:00 UTC is already Monday 04:00 in Shanghai, a working day.
    start = dt.datetime(2026, 3, 15, 20, 0, tzinfo=UTC)
    assert CALENDAR.local_date(start) == d("2026-03-16")
    assert CALENDAR.due(start, TimeLimit(1, WD)) == at("2026-03-17T04:00")


def test_another_zone_moves_the_day_boundaries() -> None:
    utc_calendar = WorkCalendar(zone="UTC")
    start = dt.datetime(2026, 3, 13, 15, 0, tzinfo=UTC)
    assert utc_calendar.due(start, TimeLimit(1, WD)) == dt.datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
    assert utc_calendar.zone.key == "UTC"


@pytest.mark.parametrize(
    ("start", "end", "unit", "expected"),
    [
        ("2026-03-13T15:00", "2026-03-16T15:00", WD, 86_400),
        ("2026-03-13T15:00", "2026-03-16T15:00", CD, 3 * 86_400),
        ("2026-03-13T15:00", "2026-03-16T15:00", WH, 8 * 3600),
        ("2026-03-10T11:30", "2026-03-10T13:30", WH, 3600),  # lunch does not count
        ("2026-03-10T18:00", "2026-03-11T09:00", WH, 0),  # the night does not count
        ("2026-03-14T00:00", "2026-03-16T00:00", WD, 0),  # a weekend does not count
        ("2026-10-01T00:00", "2026-10-08T00:00", WD, 0),  # National Day does not count
        ("2026-10-01T00:00", "2026-10-08T00:00", WH, 0),
        ("2026-10-01T00:00", "2026-10-08T00:00", CD, 7 * 86_400),
        ("2026-03-10T10:00", "2026-03-10T10:00", WD, 0),  # empty
        ("2026-03-11T10:00", "2026-03-10T10:00", WD, 0),  # reversed
        ("2026-03-11T10:00", "2026-03-10T10:00", CD, 0),
        ("2026-01-01T00:00", "2027-01-01T00:00", WD, 248 * 86_400),  # the whole year
        ("2026-01-01T00:00", "2027-01-01T00:00", WH, 248 * 8 * 3600),
    ],
)
def test_business_seconds(start: str, end: str, unit: TimeUnit, expected: int) -> None:
    assert CALENDAR.business_seconds(at(start), at(end), unit) == expected


def test_business_seconds_drops_fractions() -> None:
    start = at("2026-03-10T10:00")
    assert CALENDAR.business_seconds(start, start + dt.timedelta(microseconds=999_999), WD) == 0
    assert CALENDAR.business_seconds(start, start + dt.timedelta(seconds=1.5), WH) == 1


@pytest.mark.parametrize(
    ("limit", "seconds"),
    [
        (TimeLimit(0, WD), 0),
        (TimeLimit(1, WD), 86_400),
        (TimeLimit(15, WD), 15 * 86_400),
        (TimeLimit(3, CD), 3 * 86_400),
        (TimeLimit(2, WH), 7200),
        (TimeLimit(10_000, WD), 864_000_000),
    ],
)
def test_limit_seconds(limit: TimeLimit, seconds: int) -> None:
    assert limit_seconds(limit) == seconds


def test_working_windows_make_eight_hours() -> None:
    total = sum(
        (dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)).seconds
        for a, b in WORKING_WINDOWS
    )
    assert total == 8 * 3600


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: limit_seconds(TimeLimit(-1, WD)), ValueError),
        (lambda: CALENDAR.advance(at("2026-03-10T10:00"), -1, WD), ValueError),
        (lambda: CALENDAR.advance(dt.datetime(2026, 3, 10, 10), 1, WD), ValueError),
        (lambda: CALENDAR.due(dt.datetime(2026, 3, 10, 10), TimeLimit(1, CD)), ValueError),
        (
            lambda: CALENDAR.business_seconds(at("2026-03-10T10:00"), dt.datetime(2026, 3, 11), WD),
            ValueError,
        ),
    ],
    ids=["negative limit", "negative advance", "naive advance", "naive due", "naive end"],
)
def test_bad_arguments_are_refused(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]


def test_hundreds_of_working_days_are_cheap() -> None:
    began = time.perf_counter()
    start = at("2026-01-05T09:00")  # Monday, the first working day of the count
    by_days = CALENDAR.due(start, TimeLimit(600, WD))
    by_hours = CALENDAR.due(start, TimeLimit(600 * 8, WH))
    assert CALENDAR.business_seconds(start, by_days, WD) == 600 * 86_400
    assert CALENDAR.business_seconds(start, by_hours, WH) == 600 * 8 * 3600
    # 600 WD run to 09:00 of the 601st working day; 4800 WH to 18:00 of the 600th.
    assert by_days.astimezone(CST).time() == dt.time(9, 0)
    assert by_hours.astimezone(CST).time() == dt.time(18, 0)
    assert CALENDAR.business_seconds(start, by_hours, WD) == 599 * 86_400 + 9 * 3600
    assert time.perf_counter() - began < 2  # generous: it takes milliseconds


# --- properties ----------------------------------------------------------------------------

INSTANTS = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),
    max_value=dt.datetime(2029, 12, 31),
    timezones=st.sampled_from([UTC, CST, dt.timezone(dt.timedelta(hours=-5))]),
)
WHOLE_SECOND_INSTANTS = INSTANTS.map(lambda t: t.replace(microsecond=0))
UNITS = st.sampled_from(list(TimeUnit))
SECONDS = st.one_of(
    st.integers(min_value=0, max_value=3 * 86_400),
    st.integers(min_value=0, max_value=300 * 86_400),
)
SOME_OVERRIDES = st.dictionaries(
    st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31)),
    st.booleans(),
    max_size=30,
)


@PROPERTY
@given(start=INSTANTS, seconds=SECONDS, unit=UNITS, overrides=SOME_OVERRIDES)
def test_business_seconds_inverts_advance(
    start: dt.datetime, seconds: int, unit: TimeUnit, overrides: dict[dt.date, bool]
) -> None:
    calendar = WorkCalendar(overrides)
    due = calendar.advance(start, seconds, unit)
    assert due >= start
    assert due.tzinfo is UTC
    assert calendar.business_seconds(start, due, unit) == seconds


@PROPERTY
@given(start=INSTANTS, seconds=st.integers(min_value=1, max_value=100 * 86_400), unit=UNITS)
def test_advance_gives_the_earliest_instant(
    start: dt.datetime, seconds: int, unit: TimeUnit
) -> None:
    due = CALENDAR.advance(start, seconds, unit)
    assert CALENDAR.business_seconds(start, due - dt.timedelta(seconds=1), unit) == seconds - 1


@PROPERTY
@given(
    start=INSTANTS,
    first=st.integers(min_value=0, max_value=30 * 86_400),
    second=st.integers(min_value=0, max_value=30 * 86_400),
    unit=UNITS,
)
def test_advance_is_additive(start: dt.datetime, first: int, second: int, unit: TimeUnit) -> None:
    middle = CALENDAR.advance(start, first, unit)
    assert CALENDAR.advance(middle, second, unit) == CALENDAR.advance(start, first + second, unit)


@PROPERTY
@given(instants=st.lists(WHOLE_SECOND_INSTANTS, min_size=3, max_size=3), unit=UNITS)
def test_business_seconds_add_up(instants: list[dt.datetime], unit: TimeUnit) -> None:
    a, b, c = sorted(instants)
    total = CALENDAR.business_seconds(a, c, unit)
    assert total == CALENDAR.business_seconds(a, b, unit) + CALENDAR.business_seconds(b, c, unit)
    assert total <= (c - a).total_seconds()


@PROPERTY
@given(start=INSTANTS, amount=st.integers(min_value=1, max_value=40))
def test_working_days_never_end_sooner_than_calendar_days(start: dt.datetime, amount: int) -> None:
    by_calendar = CALENDAR.due(start, TimeLimit(amount, CD))
    assert CALENDAR.due(start, TimeLimit(amount, WD)) >= by_calendar
    assert CALENDAR.due(start, TimeLimit(amount * 24, WH)) >= by_calendar
