"""Replaying histories event by event, in the shapes written now and in the shapes written
before sealing began (no case version, no ACTIVE/WAITING, no task visit, no payment reference)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import pytest

from casework import case_facts, replay

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Recorded:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    data: dict[str, Any]


def at(minute: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minute)


def events(*entries: tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]) -> list[Any]:
    """Numbered from 1, event n at minute n, by alice unless an actor is given."""
    return [
        Recorded(n, at(n), e[2] if len(e) == 3 else "alice", e[0], e[1])
        for n, e in enumerate(entries, start=1)
    ]


def facts(*entries: Any) -> case_facts.CaseFacts:
    replayed = replay.replay(events(*entries))
    assert replayed.error is None, replayed.error
    return replayed.facts


OPENED: tuple[str, dict[str, Any]] = (
    "CREATED",
    {"data": {"customer_name": "某超市", "capacity_kva": "80"}},
)
SUBMITTED: tuple[str, dict[str, Any]] = ("SUBMITTED", {})


def test_old_shapes_replay_with_what_they_do_not_record_left_unknown() -> None:
    found = facts(
        OPENED,
        SUBMITTED,
        ("STAGE_ENTERED", {"stage": "accept", "visit": 0}),
        ("TASK_CREATED", {"task": 3, "stage": "accept", "post": "acceptor"}),
        ("TASK_COMPLETED", {"task": 3, "stage": "accept", "outcome": "APPROVE"}, "amy"),
        ("STAGE_COMPLETED", {"stage": "accept", "visit": 0, "outcome": "APPROVE"}),
        ("STAGE_ENTERED", {"stage": "sign", "visit": 1}),
        ("TASK_CREATED", {"task": 4, "stage": "sign", "post": "acceptor"}),
        ("FEE_ASSESSED", {"fee": "f", "amount": "10.00", "ruleVersion": 2}),
        ("PAYMENT_RECORDED", {"fee": "f", "amount": "10.00", "method": "CASH"}),
    )
    assert found.version is None  # saves before sealing did not say which version they made
    assert found.visits == (
        case_facts.Visit("accept", "DONE", "APPROVE", at(3), at(6)),
        case_facts.Visit("sign", None, None, at(7)),  # ACTIVE or WAITING: not recorded then
    )
    assert found.tasks == {
        3: case_facts.Task("accept", "acceptor", "amy", "DONE", "APPROVE"),
        4: case_facts.Task("sign", "acceptor", None, "OPEN"),
    }
    payment = case_facts.Payment("10.00", "CASH", None, reference_known=False)
    assert found.fees == {"f": case_facts.Fee("10.00", 2, "PAID", (payment,), paid="10.00")}
    stored = replace(
        found,
        version=7,
        visits=(found.visits[0], replace(found.visits[1], status="WAITING")),
        fees={
            "f": case_facts.Fee(
                "10.00", 2, "PAID", (case_facts.Payment("10.00", "CASH", "NO.1"),), paid="10.00"
            )
        },
    )
    assert case_facts.differences(found, stored) == []  # the unknowns are not held against it


def test_an_old_task_finds_the_visit_its_creation_found() -> None:
    """Without `visit`, a task serves the first current visit of its stage with no task yet."""
    found = facts(
        OPENED,
        SUBMITTED,
        ("STAGE_ENTERED", {"stage": "a", "visit": 0}),
        ("TASK_CREATED", {"task": 1, "stage": "a", "post": "p"}),
        ("STAGE_COMPLETED", {"stage": "a", "visit": 0, "outcome": "APPROVE"}),
        ("STAGE_ENTERED", {"stage": "b", "visit": 1}),
        ("STAGE_ENTERED", {"stage": "a", "visit": 2}),
        ("TASK_CREATED", {"task": 2, "stage": "b", "post": "p"}),
        ("TASK_CREATED", {"task": 3, "stage": "a", "post": "p"}),
        ("BRANCH_CANCELLED", {"stage": "b", "visit": 1}),
    )
    assert {i: t.status for i, t in found.tasks.items()} == {1: "DONE", 2: "CANCELLED", 3: "OPEN"}


def test_the_newest_shapes_record_everything_compared() -> None:
    found = facts(
        ("CREATED", {**OPENED[1], "caseVersion": 1}),
        ("SUBMITTED", {"caseVersion": 2}),
        ("STAGE_ENTERED", {"stage": "sign", "visit": 0, "status": "WAITING"}),
        ("TASK_CREATED", {"task": 9, "stage": "sign", "post": None, "visit": 0}),
        ("FEE_ASSESSED", {"fee": "f", "amount": "10.00", "ruleVersion": 2}),
        ("PAYMENT_RECORDED", {"fee": "f", "amount": "10.00", "method": "CASH", "reference": None}),
    )
    assert found.version == 2
    assert found.visits == (case_facts.Visit("sign", "WAITING", None, at(3)),)
    assert found.fees["f"].payments == (case_facts.Payment("10.00", "CASH", None),)
    changed = replace(found, visits=(replace(found.visits[0], status="ACTIVE"),))
    assert case_facts.differences(found, changed) == [
        "stage visit 0 (sign) differs from its history: status"
    ]


CASES: list[tuple[str, list[Any], dict[str, Any]]] = [
    (
        "data written and cleared",
        [
            OPENED,
            ("DATA_WRITTEN", {"changes": {"capacity_kva": "100", "customer_name": None}}),
            ("DATA_WRITTEN", {"changes": {"meter_asset_no": "E1"}}),
        ],
        {"data": {"capacity_kva": "100", "meter_asset_no": "E1"}, "status": "DRAFT"},
    ),
    (
        "suspended, resumed, cancelled",
        [
            OPENED,
            SUBMITTED,
            ("STAGE_ENTERED", {"stage": "a", "visit": 0, "status": "ACTIVE"}),
            ("SUSPENDED", {"reason": "r"}),
            ("RESUMED", {}),
            ("CANCELLED", {"reason": "r"}),
        ],
        {
            "status": "CANCELLED",
            "submitted_at": at(2),
            "completed_at": at(6),
            "visits": (case_facts.Visit("a", "CANCELLED", None, at(3), at(6)),),
        },
    ),
    (
        "a split joined",
        [
            OPENED,
            SUBMITTED,
            ("STAGE_ENTERED", {"stage": "s", "visit": 0, "status": "ACTIVE"}),
            ("STAGE_COMPLETED", {"stage": "s", "visit": 0, "outcome": "APPROVE"}),
            ("STAGE_ENTERED", {"stage": "x", "visit": 1, "status": "ACTIVE"}),
            ("STAGE_ENTERED", {"stage": "y", "visit": 2, "status": "ACTIVE"}),
            ("STAGE_COMPLETED", {"stage": "x", "visit": 1, "outcome": "APPROVE"}),
            ("JOIN_WAITING", {"stage": "j", "visit": 3}),
            ("STAGE_COMPLETED", {"stage": "y", "visit": 2, "outcome": "APPROVE"}),
            ("JOIN_ARRIVED", {"stage": "j", "visit": 3}),
            ("STAGE_ENTERED", {"stage": "j", "visit": 3, "joined": 2, "status": "ACTIVE"}),
            ("STAGE_COMPLETED", {"stage": "j", "visit": 3, "outcome": "APPROVE"}),
            ("CASE_COMPLETED", {}),
            ("ARCHIVED", {"customer": "0000000001", "contract": "HT1"}),
        ],
        {
            "status": "COMPLETED",
            "completed_at": at(13),
            "customer_number": "0000000001",
            "visits": (
                case_facts.Visit("s", "DONE", "APPROVE", at(3), at(4)),
                case_facts.Visit("x", "DONE", "APPROVE", at(5), at(7)),
                case_facts.Visit("y", "DONE", "APPROVE", at(6), at(9)),
                case_facts.Visit("j", "DONE", "APPROVE", at(11), at(12), arrivals=2),
            ),
        },
    ),
    (
        "tasks claimed, assigned, released, reassigned",
        [
            OPENED,
            SUBMITTED,
            ("STAGE_ENTERED", {"stage": "a", "visit": 0, "status": "ACTIVE"}),
            ("TASK_UNASSIGNED", {"task": 5, "stage": "a", "post": None, "visit": 0}),
            ("TASK_REASSIGNED", {"task": 5, "to": "p", "released": None}),
            ("TASK_CLAIMED", {"task": 5, "assignee": "bob"}),
            ("TASK_REASSIGNED", {"task": 5, "to": "q", "released": "bob"}),
            ("TASK_ASSIGNED", {"task": 5, "assignee": "cy", "previous": None}),
            ("TASK_RELEASED", {"task": 5}),
            ("TASK_ASSIGNED", {"task": 5, "assignee": "dee", "previous": None}),
        ],
        {"tasks": {5: case_facts.Task("a", "q", "dee", "CLAIMED")}},
    ),
    (
        "deadlines warned and breached",
        [
            OPENED,
            SUBMITTED,
            ("STAGE_ENTERED", {"stage": "a", "visit": 0, "status": "ACTIVE"}),
            ("STAGE_WARNING", {"stage": "a", "visit": 0}),
            ("STAGE_BREACHED", {"stage": "a", "visit": 0}),
            ("CASE_WARNING", {}),
            ("CASE_BREACHED", {}),
        ],
        {
            "warned_at": at(6),
            "breached_at": at(7),
            "visits": (
                case_facts.Visit("a", "ACTIVE", None, at(3), warned_at=at(4), breached_at=at(5)),
            ),
        },
    ),
    (
        "a fee reassessed, then waived",
        [
            OPENED,
            ("FEE_ASSESSED", {"fee": "f", "amount": "10.00", "ruleVersion": 1}),
            ("FEE_ASSESSED", {"fee": "f", "amount": "12.00", "ruleVersion": 2}),
            ("FEE_WAIVED", {"fee": "f", "amount": "12.00", "reason": "r"}),
        ],
        {"fees": {"f": case_facts.Fee("12.00", 2, "WAIVED")}},
    ),
]


@pytest.mark.parametrize(("entries", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_events_replay_to_facts(entries: list[Any], expected: dict[str, Any]) -> None:
    found = facts(*entries)
    for name, value in expected.items():
        assert getattr(found, name) == value, name


REFUSED = [
    ("a visit that is not the next", [OPENED, ("STAGE_ENTERED", {"stage": "a", "visit": 4})]),
    ("a completion of no visit", [OPENED, ("STAGE_COMPLETED", {"visit": 0, "outcome": "A"})]),
    ("a claim of no task", [OPENED, ("TASK_CLAIMED", {"task": 1, "assignee": "bob"})]),
    (
        "a payment of no fee",
        [OPENED, ("PAYMENT_RECORDED", {"fee": "f", "amount": "1", "method": "C"})],
    ),
    (
        "a join start of a visit not joining",
        [
            OPENED,
            SUBMITTED,
            ("STAGE_ENTERED", {"stage": "a", "visit": 0, "status": "ACTIVE"}),
            ("STAGE_ENTERED", {"stage": "a", "visit": 0, "joined": 2}),
        ],
    ),
    ("data that is not there", [("CREATED", {})]),
    ("data of the wrong kind", [("CREATED", {"data": 5})]),
]


@pytest.mark.parametrize("entries", [r[1] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_an_event_that_does_not_fit_is_named(entries: list[Any]) -> None:
    replayed = replay.replay(events(*entries))
    assert replayed.error is not None
    assert replayed.error[0] == len(entries)


def test_spans_replay_from_their_events_and_a_stored_difference_is_named() -> None:
    replayed = facts(
        OPENED,
        SUBMITTED,
        ("SPAN_STARTED", {"span": "plan_reply", "stage": "accept", "amount": 5}),
        ("SPAN_WARNING", {"span": "plan_reply", "dueAt": None}, "sweep"),
        ("SPAN_BREACHED", {"span": "plan_reply", "dueAt": None}, "sweep"),
        ("SPAN_MET", {"span": "plan_reply"}),
    )
    assert replayed.spans == {"plan_reply": case_facts.Span(at(3), at(6), at(4), at(5))}
    stored = replace(replayed, spans={"plan_reply": case_facts.Span(at(3), None, at(4), at(5))})
    assert case_facts.differences(replayed, stored) == [
        "span plan_reply differs from its history: met_at"
    ]
    extra = replace(replayed, spans={**replayed.spans, "whole": case_facts.Span(at(3))})
    assert case_facts.differences(replayed, extra) == ["span whole is not in the history"]
    broken = replay.replay(events(OPENED, ("SPAN_MET", {"span": "plan_reply"})))
    assert broken.error == (2, "span plan_reply has not started")
