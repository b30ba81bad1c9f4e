"""Working-day calendars and time limits (DOMAIN §3; DESIGN §4 Calendar, §7 due dates).

The project's decisions, which every due date in yekuo follows:

**Days.** A day is a calendar date in the calendar's zone, Asia/Shanghai unless told otherwise
(China has kept one offset, UTC+8, since 1991). Instants come in as aware datetimes in any zone
and go out as aware UTC datetimes; a naive datetime is refused.

**Working days.** A date is a working day

1. if an override says so (overrides are per date, kept in the `calendar_day` table, and
   always win, in both directions);
2. otherwise as the `holidays` package's calendar for China (category PUBLIC) says: statutory
   holidays and the days off they are moved to are off, and the weekend make-up working days
   (调休上班) are working days. The package has the State Council's notices for 2001–2026; for
   later years it only estimates (statutory days, weekend holidays moved to the next weekday,
   no make-up Saturdays or Sundays) and after 2100 it has nothing. Estimated years are still
   served; overrides correct them once the year's notice is out;
3. otherwise Monday to Friday are working days and Saturday and Sunday are not.

**Business time** is measured in seconds and depends on the unit:

- CALENDAR_DAYS counts all time;
- WORKING_DAYS counts all 24 hours (local midnight to midnight) of working days only;
- WORKING_HOURS counts the hours of `WORKING_WINDOWS` (09:00–12:00 and 13:00–18:00, eight
  hours) of working days only.

A limit of N units is N × 86 400 s of business time for the day units and N × 3 600 s for
WORKING_HOURS (`limit_seconds`). The due instant is the *earliest* instant at which that much
business time has passed since the start, so a limit that runs out exactly at the end of a
working day or window is due then (24:00 = 00:00 of the next date, or 18:00), not at the start
of the next one. Examples (times local): entered Friday 15:00 with 1 WORKING_DAY, due the next
working day at 15:00; entered on a holiday at 10:00 with 1 WORKING_DAY, due at the end of the
next working day (00:00 of the date after it); 2 WORKING_HOURS entered at 17:00 on a working
day, due 10:00 on the next working day.

`business_seconds` counts whole seconds (a fraction is dropped) and is the inverse of `advance`:
`business_seconds(t, advance(t, s, u), u) == s`. The clock pause while a case waits for the
customer is the caller's (`casework.timers`): sum `business_seconds` over the periods the
clock ran, and `advance` by what is left when it runs again; the 80 % warning point of DESIGN §7
is an `advance` by that share of `limit_seconds(limit)`.

Both walk the calendar a day at a time (a few microseconds a day), so limits of hundreds of
working days cost well under a millisecond per hundred days; the package is asked once per
year per process (`functools.lru_cache`), after which a day is two dictionary look-ups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from metamodel.specs import TimeLimit, TimeUnit

DEFAULT_ZONE = "Asia/Shanghai"
"""The zone whose calendar dates are the days of a calendar."""

WORKING_WINDOWS: tuple[tuple[dt.time, dt.time], ...] = (
    (dt.time(9, 0), dt.time(12, 0)),
    (dt.time(13, 0), dt.time(18, 0)),
)
"""The hours of a working day that WORKING_HOURS counts (local time, eight hours in all)."""

UNIT_SECONDS: Mapping[TimeUnit, int] = MappingProxyType(
    {
        TimeUnit.CALENDAR_DAYS: 86_400,
        TimeUnit.WORKING_DAYS: 86_400,
        TimeUnit.WORKING_HOURS: 3_600,
    }
)
"""Seconds of business time in one unit of a limit."""

MAKE_UP_WORKDAY_NOTE = "调休工作日"
"""The note of a weekend day the library makes a working day (a make-up day for a holiday)."""

LIBRARY_COUNTRY = "CN"
LIBRARY_LANGUAGE = "zh_CN"

_DAY = dt.timedelta(days=1)
_SECOND = dt.timedelta(seconds=1)
_MIDNIGHT = dt.time(0, 0)


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One date of a calendar: whether it is a working day, why, and whether an override says so.

    `note` is the holiday's name from the library (e.g. 国庆节, 休息日（由 2026-09-20 调休）),
    `MAKE_UP_WORKDAY_NOTE` for a make-up working day, the override's own note for an overridden
    date, or None for an ordinary weekday or weekend.
    """

    date: dt.date
    workday: bool
    note: str | None
    overridden: bool


@dataclass(frozen=True, slots=True)
class _LibraryYear:
    """What the holiday library says about one year, beyond the Monday-to-Friday rule."""

    holidays: Mapping[dt.date, str]
    make_up_workdays: frozenset[dt.date]


@lru_cache(maxsize=512)
def _library_year(year: int) -> _LibraryYear:
    """The library's holidays and make-up working days that fall in `year`.

    The next year is asked too: a notice may move a working day into the year before (the
    2002 New Year holiday made 2001-12-29 and 12-30 working days).
    """
    years = (year, year + 1) if year < dt.MAXYEAR else (year,)
    table = holidays.country_holidays(LIBRARY_COUNTRY, years=years, language=LIBRARY_LANGUAGE)
    return _LibraryYear(
        holidays=MappingProxyType(
            {day: str(name) for day, name in table.items() if day.year == year}
        ),
        make_up_workdays=frozenset(day for day in table.weekend_workdays if day.year == year),
    )


def _library_day(day: dt.date) -> tuple[bool, str | None]:
    """The library's verdict on a date: (working day, note)."""
    year = _library_year(day.year)
    name = year.holidays.get(day)
    if day.weekday() >= 5:
        if day in year.make_up_workdays:
            return True, MAKE_UP_WORKDAY_NOTE
        return False, name
    return name is None, name


def limit_seconds(limit: TimeLimit) -> int:
    """The business time a limit allows, in seconds (N × 86 400 for days, N × 3 600 for hours)."""
    if limit.amount < 0:
        raise ValueError(f"a time limit cannot be negative: {limit.amount}")
    return limit.amount * UNIT_SECONDS[limit.unit]


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got a naive one: {value!r}")


def _require_date(day: dt.date) -> None:
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"expected a date, got {type(day).__name__}: {day!r}")


class WorkCalendar:
    """Working days (library plus per-date overrides) and business time on them.

    `overrides` maps dates to whether they are working days, or to `(workday, note)` as
    `database.calendar_repo.get_overrides` returns them. The calendar is immutable and cheap to
    build; build one per request or unit of work from the current overrides.
    """

    __slots__ = ("_overrides", "_zone")

    def __init__(
        self,
        overrides: Mapping[dt.date, bool | tuple[bool, str | None]] | None = None,
        *,
        zone: str = DEFAULT_ZONE,
    ) -> None:
        normalised: dict[dt.date, tuple[bool, str | None]] = {}
        for day, value in (overrides or {}).items():
            _require_date(day)
            workday, note = value if isinstance(value, tuple) else (value, None)
            if not isinstance(workday, bool):
                raise TypeError(f"override of {day} must be a bool, got {workday!r}")
            normalised[day] = (workday, note)
        self._overrides: Mapping[dt.date, tuple[bool, str | None]] = MappingProxyType(normalised)
        self._zone = ZoneInfo(zone)

    @property
    def zone(self) -> ZoneInfo:
        """The zone whose dates are this calendar's days."""
        return self._zone

    @property
    def overrides(self) -> Mapping[dt.date, tuple[bool, str | None]]:
        """The overrides, as `(workday, note)` per date."""
        return self._overrides

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The day (a date in the calendar's zone) an aware instant falls on."""
        _require_aware(instant, "instant")
        return instant.astimezone(self._zone).date()

    def is_workday(self, day: dt.date) -> bool:
        """Whether a date is a working day: the override if any, else the library's calendar."""
        _require_date(day)
        override = self._overrides.get(day)
        return override[0] if override is not None else _library_day(day)[0]

    def day(self, day: dt.date) -> CalendarDay:
        """One date with its working-day flag, note, and whether an override decided it."""
        _require_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return CalendarDay(day, override[0], override[1], overridden=True)
        workday, note = _library_day(day)
        return CalendarDay(day, workday, note, overridden=False)

    def days(self, year: int) -> list[CalendarDay]:
        """Every date of a year, in order, as `CalendarDay`."""
        first = dt.date(year, 1, 1)
        count = (dt.date(year, 12, 31) - first).days + 1
        return [self.day(first + dt.timedelta(days=n)) for n in range(count)]

    # -- business time -------------------------------------------------------------------------

    def _at(self, day: dt.date, clock: dt.time) -> dt.datetime:
        """The UTC instant of a local wall-clock time on a day."""
        return dt.datetime.combine(day, clock, tzinfo=self._zone).astimezone(dt.UTC)

    def _intervals(self, day: dt.date, unit: TimeUnit) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The spans of business time of one day, as UTC instants [from, to), in order."""
        if not self.is_workday(day):
            return
        if unit is TimeUnit.WORKING_HOURS:
            for opens, closes in WORKING_WINDOWS:
                yield self._at(day, opens), self._at(day, closes)
        else:
            yield self._at(day, _MIDNIGHT), self._at(day + _DAY, _MIDNIGHT)

    def business_seconds(self, start: dt.datetime, end: dt.datetime, unit: TimeUnit) -> int:
        """Whole seconds of business time between two instants (0 when `end <= start`)."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
        if end <= start:
            return 0
        if unit is TimeUnit.CALENDAR_DAYS:
            return (end - start) // _SECOND
        total = dt.timedelta(0)
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for opens, closes in self._intervals(day, unit):
                lower, upper = max(opens, start), min(closes, end)
                if upper > lower:
                    total += upper - lower
            day += _DAY
        return total // _SECOND

    def advance(self, start: dt.datetime, seconds: int, unit: TimeUnit) -> dt.datetime:
        """The earliest instant (UTC) by which `seconds` of business time have passed after start.

        Zero seconds gives `start` itself, even outside business time.
        """
        _require_aware(start, "start")
        if seconds < 0:
            raise ValueError(f"cannot advance by a negative time: {seconds}")
        start = start.astimezone(dt.UTC)
        remaining = dt.timedelta(seconds=seconds)
        if unit is TimeUnit.CALENDAR_DAYS or not remaining:
            return start + remaining
        day = self.local_date(start)
        while True:
            for opens, closes in self._intervals(day, unit):
                lower = max(opens, start)
                if closes <= lower:
                    continue
                if remaining <= closes - lower:
                    return lower + remaining
                remaining -= closes - lower
            day += _DAY

    def due(self, start: dt.datetime, limit: TimeLimit) -> dt.datetime:
        """When a limit entered at `start` runs out: `advance(start, limit_seconds(limit))`."""
        return self.advance(start, limit_seconds(limit), limit.unit)
