"""The running state of a case, as the engine sees it: plain values, no database, no clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from metamodel.specs import CaseStatus, Problem, TimeUnit

OPEN_STATUSES = frozenset({CaseStatus.DRAFT, CaseStatus.IN_PROGRESS, CaseStatus.SUSPENDED})
"""Statuses a case can still move on from (or be cancelled, suspended, overdue in)."""
CLOSED_STATUSES = frozenset(CaseStatus) - OPEN_STATUSES
"""Statuses a case never leaves: COMPLETED, CANCELLED, REJECTED and WITHDRAWN."""


class StageStatus(StrEnum):
    """Where one visit of a case to a stage is."""

    ACTIVE = "ACTIVE"
    WAITING = "WAITING"
    JOINING = "JOINING"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


CURRENT = frozenset({StageStatus.ACTIVE, StageStatus.WAITING})
"""Visits that hold work: ACTIVE (the utility's) and WAITING (the customer's)."""
LIVE = CURRENT | {StageStatus.JOINING}
"""Visits that keep a case from completing."""


@dataclass(frozen=True, slots=True)
class Timer:
    """A time limit being spent: it runs, pauses and resumes without losing what was used.

    `used` is business time (seconds, in the limit's unit) spent before `running_since`;
    `due_at` and `warn_at` are only known while the timer runs.
    """

    unit: TimeUnit
    limit: int
    used: int = 0
    running_since: dt.datetime | None = None
    due_at: dt.datetime | None = None
    warn_at: dt.datetime | None = None

    @property
    def running(self) -> bool:
        """Whether time is being spent now."""
        return self.running_since is not None


@dataclass(frozen=True, slots=True)
class StageState:
    """One visit of a case to a stage; a RETURN makes a new visit, never rewrites one.

    `splits` is the stack of parallel splits the visit is inside (ids of the visits that split),
    so a join knows which branches it waits for.
    """

    stage: str
    status: StageStatus
    entered_at: dt.datetime
    completed_at: dt.datetime | None = None
    outcome: str | None = None
    timer: Timer | None = None
    splits: tuple[int, ...] = ()
    arrivals: int = 0

    @property
    def due_at(self) -> dt.datetime | None:
        """When the visit's limit runs out, while its timer runs."""
        return self.timer.due_at if self.timer else None


@dataclass(frozen=True, slots=True)
class SpanState:
    """A milestone limit of a case (`metamodel.specs.SpanSpec`), once its first stage is entered.

    `timer` is None when the limit could not be worked out when the span started (an expression
    over items still empty): the span is then measured (started, met) but has no due date.
    `warned_at` and `breached_at` are recorded by the sweep, never by the engine.
    """

    code: str
    started_at: dt.datetime
    timer: Timer | None = None
    met_at: dt.datetime | None = None
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None

    @property
    def due_at(self) -> dt.datetime | None:
        """When the span's limit runs out, while its timer runs."""
        return self.timer.due_at if self.timer else None


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a case; the database layer numbers and chains it."""

    action: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CaseState:
    """A case as the engine reads and returns it."""

    business_type: str
    version: int
    status: CaseStatus
    data: Mapping[str, Any]
    stages: tuple[StageState, ...] = ()
    submitted_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    timer: Timer | None = None
    spans: tuple[SpanState, ...] = ()
    """The milestone limits started so far, in the order the business type declares them."""

    @property
    def current_stages(self) -> tuple[StageState, ...]:
        """The visits holding work now."""
        return tuple(s for s in self.stages if s.status in CURRENT)

    @property
    def due_at(self) -> dt.datetime | None:
        """When the whole-case limit runs out, while its timer runs."""
        return self.timer.due_at if self.timer else None

    def with_stage(self, index: int, visit: StageState) -> CaseState:
        """The state with visit `index` replaced."""
        stages = list(self.stages)
        stages[index] = visit
        return replace(self, stages=tuple(stages))


class Refused(Exception):
    """A command the engine will not carry out; `problems` say every reason at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
