"""Tasks, owned by the engine: each current visit of a case holds one task routed to a post.

A task is born when the engine enters a stage (its STAGE_ENTERED event) and closes when the
engine leaves the visit (STAGE_COMPLETED, BRANCH_CANCELLED, or the case's CANCELLED or
CASE_ENDED): the
engine's own events drive the tasks, so nothing has to compare an old state with a new one to
find out what happened. People act on tasks through `claim`, `assign`, `release` and `take`;
each returns the new task and the event that records it. No I/O: storage gives tasks their ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from casework.model import CURRENT, CaseState, Event, Refused, StageStatus
from metamodel.specs import Problem


class TaskStatus(StrEnum):
    """Where a task is (the API's TaskStatus enum)."""

    OPEN = "OPEN"
    CLAIMED = "CLAIMED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


OPEN_STATUSES = frozenset({TaskStatus.OPEN, TaskStatus.CLAIMED})
"""Tasks that still hold work."""


@dataclass(frozen=True, slots=True)
class Task:
    """The work of one visit; `id` is None until storage has given it one."""

    visit: int
    stage: str
    post: str | None
    status: TaskStatus
    created_at: dt.datetime
    due_at: dt.datetime | None = None
    assignee: int | None = None
    claimed_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    outcome: str | None = None
    comment: str | None = None
    id: int | None = None

    @property
    def is_open(self) -> bool:
        """Whether the task still holds work."""
        return self.status in OPEN_STATUSES


Router = Callable[[str], str | None]
"""The post a stage's new task goes to (None: nobody is responsible; the unassigned queue)."""

NEW_TASK = "TASK_CREATED"
UNASSIGNED_TASK = "TASK_UNASSIGNED"
"""The events of a new task; storage writes the new task's id into their `task`."""
CASE_CLOSING = frozenset({"CANCELLED", "CASE_ENDED"})
"""Events after which a case holds no work: any task still open is cancelled."""


def follow(
    tasks: Mapping[int, Task],
    state: CaseState,
    events: Sequence[Event],
    *,
    route: Router,
    now: dt.datetime,
) -> tuple[dict[int, Task], list[Event]]:
    """The tasks (by visit) after the engine's `events` produced `state`, and their events.

    A visit entered as current work gets a task; a visit completed or cancelled closes its task
    (DONE with the visit's outcome, or CANCELLED); every open task's due time follows its visit,
    so a suspension or a resumption moves it too. A visit nobody is responsible for still gets a
    task, with no post: it waits where managers see it, and TASK_UNASSIGNED says so.
    """
    out = dict(tasks)
    created: list[Event] = []
    for event in events:
        visit = event.data.get("visit")
        if event.action in CASE_CLOSING:
            for index, task in out.items():
                if task.is_open:
                    out[index] = _close(task, TaskStatus.CANCELLED, None, now)
        elif not isinstance(visit, int) or not 0 <= visit < len(state.stages):
            continue
        elif event.action == "STAGE_ENTERED" and visit not in out:
            stage = state.stages[visit]
            if stage.status not in CURRENT:
                continue
            post = route(stage.stage)
            out[visit] = Task(
                visit=visit,
                stage=stage.stage,
                post=post,
                status=TaskStatus.OPEN,
                created_at=now,
                due_at=stage.due_at,
            )
            data = {"task": None, "stage": stage.stage, "post": post, "visit": visit}
            created.append(Event(NEW_TASK if post else UNASSIGNED_TASK, data))
        elif event.action in ("STAGE_COMPLETED", "BRANCH_CANCELLED") and visit in out:
            task = out[visit]
            if task.is_open:
                done = state.stages[visit].status is StageStatus.DONE
                status = TaskStatus.DONE if done else TaskStatus.CANCELLED
                out[visit] = _close(task, status, state.stages[visit].outcome, now)
    for index, task in out.items():
        if task.is_open and index < len(state.stages):
            due = state.stages[index].due_at
            if due != task.due_at:
                out[index] = replace(task, due_at=due)
    return out, created


def _close(task: Task, status: TaskStatus, outcome: str | None, now: dt.datetime) -> Task:
    return replace(task, status=status, completed_at=now, outcome=outcome)


# -- what people do with tasks -------------------------------------------------------------------


def claim(task: Task, *, user: int, username: str, now: dt.datetime) -> tuple[Task, Event]:
    """A holder of the task's post takes an open task."""
    if task.status is not TaskStatus.OPEN:
        raise _not_now(task)
    taken = replace(task, status=TaskStatus.CLAIMED, assignee=user, claimed_at=now)
    return taken, _event("TASK_CLAIMED", task, assignee=username)


def assign(task: Task, *, user: int, username: str, now: dt.datetime) -> tuple[Task, Event]:
    """A manager gives an open or claimed task to someone."""
    if not task.is_open:
        raise _not_now(task)
    given = replace(task, status=TaskStatus.CLAIMED, assignee=user, claimed_at=now)
    return given, _event("TASK_ASSIGNED", task, assignee=username, previous=task.assignee)


def release(task: Task) -> tuple[Task, Event]:
    """A claimed task goes back to its post's queue."""
    if task.status is not TaskStatus.CLAIMED:
        raise _not_now(task)
    back = replace(task, status=TaskStatus.OPEN, assignee=None, claimed_at=None)
    return back, _event("TASK_RELEASED", task)


def take(
    task: Task, *, user: int, outcome: str, comment: str | None, now: dt.datetime
) -> tuple[Task, Event]:
    """The task is being completed by `user`: an open task is theirs from now on.

    The engine then completes the visit; `follow` closes the task with the visit's outcome.
    """
    if not task.is_open:
        raise _not_now(task)
    held = task
    if task.status is TaskStatus.OPEN:
        held = replace(task, assignee=user, claimed_at=now)
    return replace(held, comment=comment), _event("TASK_COMPLETED", task, outcome=outcome)


def _event(action: str, task: Task, **data: object) -> Event:
    return Event(action, {"task": task.id, "stage": task.stage, **data})


def _not_now(task: Task) -> Refused:
    return Refused([Problem("INVALID_TRANSITION", f"the task is {task.status.value}", ("id",))])
