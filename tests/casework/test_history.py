"""The history check on plain values: the chain, the anchor, the seal and the replay, each
tampered with in turn; keys derived, rotated and told apart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from casework import case_facts, history

T0 = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)
KEYS = history.keyring("secret-now")
CASE_ID = 41


def chained(entries: list[tuple[str, dict[str, Any]]], *, actor: str = "alice") -> list[Any]:
    """Events numbered from 1, a minute apart, each chained to the one before."""
    events: list[history.ChainedEvent] = []
    previous = history.GENESIS
    for seq, (action, data) in enumerate(entries, start=1):
        at = T0 + dt.timedelta(minutes=seq)
        previous = history.chain(previous, history.canonical(seq, at, actor, action, data, 1))
        events.append(history.ChainedEvent(seq, at, actor, action, data, 1, previous))
    return events


ENTRIES: list[tuple[str, dict[str, Any]]] = [
    ("CREATED", {"data": {"capacity_kva": "80", "customer_name": "某超市"}, "caseVersion": 1}),
    ("SUBMITTED", {}),
    ("STAGE_ENTERED", {"stage": "accept", "visit": 0, "status": "ACTIVE"}),
    ("TASK_CREATED", {"task": 7, "stage": "accept", "post": "acceptor", "visit": 0}),
    ("TASK_COMPLETED", {"task": 7, "stage": "accept", "outcome": "APPROVE", "caseVersion": 2}),
    ("DATA_WRITTEN", {"changes": {"capacity_kva": "100", "customer_name": None}}),
    ("STAGE_COMPLETED", {"stage": "accept", "visit": 0, "outcome": "APPROVE"}),
    ("TRANSITION", {"from": "accept", "outcome": "APPROVE", "to": ["survey"]}),
    ("STAGE_ENTERED", {"stage": "survey", "visit": 1, "status": "ACTIVE"}),
    ("TASK_CREATED", {"task": 8, "stage": "survey", "post": "surveyor", "visit": 1}),
    ("FEE_ASSESSED", {"fee": "high_reliability", "amount": "170100.00", "ruleVersion": 1}),
    ("TASK_CLAIMED", {"task": 8, "stage": "survey", "assignee": "bob"}),
]
"""A case accepted (the capacity corrected, the name cleared), now in survey, claimed by bob."""
EVENTS = chained(ENTRIES)


def seal(events: list[Any], key: history.HistoryKey = KEYS.current) -> history.Anchor:
    head = events[-1].hash if events else history.GENESIS
    return history.Anchor(len(events), head, history.seal(key, CASE_ID, len(events), head), key.id)


STORED = case_facts.CaseFacts(
    data={"capacity_kva": "100"},
    status="IN_PROGRESS",
    version=2,
    submitted_at=T0 + dt.timedelta(minutes=2),
    visits=(
        case_facts.Visit("accept", "DONE", "APPROVE", T0 + dt.timedelta(minutes=3), EVENTS[6].at),
        case_facts.Visit("survey", "ACTIVE", None, EVENTS[8].at),
    ),
    tasks={
        7: case_facts.Task("accept", "acceptor", "alice", "DONE", "APPROVE"),
        8: case_facts.Task("survey", "surveyor", "bob", "CLAIMED"),
    },
    fees={"high_reliability": case_facts.Fee("170100.00", 1, "DUE")},
)
"""What the rows of that case hold."""


def check(
    events: list[Any] = EVENTS,
    anchor: history.Anchor | None = None,
    stored: case_facts.CaseFacts = STORED,
    keys: history.Keyring = KEYS,
) -> history.Verdict:
    return history.verify(CASE_ID, events, anchor or seal(EVENTS), keys, stored)


def test_an_untouched_case_holds() -> None:
    verdict = check()
    assert verdict == history.Verdict(valid=True, broken_at_seq=None, reasons=(), length=12)
    assert verdict.reason is None


def rewritten(index: int, **changes: Any) -> list[Any]:
    """The events with entry `index` changed but its hash kept (an edit in the database)."""
    events = list(EVENTS)
    events[index] = replace(events[index], **changes)
    return events


def with_capacity(value: str) -> list[tuple[str, dict[str, Any]]]:
    entries = list(ENTRIES)
    entries[5] = ("DATA_WRITTEN", {"changes": {"capacity_kva": value, "customer_name": None}})
    return entries


@dataclass(frozen=True)
class Tamper:
    """A change made behind yekuo's back, and what the check must say about it."""

    name: str
    change: Callable[[], history.Verdict]
    broken_at: int | None
    reason: str


TAMPERS = [
    Tamper(
        "the data edited in the case row",
        lambda: check(stored=replace(STORED, data={"capacity_kva": "1000"})),
        None,
        "the case's data differs from its history: capacity_kva",
    ),
    Tamper(
        "an item added to the case row",
        lambda: check(stored=replace(STORED, data={"capacity_kva": "100", "customer_name": "x"})),
        None,
        "the case's data differs from its history: customer_name",
    ),
    Tamper(
        "the status changed",
        lambda: check(stored=replace(STORED, status="COMPLETED")),
        None,
        "the case's status is COMPLETED; its history says IN_PROGRESS",
    ),
    Tamper(
        "the version changed",
        lambda: check(stored=replace(STORED, version=9)),
        None,
        "the case's version is 9; its history says 2",
    ),
    Tamper(
        "the current stage moved on",
        lambda: check(
            stored=replace(
                STORED,
                visits=(STORED.visits[0], replace(STORED.visits[1], stage="connect")),
            )
        ),
        None,
        "stage visit 1 (connect) differs from its history: stage",
    ),
    Tamper(
        "a stage visit added",
        lambda: check(
            stored=replace(STORED, visits=(*STORED.visits, case_facts.Visit("connect", "ACTIVE")))
        ),
        None,
        "the case has 3 stage visits; its history has 2",
    ),
    Tamper(
        "a task given to someone else",
        lambda: check(
            stored=replace(
                STORED, tasks={**STORED.tasks, 8: replace(STORED.tasks[8], assignee="eve")}
            )
        ),
        None,
        "task 8 (survey) differs from its history: assignee",
    ),
    Tamper(
        "a fee made cheaper",
        lambda: check(
            stored=replace(STORED, fees={"high_reliability": case_facts.Fee("1.00", 1, "DUE")})
        ),
        None,
        "fee high_reliability differs from its history: amount",
    ),
    Tamper(
        "a payment slipped in",
        lambda: check(
            stored=replace(
                STORED,
                fees={
                    "high_reliability": case_facts.Fee(
                        "170100.00", 1, "PAID", (case_facts.Payment("170100.00", "CASH"),)
                    )
                },
            )
        ),
        None,
        "fee high_reliability differs from its history: status, payments",
    ),
    Tamper(
        "an event's data edited",
        lambda: check(rewritten(5, data={"changes": {"capacity_kva": "1000"}})),
        6,
        "event 6 does not match its hash: it, or one before it, changed",
    ),
    Tamper(
        "the last event deleted",
        lambda: check(EVENTS[:-1]),
        12,
        "the case records 12 events; event(s) 12 are gone",
    ),
    Tamper(
        "the last three events deleted",
        lambda: check(EVENTS[:-3]),
        10,
        "the case records 12 events; event(s) 10-12 are gone",
    ),
    Tamper(
        "a middle event deleted",
        lambda: check([*EVENTS[:2], *EVENTS[3:]]),
        3,
        "event 3 is missing",
    ),
    Tamper(
        "an event added at the end, the anchor left as it was",
        lambda: check(
            [*EVENTS, *chained([*ENTRIES, ("TASK_RELEASED", {"task": 8})])[12:]],
            anchor=seal(EVENTS),
        ),
        13,
        "the case records 12 events; event(s) after 12 were added outside yekuo",
    ),
    Tamper(
        "the last event deleted and the anchor moved back, without the key",
        lambda: check(
            EVENTS[:-1],
            anchor=replace(seal(EVENTS), length=11, head=EVENTS[-2].hash),
            stored=replace(
                STORED,
                tasks={**STORED.tasks, 8: replace(STORED.tasks[8], assignee=None, status="OPEN")},
            ),
        ),
        None,
        "the seal does not match the history: it was rewritten without the key",
    ),
    Tamper(
        "the whole chain rewritten consistently, without the key",
        lambda: check(
            chained(with_capacity("1000")),
            anchor=replace(
                seal(EVENTS),
                head=chained(with_capacity("1000"))[-1].hash,
            ),
            stored=replace(STORED, data={"capacity_kva": "1000"}),
        ),
        None,
        "the seal does not match the history: it was rewritten without the key",
    ),
    Tamper(
        "the seal removed",
        lambda: check(anchor=replace(seal(EVENTS), mac=None, key_id=None)),
        None,
        "the history is not sealed: written before sealing began, or its seal was removed",
    ),
    Tamper(
        "sealed with a key nobody configured",
        lambda: check(anchor=seal(EVENTS, history.derive_key("someone else"))),
        None,
        f"the history was sealed with key {history.derive_key('someone else').id}, which is "
        "not configured (YEKUO_SECRET, YEKUO_SECRET_PREVIOUS)",
    ),
    Tamper(
        "a visit that never was",
        lambda: check(
            chained([*ENTRIES, ("STAGE_COMPLETED", {"stage": "x", "visit": 5, "outcome": "A"})]),
            anchor=seal(
                chained([*ENTRIES, ("STAGE_COMPLETED", {"stage": "x", "visit": 5, "outcome": "A"})])
            ),
        ),
        13,
        "event 13 cannot be replayed: there is no stage visit 5",
    ),
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.name for t in TAMPERS])
def test_tampering_is_found(tamper: Tamper) -> None:
    verdict = tamper.change()
    assert not verdict.valid
    assert verdict.reason == tamper.reason, verdict.reasons
    assert verdict.broken_at_seq == tamper.broken_at


def test_a_consistent_rewrite_by_someone_holding_the_key_is_not_detected() -> None:
    """The limit of the scheme, said in the README: the key is what an insider must lack."""
    forged = chained(with_capacity("1000"))
    verdict = check(
        forged, anchor=seal(forged), stored=replace(STORED, data={"capacity_kva": "1000"})
    )
    assert verdict.valid


def test_only_the_seal_catches_a_consistent_rewrite_without_the_key() -> None:
    forged = chained(with_capacity("1000"))
    anchor = replace(seal(EVENTS), head=forged[-1].hash)
    verdict = check(forged, anchor=anchor, stored=replace(STORED, data={"capacity_kva": "1000"}))
    assert verdict.reasons == (
        "the seal does not match the history: it was rewritten without the key",
    )


# -- keys ---------------------------------------------------------------------------------------


def test_keys_are_derived_for_their_purpose_and_named_without_revealing_them() -> None:
    key = history.derive_key("secret-now")
    assert key == history.derive_key("secret-now")
    assert key.secret != b"secret-now"
    assert len(key.secret) == 32 and len(key.id) == 16
    assert key.id != history.derive_key("secret-then").id
    assert key.secret.hex() not in repr(key) and "secret=" not in repr(key)


def test_a_seal_binds_the_case_the_length_and_the_head() -> None:
    key = KEYS.current
    mac = history.seal(key, CASE_ID, 12, EVENTS[-1].hash)
    assert mac != history.seal(key, CASE_ID + 1, 12, EVENTS[-1].hash)
    assert mac != history.seal(key, CASE_ID, 11, EVENTS[-1].hash)
    assert mac != history.seal(key, CASE_ID, 12, EVENTS[-2].hash)
    assert mac != history.seal(history.derive_key("secret-then"), CASE_ID, 12, EVENTS[-1].hash)


def test_a_rotated_ring_accepts_seals_of_the_previous_keys_only_while_listed() -> None:
    old = history.keyring("secret-then")
    sealed_then = seal(EVENTS, old.current)
    rotated = history.keyring("secret-now", ["secret-then"])
    assert rotated.current == KEYS.current and rotated.previous == (old.current,)
    assert check(anchor=sealed_then, keys=rotated).valid
    dropped = check(anchor=sealed_then, keys=history.keyring("secret-now"))
    assert dropped.reasons == (
        f"the history was sealed with key {old.current.id}, which is not configured "
        "(YEKUO_SECRET, YEKUO_SECRET_PREVIOUS)",
    )


def test_a_ring_drops_repeated_secrets() -> None:
    ring = history.keyring("a", ["a", "b", "b"])
    assert [k.id for k in ring.previous] == [history.derive_key("b").id]
    assert ring.get(history.derive_key("a").id) == ring.current
    assert ring.get("nope") is None and ring.get(None) is None
