"""What a case is, fact by fact, as its history or its stored rows tell it, and how two differ.

The replay (`casework.replay`) derives these facts from a history, the database reads them from
the rows; `differences` names every fact the two do not share. A fact the history does not carry
(None in the replayed facts) is not compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

CURRENT = frozenset({"ACTIVE", "WAITING"})


LIVE = CURRENT | {"JOINING"}


CLOSED = frozenset({"DONE", "CANCELLED"})


@dataclass(frozen=True, slots=True)
class Visit:
    """One visit of a case to a stage; a replayed `status` of None is current, kind unrecorded."""

    stage: str
    status: str | None
    outcome: str | None = None
    entered_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    arrivals: int = 0
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Task:
    """A task: its stage, the post it waits for, who holds it, its status and outcome."""

    stage: str
    post: str | None
    assignee: str | None
    status: str
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment of a fee; `reference_known` is off where the history predates references."""

    amount: str
    method: str
    reference: str | None = None
    reference_known: bool = True
    kind: str = "PAYMENT"
    """PAYMENT, or REFUND (money given back; `method` is then REFUND)."""
    invoice_no: str | None = None


@dataclass(frozen=True, slots=True)
class Fee:
    """A fee of a case: amount, rule version, status and payments."""

    amount: str
    rule_version: int
    status: str
    payments: tuple[Payment, ...] = ()
    paid: str = "0.00"
    """Payments less refunds; the fee is DUE while it is below the amount."""


@dataclass(frozen=True, slots=True)
class Span:
    """A milestone span of a case: when it started, was met, warned and breached."""

    started_at: dt.datetime
    met_at: dt.datetime | None = None
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a history says a case is, or what the case's rows say; compared field by field.

    In a replay, `version` and `customer_number` are None where the history does not record
    them (then they are not compared).
    """

    data: Mapping[str, Any]
    status: str
    version: int | None
    submitted_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    customer_number: str | None = None
    visits: tuple[Visit, ...] = ()
    tasks: Mapping[int, Task] = field(default_factory=dict)
    fees: Mapping[str, Fee] = field(default_factory=dict)
    spans: Mapping[str, Span] = field(default_factory=dict)


_CASE_TIMES = {
    "submitted_at": "submittedAt",
    "completed_at": "completedAt",
    "warned_at": "warnedAt",
    "breached_at": "breachedAt",
}


_VISIT_FIELDS = {
    "stage": "stage",
    "status": "status",
    "outcome": "outcome",
    "entered_at": "enteredAt",
    "completed_at": "completedAt",
    "arrivals": "arrivals",
    "warned_at": "warnedAt",
    "breached_at": "breachedAt",
}


def differences(replayed: CaseFacts, stored: CaseFacts) -> list[str]:
    """Every way the stored case differs from its replayed history, in words (no values)."""
    found: list[str] = []
    data = sorted(
        k
        for k in set(replayed.data) | set(stored.data)
        if replayed.data.get(k) != stored.data.get(k)
    )
    if data:
        found.append(f"the case's data differs from its history: {', '.join(data)}")
    if replayed.status != stored.status:
        found.append(f"the case's status is {stored.status}; its history says {replayed.status}")
    if replayed.version is not None and replayed.version != stored.version:
        found.append(f"the case's version is {stored.version}; its history says {replayed.version}")
    times = [name for attr, name in _CASE_TIMES.items() if _differ(replayed, stored, attr)]
    if times:
        found.append(f"the case's {', '.join(times)} differ(s) from its history")
    if replayed.customer_number is not None and replayed.customer_number != stored.customer_number:
        found.append("the case's customer number is not the one its history archived")
    found.extend(_visit_differences(replayed.visits, stored.visits))
    found.extend(_task_differences(replayed.tasks, stored.tasks))
    found.extend(_fee_differences(replayed.fees, stored.fees))
    found.extend(_span_differences(replayed.spans, stored.spans))
    return found


def _differ(replayed: object, stored: object, attr: str) -> bool:
    return bool(getattr(replayed, attr) != getattr(stored, attr))


def _visit_differences(replayed: Sequence[Visit], stored: Sequence[Visit]) -> list[str]:
    found: list[str] = []
    if len(replayed) != len(stored):
        found.append(f"the case has {len(stored)} stage visits; its history has {len(replayed)}")
    for index, (want, have) in enumerate(zip(replayed, stored, strict=False)):
        names = [
            name
            for attr, name in _VISIT_FIELDS.items()
            if not (attr == "status" and want.status is None and have.status in CURRENT)
            and _differ(want, have, attr)
        ]
        if names:
            found.append(
                f"stage visit {index} ({have.stage}) differs from its history: {', '.join(names)}"
            )
    return found


def _task_differences(replayed: Mapping[int, Task], stored: Mapping[int, Task]) -> list[str]:
    found = [f"task {i} is not in the history" for i in sorted(set(stored) - set(replayed))]
    found += [f"task {i} of the history is gone" for i in sorted(set(replayed) - set(stored))]
    for task_id in sorted(set(replayed) & set(stored)):
        want, have = replayed[task_id], stored[task_id]
        names = [f.name for f in fields(Task) if _differ(want, have, f.name)]
        if names:
            found.append(
                f"task {task_id} ({have.stage}) differs from its history: {', '.join(names)}"
            )
    return found


def _fee_differences(replayed: Mapping[str, Fee], stored: Mapping[str, Fee]) -> list[str]:
    found = [f"fee {c} is not in the history" for c in sorted(set(stored) - set(replayed))]
    found += [f"fee {c} of the history is gone" for c in sorted(set(replayed) - set(stored))]
    for code in sorted(set(replayed) & set(stored)):
        want, have = replayed[code], stored[code]
        names = [n for n in ("amount", "rule_version", "status") if _differ(want, have, n)]
        if Decimal(want.paid) != Decimal(have.paid):
            names.append("paid")
        if len(want.payments) != len(have.payments) or any(
            (w.amount, w.method, w.kind, w.invoice_no) != (h.amount, h.method, h.kind, h.invoice_no)
            or (w.reference_known and w.reference != h.reference)
            for w, h in zip(want.payments, have.payments, strict=False)
        ):
            names.append("payments")
        if names:
            found.append(f"fee {code} differs from its history: {', '.join(names)}")
    return found


def _span_differences(replayed: Mapping[str, Span], stored: Mapping[str, Span]) -> list[str]:
    found = [f"span {c} is not in the history" for c in sorted(set(stored) - set(replayed))]
    found += [f"span {c} of the history is gone" for c in sorted(set(replayed) - set(stored))]
    for code in sorted(set(replayed) & set(stored)):
        names = [f.name for f in fields(Span) if _differ(replayed[code], stored[code], f.name)]
        if names:
            found.append(f"span {code} differs from its history: {', '.join(names)}")
    return found
