"""Replaying a case's history: what its events say the case is, to compare with what is stored.

Every change to a case is an event that carries what changed: its data (CREATED, DATA_WRITTEN),
its status, its stage visits, its tasks, its fees and payments, its deadlines and its archive
entry. Folding the events gives those facts (`casework.case_facts`), which
`case_facts.differences` compares with the stored case's. An event that changes a case must be
handled here, or the stored case stops matching its history (and the test suite, which verifies
every case it makes, says so).

Events written before a fact was recorded stay readable: a fact they do not carry is left
unknown (None) and is not compared. That is the case version (`caseVersion`, recorded since
sealing began), whether a stage entered was ACTIVE or WAITING (`status`), which visit a task
belongs to (`visit`, otherwise found as the task's creation found it) and a payment's reference.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from casework import replay_fees
from casework.case_facts import (
    CLOSED,
    LIVE,
    CaseFacts,
    Task,
    Visit,
)
from casework.replay_fold import Entry, Fold, TaskTrace, Unreplayable, replace_visit


@dataclass(frozen=True, slots=True)
class Replayed:
    """The facts a history gives, or the first event it could not replay (seq, why)."""

    facts: CaseFacts
    error: tuple[int, str] | None = None


def _created(fold: Fold, event: Entry) -> None:
    fold.data = dict(event.data["data"])
    fold.status = "DRAFT"


def _data_written(fold: Fold, event: Entry) -> None:
    for code, value in event.data["changes"].items():
        if value is None:
            fold.data.pop(code, None)
        else:
            fold.data[code] = value


def _submitted(fold: Fold, event: Entry) -> None:
    fold.status = "IN_PROGRESS"
    fold.times["submitted_at"] = event.at


def _stage_entered(fold: Fold, event: Entry) -> None:
    data = event.data
    status = data.get("status")
    if "joined" in data:
        index = fold.visit(data)
        if fold.visits[index].status != "JOINING":
            raise Unreplayable(f"stage visit {index} was not waiting at a join")
        fold.change_visit(data, status=status, entered_at=event.at)
        return
    if data["visit"] != len(fold.visits):
        raise Unreplayable(f"stage visit {data['visit']} is not the next visit")
    fold.visits.append(Visit(stage=data["stage"], status=status, entered_at=event.at))


def _join_waiting(fold: Fold, event: Entry) -> None:
    if event.data["visit"] != len(fold.visits):
        raise Unreplayable(f"stage visit {event.data['visit']} is not the next visit")
    fold.visits.append(
        Visit(stage=event.data["stage"], status="JOINING", entered_at=event.at, arrivals=1)
    )


def _join_arrived(fold: Fold, event: Entry) -> None:
    index = fold.visit(event.data)
    fold.change_visit(event.data, arrivals=fold.visits[index].arrivals + 1)


def _stage_completed(fold: Fold, event: Entry) -> None:
    fold.change_visit(
        event.data, status="DONE", outcome=event.data["outcome"], completed_at=event.at
    )


def _branch_cancelled(fold: Fold, event: Entry) -> None:
    fold.change_visit(event.data, status="CANCELLED", completed_at=event.at)


def _case_completed(fold: Fold, event: Entry) -> None:
    fold.status = "COMPLETED"
    fold.times["completed_at"] = event.at


ENDS = frozenset({"REJECTED", "WITHDRAWN"})
"""The statuses a CASE_ENDED event may end a case with."""


def _case_ended(fold: Fold, event: Entry) -> None:
    # The other live visits were cancelled by the BRANCH_CANCELLED events just before.
    end, index = event.data["end"], fold.visit(event.data)
    if end not in ENDS:
        raise Unreplayable(f"a case cannot end as {end}")
    if fold.visits[index].status != "DONE":
        raise Unreplayable(f"stage visit {index} ends the case but was not completed")
    fold.status = end
    fold.times["completed_at"] = event.at


def _status(status: str) -> Callable[[Fold, Entry], None]:
    def handle(fold: Fold, _event: Entry) -> None:
        fold.status = status

    return handle


def _cancelled(fold: Fold, event: Entry) -> None:
    fold.status = "CANCELLED"
    fold.times["completed_at"] = event.at
    fold.visits = [
        replace_visit(v, status="CANCELLED", completed_at=event.at)
        if v.status is None or v.status in LIVE
        else v
        for v in fold.visits
    ]


def _visit_time(name: str) -> Callable[[Fold, Entry], None]:
    def handle(fold: Fold, event: Entry) -> None:
        fold.change_visit(event.data, **{name: event.at})

    return handle


def _case_time(name: str) -> Callable[[Fold, Entry], None]:
    def handle(fold: Fold, event: Entry) -> None:
        fold.times[name] = event.at

    return handle


def _task_created(fold: Fold, event: Entry) -> None:
    data = event.data
    visit = fold.visit(data) if "visit" in data else fold.task_visit(data["stage"])
    fold.tasks[data["task"]] = TaskTrace(visit=visit, stage=data["stage"], post=data["post"])


def _task_held(fold: Fold, event: Entry) -> None:
    task = fold.task(event.data)
    task.status, task.assignee = "CLAIMED", event.data["assignee"]


def _task_released(fold: Fold, event: Entry) -> None:
    task = fold.task(event.data)
    task.status, task.assignee = "OPEN", None


def _task_completed(fold: Fold, event: Entry) -> None:
    fold.task(event.data).assignee = event.actor  # whoever completes an open task takes it


def _task_reassigned(fold: Fold, event: Entry) -> None:
    task = fold.task(event.data)
    task.post = event.data["to"]
    if event.data.get("released") is not None:
        task.status, task.assignee = "OPEN", None


def _archived(fold: Fold, event: Entry) -> None:
    fold.customer_number = event.data["customer"]


def _effect(fold: Fold, event: Entry) -> None:
    """An applied effect; a CREATE_CUSTOMER made the case's customer, as ARCHIVED did."""
    if event.data["kind"] == "CREATE_CUSTOMER":
        fold.customer_number = event.data["customer"]


HANDLERS: Mapping[str, Callable[[Fold, Entry], None]] = {
    "CREATED": _created,
    "DATA_WRITTEN": _data_written,
    "SUBMITTED": _submitted,
    "STAGE_ENTERED": _stage_entered,
    "JOIN_WAITING": _join_waiting,
    "JOIN_ARRIVED": _join_arrived,
    "STAGE_COMPLETED": _stage_completed,
    "BRANCH_CANCELLED": _branch_cancelled,
    "CASE_COMPLETED": _case_completed,
    "CASE_ENDED": _case_ended,
    "SUSPENDED": _status("SUSPENDED"),
    "RESUMED": _status("IN_PROGRESS"),
    "CANCELLED": _cancelled,
    "STAGE_WARNING": _visit_time("warned_at"),
    "STAGE_BREACHED": _visit_time("breached_at"),
    "CASE_WARNING": _case_time("warned_at"),
    "CASE_BREACHED": _case_time("breached_at"),
    "TASK_CREATED": _task_created,
    "TASK_UNASSIGNED": _task_created,
    "TASK_CLAIMED": _task_held,
    "TASK_ASSIGNED": _task_held,
    "TASK_RELEASED": _task_released,
    "TASK_COMPLETED": _task_completed,
    "TASK_REASSIGNED": _task_reassigned,
    "ARCHIVED": _archived,
    "EFFECT": _effect,
    **replay_fees.HANDLERS,
}
"""What each action changes; others (TRANSITION) only tell."""


def replay(events: Sequence[Entry]) -> Replayed:
    """The facts the events give, in order; stops at the first event that does not fit."""
    fold = Fold()
    for event in events:
        handler = HANDLERS.get(event.action)
        try:
            if handler is not None:
                handler(fold, event)
            version = event.data.get("caseVersion")
            if version is not None:
                fold.version = int(version)
        except Unreplayable as problem:
            return Replayed(_facts(fold), (event.seq, str(problem)))
        except (KeyError, TypeError, ValueError, AttributeError) as problem:
            return Replayed(_facts(fold), (event.seq, f"its data lacks or mangles {problem}"))
    return Replayed(_facts(fold))


def _facts(fold: Fold) -> CaseFacts:
    tasks: dict[int, Task] = {}
    for task_id, trace in fold.tasks.items():
        status, outcome = trace.status, None
        visit = None
        if trace.visit is not None and 0 <= trace.visit < len(fold.visits):
            visit = fold.visits[trace.visit]
        if visit is not None and visit.status in CLOSED:
            # A task closes with its visit, in the same transaction: DONE or CANCELLED with it.
            status, outcome = visit.status, visit.outcome
        tasks[task_id] = Task(trace.stage, trace.post, trace.assignee, status, outcome)
    return CaseFacts(
        data=dict(fold.data),
        status=fold.status,
        version=fold.version,
        submitted_at=fold.times.get("submitted_at"),
        completed_at=fold.times.get("completed_at"),
        warned_at=fold.times.get("warned_at"),
        breached_at=fold.times.get("breached_at"),
        customer_number=fold.customer_number,
        visits=tuple(fold.visits),
        tasks=tasks,
        fees=dict(fold.fees),
        spans=dict(fold.spans),
    )
