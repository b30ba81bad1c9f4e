"""The running state of a case, as the engine sees it: plain values, no database, no clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from metamodel.specs import CaseStatus, Problem

OPEN_STATUSES = frozenset({CaseStatus.DRAFT, CaseStatus.IN_PROGRESS, CaseStatus.SUSPENDED})


class StageStatus(StrEnum):
    """Where one stage instance of a case is."""

    ACTIVE = "ACTIVE"
    WAITING = "WAITING"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class StageState:
    """One visit of a case to a stage."""

    stage: str
    status: StageStatus
    entered_at: dt.datetime
    completed_at: dt.datetime | None = None
    outcome: str | None = None
    due_at: dt.datetime | None = None


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

    @property
    def current_stages(self) -> tuple[StageState, ...]:
        """The stages the case is in now."""
        return tuple(
            s for s in self.stages if s.status in (StageStatus.ACTIVE, StageStatus.WAITING)
        )


class Refused(Exception):
    """A command the engine will not carry out; `problems` say every reason at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
