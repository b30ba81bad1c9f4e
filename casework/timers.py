"""Time limits that run, pause and resume on a business calendar.

A limit is spent in business time (see `casework.calendar`): the warning falls when 80 % of it
is used, the breach when all of it is. Pausing keeps what was used; resuming moves the due time
by exactly the paused span, in the limit's own unit.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from typing import Protocol

from casework.calendar import limit_seconds
from casework.model import Timer
from metamodel.specs import TimeLimit, TimeUnit

WARN_SHARE = 0.8
"""The share of a limit after which a warning (预警) is recorded."""


class BusinessClock(Protocol):
    """What timers need from a calendar."""

    def business_seconds(self, start: dt.datetime, end: dt.datetime, unit: TimeUnit) -> int:
        """Business time between two instants."""

    def advance(self, start: dt.datetime, seconds: int, unit: TimeUnit) -> dt.datetime:
        """The instant when `seconds` of business time have passed after `start`."""


def start(limit: TimeLimit | None, now: dt.datetime, clock: BusinessClock) -> Timer | None:
    """A running timer for `limit` (None when there is no limit)."""
    if limit is None:
        return None
    return run(Timer(unit=limit.unit, limit=limit_seconds(limit)), now, clock)


def stopped(limit: TimeLimit | None) -> Timer | None:
    """A timer for `limit` that has not started (the customer has the case)."""
    return None if limit is None else Timer(unit=limit.unit, limit=limit_seconds(limit))


def run(timer: Timer, now: dt.datetime, clock: BusinessClock) -> Timer:
    """Start or resume a timer at `now`."""
    if timer.running:
        return timer
    left = max(0, timer.limit - timer.used)
    warn_left = max(0, math.ceil(timer.limit * WARN_SHARE) - timer.used)
    return replace(
        timer,
        running_since=now,
        due_at=clock.advance(now, left, timer.unit),
        warn_at=clock.advance(now, warn_left, timer.unit),
    )


def pause(timer: Timer, now: dt.datetime, clock: BusinessClock) -> Timer:
    """Stop a timer at `now`, keeping the business time it used."""
    if timer.running_since is None:
        return timer
    spent = clock.business_seconds(timer.running_since, now, timer.unit)
    return replace(timer, used=timer.used + spent, running_since=None, due_at=None, warn_at=None)


def used_share(timer: Timer, now: dt.datetime, clock: BusinessClock) -> float:
    """How much of the limit is used at `now` (1.0 and more is a breach)."""
    spent = timer.used
    if timer.running_since is not None:
        spent += clock.business_seconds(timer.running_since, now, timer.unit)
    return spent / timer.limit if timer.limit else 1.0
