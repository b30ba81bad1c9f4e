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

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

from casework.case_facts import CLOSED, CURRENT, LIVE, CaseFacts, Fee, Payment, Span, Task, Visit


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


@dataclass(frozen=True, slots=True)
class Replayed:
    """The facts a history gives, or the first event it could not replay (seq, why)."""

    facts: CaseFacts
    error: tuple[int, str] | None = None


class _Unreplayable(Exception):
    """An event that does not fit the history before it."""


@dataclass
class _TaskTrace:
    visit: int | None
    stage: str
    post: str | None
    assignee: str | None = None
    status: str = "OPEN"


@dataclass
class _Fold:
    """The facts so far, changed event by event."""

    data: dict[str, Any] = field(default_factory=dict)
    status: str = "DRAFT"
    version: int | None = None
    times: dict[str, dt.datetime | None] = field(default_factory=dict)
    customer_number: str | None = None
    visits: list[Visit] = field(default_factory=list)
    tasks: dict[int, _TaskTrace] = field(default_factory=dict)
    fees: dict[str, Fee] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)

    def visit(self, data: Mapping[str, Any]) -> int:
        index = data["visit"]
        if not isinstance(index, int) or not 0 <= index < len(self.visits):
            raise _Unreplayable(f"there is no stage visit {index}")
        return index

    def change_visit(self, data: Mapping[str, Any], **changes: Any) -> None:
        index = self.visit(data)
        self.visits[index] = _replace(self.visits[index], **changes)

    def task(self, data: Mapping[str, Any]) -> _TaskTrace:
        found = self.tasks.get(data["task"])
        if found is None:
            raise _Unreplayable(f"task {data['task']} was never created")
        return found

    def fee(self, data: Mapping[str, Any]) -> Fee:
        found = self.fees.get(data["fee"])
        if found is None:
            raise _Unreplayable(f"fee {data['fee']} was never assessed")
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


def _replace(visit: Visit, **changes: Any) -> Visit:
    values = {f.name: getattr(visit, f.name) for f in fields(visit)}
    values.update(changes)
    return Visit(**values)


def _created(fold: _Fold, event: Entry) -> None:
    fold.data = dict(event.data["data"])
    fold.status = "DRAFT"


def _data_written(fold: _Fold, event: Entry) -> None:
    for code, value in event.data["changes"].items():
        if value is None:
            fold.data.pop(code, None)
        else:
            fold.data[code] = value


def _submitted(fold: _Fold, event: Entry) -> None:
    fold.status = "IN_PROGRESS"
    fold.times["submitted_at"] = event.at


def _stage_entered(fold: _Fold, event: Entry) -> None:
    data = event.data
    status = data.get("status")
    if "joined" in data:
        index = fold.visit(data)
        if fold.visits[index].status != "JOINING":
            raise _Unreplayable(f"stage visit {index} was not waiting at a join")
        fold.change_visit(data, status=status, entered_at=event.at)
        return
    if data["visit"] != len(fold.visits):
        raise _Unreplayable(f"stage visit {data['visit']} is not the next visit")
    fold.visits.append(Visit(stage=data["stage"], status=status, entered_at=event.at))


def _join_waiting(fold: _Fold, event: Entry) -> None:
    if event.data["visit"] != len(fold.visits):
        raise _Unreplayable(f"stage visit {event.data['visit']} is not the next visit")
    fold.visits.append(
        Visit(stage=event.data["stage"], status="JOINING", entered_at=event.at, arrivals=1)
    )


def _join_arrived(fold: _Fold, event: Entry) -> None:
    index = fold.visit(event.data)
    fold.change_visit(event.data, arrivals=fold.visits[index].arrivals + 1)


def _stage_completed(fold: _Fold, event: Entry) -> None:
    fold.change_visit(
        event.data, status="DONE", outcome=event.data["outcome"], completed_at=event.at
    )


def _branch_cancelled(fold: _Fold, event: Entry) -> None:
    fold.change_visit(event.data, status="CANCELLED", completed_at=event.at)


def _case_completed(fold: _Fold, event: Entry) -> None:
    fold.status = "COMPLETED"
    fold.times["completed_at"] = event.at


ENDS = frozenset({"REJECTED", "WITHDRAWN"})
"""The statuses a CASE_ENDED event may end a case with."""


def _case_ended(fold: _Fold, event: Entry) -> None:
    # The other live visits were cancelled by the BRANCH_CANCELLED events just before.
    end, index = event.data["end"], fold.visit(event.data)
    if end not in ENDS:
        raise _Unreplayable(f"a case cannot end as {end}")
    if fold.visits[index].status != "DONE":
        raise _Unreplayable(f"stage visit {index} ends the case but was not completed")
    fold.status = end
    fold.times["completed_at"] = event.at


def _status(status: str) -> Callable[[_Fold, Entry], None]:
    def handle(fold: _Fold, _event: Entry) -> None:
        fold.status = status

    return handle


def _cancelled(fold: _Fold, event: Entry) -> None:
    fold.status = "CANCELLED"
    fold.times["completed_at"] = event.at
    fold.visits = [
        _replace(v, status="CANCELLED", completed_at=event.at)
        if v.status is None or v.status in LIVE
        else v
        for v in fold.visits
    ]


def _visit_time(name: str) -> Callable[[_Fold, Entry], None]:
    def handle(fold: _Fold, event: Entry) -> None:
        fold.change_visit(event.data, **{name: event.at})

    return handle


def _case_time(name: str) -> Callable[[_Fold, Entry], None]:
    def handle(fold: _Fold, event: Entry) -> None:
        fold.times[name] = event.at

    return handle


def _task_created(fold: _Fold, event: Entry) -> None:
    data = event.data
    visit = fold.visit(data) if "visit" in data else fold.task_visit(data["stage"])
    fold.tasks[data["task"]] = _TaskTrace(visit=visit, stage=data["stage"], post=data["post"])


def _task_held(fold: _Fold, event: Entry) -> None:
    task = fold.task(event.data)
    task.status, task.assignee = "CLAIMED", event.data["assignee"]


def _task_released(fold: _Fold, event: Entry) -> None:
    task = fold.task(event.data)
    task.status, task.assignee = "OPEN", None


def _task_completed(fold: _Fold, event: Entry) -> None:
    fold.task(event.data).assignee = event.actor  # whoever completes an open task takes it


def _task_reassigned(fold: _Fold, event: Entry) -> None:
    task = fold.task(event.data)
    task.post = event.data["to"]
    if event.data.get("released") is not None:
        task.status, task.assignee = "OPEN", None


def _fee_assessed(fold: _Fold, event: Entry) -> None:
    data = event.data
    earlier = fold.fees.get(data["fee"])
    fold.fees[data["fee"]] = Fee(
        amount=data["amount"],
        rule_version=data["ruleVersion"],
        status="DUE",
        payments=earlier.payments if earlier else (),
    )


def _payment_recorded(fold: _Fold, event: Entry) -> None:
    data = event.data
    fee = fold.fee(data)
    payment = Payment(
        amount=data["amount"],
        method=data["method"],
        reference=data.get("reference"),
        reference_known="reference" in data,
    )
    fold.fees[data["fee"]] = Fee(
        amount=fee.amount,
        rule_version=fee.rule_version,
        status="PAID",
        payments=(*fee.payments, payment),
    )


def _fee_waived(fold: _Fold, event: Entry) -> None:
    fee = fold.fee(event.data)
    fold.fees[event.data["fee"]] = Fee(
        amount=fee.amount, rule_version=fee.rule_version, status="WAIVED", payments=fee.payments
    )


def _span_started(fold: _Fold, event: Entry) -> None:
    fold.spans[event.data["span"]] = Span(started_at=event.at)


def _span_time(name: str) -> Callable[[_Fold, Entry], None]:
    def handle(fold: _Fold, event: Entry) -> None:
        code = event.data["span"]
        if code not in fold.spans:
            raise _Unreplayable(f"span {code} has not started")
        fold.spans[code] = replace(fold.spans[code], **{name: event.at})

    return handle


def _archived(fold: _Fold, event: Entry) -> None:
    fold.customer_number = event.data["customer"]


def _effect(fold: _Fold, event: Entry) -> None:
    """An applied effect; a CREATE_CUSTOMER made the case's customer, as ARCHIVED did."""
    if event.data["kind"] == "CREATE_CUSTOMER":
        fold.customer_number = event.data["customer"]


HANDLERS: Mapping[str, Callable[[_Fold, Entry], None]] = {
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
    "FEE_ASSESSED": _fee_assessed,
    "PAYMENT_RECORDED": _payment_recorded,
    "FEE_WAIVED": _fee_waived,
    "SPAN_STARTED": _span_started,
    "SPAN_MET": _span_time("met_at"),
    "SPAN_WARNING": _span_time("warned_at"),
    "SPAN_BREACHED": _span_time("breached_at"),
    "ARCHIVED": _archived,
    "EFFECT": _effect,
}
"""What each action changes; others (TRANSITION) only tell."""


def replay(events: Sequence[Entry]) -> Replayed:
    """The facts the events give, in order; stops at the first event that does not fit."""
    fold = _Fold()
    for event in events:
        handler = HANDLERS.get(event.action)
        try:
            if handler is not None:
                handler(fold, event)
            version = event.data.get("caseVersion")
            if version is not None:
                fold.version = int(version)
        except _Unreplayable as problem:
            return Replayed(_facts(fold), (event.seq, str(problem)))
        except (KeyError, TypeError, ValueError, AttributeError) as problem:
            return Replayed(_facts(fold), (event.seq, f"its data lacks or mangles {problem}"))
    return Replayed(_facts(fold))


def _facts(fold: _Fold) -> CaseFacts:
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
