"""Tasks driven by the engine's events: born on entry, closed on leaving, acted on by people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from casework import cases, lifecycle, tasks
from casework.model import CaseState, Event, Refused
from casework.tasks import Task, TaskStatus
from tests.casework.test_lifecycle import (
    BASE_DATA,
    DESIGNED,
    HOUR,
    LINEAR,
    PARALLEL,
    SURVEYED,
    T0,
    Cancel,
    Command,
    Submit,
    Suspend,
    done,
    execute,
)

POSTS = {"accept": "counter", "review": "reviewer", "survey": "surveyor", "design": "designer"}
"""Stage -> post; a stage missing here has nobody responsible."""


def route(stage: str) -> str | None:
    return POSTS.get(stage)


def run(
    definition: lifecycle.Definition, commands: Sequence[Command]
) -> tuple[CaseState, dict[int, Task], list[list[Event]]]:
    """Play `commands`, letting the task engine follow each; the task events of each step."""
    state, _ = cases.open_case(definition.version, BASE_DATA)
    held: dict[int, Task] = {}
    steps: list[list[Event]] = []
    for hour, command in enumerate(commands, start=1):
        now = T0 + hour * HOUR
        state, events = execute(state, definition, command, now)
        held, created = tasks.follow(held, state, events, route=route, now=now)
        steps.append(created)
    return state, held, steps


def statuses(held: dict[int, Task]) -> list[tuple[int, str, TaskStatus]]:
    return [(visit, t.stage, t.status) for visit, t in sorted(held.items())]


def test_submission_opens_the_start_stage_task_routed_to_its_post() -> None:
    state, held, steps = run(LINEAR, [Submit()])
    assert statuses(held) == [(0, "accept", TaskStatus.OPEN)]
    assert held[0].post == "counter"
    assert held[0].due_at == state.stages[0].due_at is not None
    assert [(e.action, e.data["visit"], e.data["post"]) for e in steps[0]] == [
        ("TASK_CREATED", 0, "counter")
    ]


def test_completing_a_visit_closes_its_task_and_opens_the_next() -> None:
    _, held, steps = run(LINEAR, [Submit(), done(0)])
    assert statuses(held) == [(0, "accept", TaskStatus.DONE), (1, "review", TaskStatus.OPEN)]
    assert held[0].outcome == "APPROVE"
    assert held[0].completed_at == T0 + 2 * HOUR
    assert [e.data["stage"] for e in steps[1]] == ["review"]


def test_a_stage_nobody_is_responsible_for_gets_an_unassigned_task() -> None:
    _, held, steps = run(PARALLEL, [Submit(), done(0), done(1)])
    # review splits to survey (surveyor) and design (designer)
    assert {t.stage: t.post for t in held.values()} == {
        "accept": "counter",
        "review": "reviewer",
        "survey": "surveyor",
        "design": "designer",
    }
    _, held, steps = run(PARALLEL, [Submit(), done(0), done(1), done(2, **SURVEYED)])
    # survey arrives at the join: inspection waits (JOINING) and has no task yet
    assert "inspection" not in {t.stage for t in held.values()}
    _, held, steps = run(
        PARALLEL, [Submit(), done(0), done(1), done(2, **SURVEYED), done(3, **DESIGNED)]
    )
    inspection = [t for t in held.values() if t.stage == "inspection"]
    assert [(t.post, t.status) for t in inspection] == [(None, TaskStatus.OPEN)]
    assert [e.action for e in steps[-1]] == ["TASK_UNASSIGNED"]


def test_a_return_out_of_a_split_cancels_the_other_branch_task() -> None:
    _, held, _ = run(PARALLEL, [Submit(), done(0), done(1), done(2, outcome="RETURN")])
    by_stage = {(t.stage, t.visit): t.status for t in held.values()}
    assert by_stage[("survey", 2)] is TaskStatus.DONE
    assert by_stage[("design", 3)] is TaskStatus.CANCELLED
    assert by_stage[("review", 4)] is TaskStatus.OPEN


def test_cancelling_the_case_cancels_every_open_task() -> None:
    _, held, steps = run(PARALLEL, [Submit(), done(0), done(1), Cancel()])
    assert [t.status for t in held.values() if t.stage in ("survey", "design")] == [
        TaskStatus.CANCELLED,
        TaskStatus.CANCELLED,
    ]
    assert steps[-1] == []


def test_suspending_moves_the_due_time_of_open_tasks_with_their_visits() -> None:
    state, held, _ = run(LINEAR, [Submit(), Suspend()])
    assert held[0].status is TaskStatus.OPEN
    assert held[0].due_at == state.stages[0].due_at


NOW = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)
OPEN = Task(visit=0, stage="accept", post="counter", status=TaskStatus.OPEN, created_at=T0, id=7)


def test_claim_takes_an_open_task_once() -> None:
    claimed, event = tasks.claim(OPEN, user=3, username="li.ming", now=NOW)
    assert (claimed.status, claimed.assignee, claimed.claimed_at) == (TaskStatus.CLAIMED, 3, NOW)
    assert event == Event("TASK_CLAIMED", {"task": 7, "stage": "accept", "assignee": "li.ming"})
    with pytest.raises(Refused) as refused:
        tasks.claim(claimed, user=4, username="wang.fang", now=NOW)
    assert refused.value.problems[0].code == "INVALID_TRANSITION"


def test_assign_hands_over_and_names_the_previous_holder() -> None:
    claimed, _ = tasks.claim(OPEN, user=3, username="li.ming", now=NOW)
    given, event = tasks.assign(claimed, user=4, username="wang.fang", now=NOW)
    assert (given.status, given.assignee) == (TaskStatus.CLAIMED, 4)
    assert event.data["previous"] == 3 and event.data["assignee"] == "wang.fang"


def test_release_puts_a_claimed_task_back_and_refuses_an_open_one() -> None:
    claimed, _ = tasks.claim(OPEN, user=3, username="li.ming", now=NOW)
    back, event = tasks.release(claimed)
    assert (back.status, back.assignee, back.claimed_at) == (TaskStatus.OPEN, None, None)
    assert event.action == "TASK_RELEASED"
    with pytest.raises(Refused):
        tasks.release(back)


def test_take_makes_an_open_task_the_completers_and_keeps_a_claimed_holder() -> None:
    taken, event = tasks.take(OPEN, user=5, outcome="APPROVE", comment="资料齐全", now=NOW)
    assert (taken.assignee, taken.claimed_at, taken.comment) == (5, NOW, "资料齐全")
    assert event == Event("TASK_COMPLETED", {"task": 7, "stage": "accept", "outcome": "APPROVE"})
    claimed, _ = tasks.claim(OPEN, user=3, username="li.ming", now=T0)
    kept, _ = tasks.take(claimed, user=3, outcome="APPROVE", comment=None, now=NOW)
    assert (kept.assignee, kept.claimed_at) == (3, T0)
    done_task = Task(visit=0, stage="accept", post="counter", status=TaskStatus.DONE, created_at=T0)
    with pytest.raises(Refused):
        tasks.take(done_task, user=3, outcome="APPROVE", comment=None, now=NOW)
