"""The state a history replay folds event by event (casework.replay), shared by its handlers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from casework.case_facts import CURRENT, Fee, Span, Visit


class Entry(Protocol):
    """An event of a history, as the replay reads it."""

    @property
    def seq(self) -> int:
        """Its number, from 1."""

    @property
    def at(self) -> dt.datetime:
        """When it happened."""

    @property
    def actor(self) -> str:
        """Who did it."""

    @property
    def action(self) -> str:
        """What happened."""

    @property
    def data(self) -> Mapping[str, Any]:
        """What changed."""


class Unreplayable(Exception):
    """An event that does not fit the history before it."""


@dataclass
class TaskTrace:
    """A task as its events left it."""

    visit: int | None
    stage: str
    post: str | None
    assignee: str | None = None
    status: str = "OPEN"


@dataclass
class Fold:
    """The facts so far, changed event by event."""

    data: dict[str, Any] = field(default_factory=dict)
    status: str = "DRAFT"
    version: int | None = None
    times: dict[str, dt.datetime | None] = field(default_factory=dict)
    customer_number: str | None = None
    visits: list[Visit] = field(default_factory=list)
    tasks: dict[int, TaskTrace] = field(default_factory=dict)
    fees: dict[str, Fee] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)

    def visit(self, data: Mapping[str, Any]) -> int:
        """The index of the visit an event names; Unreplayable if there is none."""
        index = data["visit"]
        if not isinstance(index, int) or not 0 <= index < len(self.visits):
            raise Unreplayable(f"there is no stage visit {index}")
        return index

    def change_visit(self, data: Mapping[str, Any], **changes: Any) -> None:
        """Change the visit an event names."""
        index = self.visit(data)
        self.visits[index] = replace_visit(self.visits[index], **changes)

    def task(self, data: Mapping[str, Any]) -> TaskTrace:
        """The task an event names; Unreplayable if it was never created."""
        found = self.tasks.get(data["task"])
        if found is None:
            raise Unreplayable(f"task {data['task']} was never created")
        return found

    def fee(self, data: Mapping[str, Any]) -> Fee:
        """The fee an event names; Unreplayable if it was never assessed."""
        found = self.fees.get(data["fee"])
        if found is None:
            raise Unreplayable(f"fee {data['fee']} was never assessed")
        return found

    def task_visit(self, stage: str) -> int | None:
        """The visit a new task serves: the first current visit of its stage without a task."""
        taken = {t.visit for t in self.tasks.values()}
        return next(
            (
                i
                for i, v in enumerate(self.visits)
                if v.stage == stage and (v.status is None or v.status in CURRENT) and i not in taken
            ),
            None,
        )


def replace_visit(visit: Visit, **changes: Any) -> Visit:
    """`visit` with `changes`."""
    values = {f.name: getattr(visit, f.name) for f in fields(visit)}
    values.update(changes)
    return Visit(**values)
