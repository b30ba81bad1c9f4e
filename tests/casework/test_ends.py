"""Ends as outcomes: a REJECTED or WITHDRAWN end stage closes the whole case at once.

Two realistic flows: 低压居民新装 whose acceptance may refuse the application (不予受理告知, a
REJECTED end with its reason), and 高压新装 whose survey branch may record the customer's
withdrawal (客户撤销登记, a WITHDRAWN end) while the design branch is still open. The engine's
events drive the tasks and replay to the same facts as the state they produced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from casework import case_facts, cases, ends, lifecycle, replay, tasks
from casework.model import CLOSED_STATUSES, OPEN_STATUSES, CaseState, Event, Refused, StageStatus
from casework.tasks import Task, TaskStatus
from metamodel import datatypes
from metamodel.effect_specs import CaseEnd
from metamodel.specs import (
    BusinessGroup,
    BusinessTypeSpec,
    BusinessTypeVersion,
    CaseStatus,
    DataItemSpec,
    EnumOption,
    ItemType,
    ItemUsage,
    PostSpec,
    StageSpec,
    StageUsage,
    TimeLimit,
    TransitionSpec,
)
from metamodel.validation import Catalog, validate_business_type
from tests.casework.test_lifecycle import (
    BASE_DATA,
    DAYS,
    DESIGNED,
    HOUR,
    ITEMS,
    LIBRARY,
    SURVEYED,
    T0,
    Cancel,
    Command,
    Complete,
    Resume,
    Submit,
    Suspend,
    done,
    execute,
)

ACTIVE, DONE, CANCELLED = StageStatus.ACTIVE, StageStatus.DONE, StageStatus.CANCELLED
JOINING = StageStatus.JOINING

END_ITEMS = {
    **ITEMS,
    "reject_reason": DataItemSpec(
        "reject_reason",
        "不予受理原因",
        ItemType.ENUM,
        options=(
            EnumOption("NO_CAPACITY", "不具备供电条件"),
            EnumOption("INCOMPLETE", "申请资料不全"),
        ),
    ),
    "withdraw_note": DataItemSpec("withdraw_note", "撤销说明", ItemType.TEXT),
}
END_LIBRARY = {
    **LIBRARY,
    "refusal": StageSpec("refusal", "不予受理告知", TimeLimit(1, DAYS)),
    "withdrawal": StageSpec("withdrawal", "客户撤销登记", TimeLimit(1, DAYS)),
}
CATALOG = Catalog(
    items=END_ITEMS, stages=END_LIBRARY, posts={"acceptor": PostSpec("acceptor", "受理员")}
)


def business_type(
    code: str,
    items: Sequence[ItemUsage],
    stages: Sequence[StageUsage],
    transitions: Sequence[TransitionSpec],
) -> lifecycle.Definition:
    spec = BusinessTypeSpec(
        code=code,
        name=code,
        group=BusinessGroup.NEW,
        time_limit=TimeLimit(40, DAYS),
        items=tuple(items),
        stages=tuple(stages),
        transitions=tuple(transitions),
        start="accept",
    )
    assert validate_business_type(spec, CATALOG) == []
    version = BusinessTypeVersion(
        spec=spec,
        version=1,
        items={u.item: END_ITEMS[u.item] for u in items},
        stages={s.stage: END_LIBRARY[s.stage] for s in stages},
    )
    return lifecycle.prepare(version)


REJECTING = business_type(
    "lv_resident_new",
    [
        ItemUsage("customer_name", required_at=("accept",)),
        ItemUsage("capacity_kva"),
        ItemUsage("voltage_level"),
        ItemUsage("reject_reason", editable_at=("accept", "refusal"), visible_to=("acceptor",)),
    ],
    [
        StageUsage("accept", outcomes=("APPROVE", "REJECT")),
        StageUsage("review"),
        StageUsage("connect"),
        StageUsage("refusal", end=CaseEnd.REJECTED, reason="reject_reason"),
    ],
    [
        TransitionSpec("accept", ("review",)),
        TransitionSpec("accept", ("refusal",), outcome="REJECT"),
        TransitionSpec("review", ("connect",)),
    ],
)
"""低压居民新装 whose acceptance may refuse: accept → refusal (REJECTED, reason reject_reason)."""

WITHDRAWING = business_type(
    "hv_commercial_new",
    [
        ItemUsage("customer_name", required_at=("accept",)),
        ItemUsage("capacity_kva"),
        ItemUsage("voltage_level"),
        ItemUsage("survey_opinion", required_at=("survey",), editable_at=("survey",)),
        ItemUsage("design_file_no", editable_at=("design",)),
        ItemUsage("withdraw_note"),
    ],
    [
        StageUsage("accept"),
        StageUsage("review"),
        StageUsage("survey", outcomes=("APPROVE", "WITHDRAW")),
        StageUsage("design"),
        StageUsage("inspection", join=True),
        StageUsage("connect"),
        StageUsage("withdrawal", end=CaseEnd.WITHDRAWN, reason="withdraw_note"),
    ],
    [
        TransitionSpec("accept", ("review",)),
        TransitionSpec("review", ("survey", "design")),
        TransitionSpec("survey", ("inspection",)),
        TransitionSpec("survey", ("withdrawal",), outcome="WITHDRAW"),
        TransitionSpec("design", ("inspection",)),
        TransitionSpec("inspection", ("connect",)),
    ],
)
"""高压新装: survey and design in parallel; the survey may record the customer's withdrawal."""

REASON = {"reject_reason": "NO_CAPACITY"}
NOTE = {"withdraw_note": "客户项目取消，申请撤销"}
REFUSED: list[Command] = [Submit(), done(0, "REJECT")]
"""Accept refused: accept 0 DONE, refusal 1 ACTIVE."""
AT_WITHDRAWAL: list[Command] = [Submit(), done(0), done(1), done(2, "WITHDRAW", **SURVEYED)]
"""Survey withdrawn while design is open: accept 0, review 1, survey 2, design 3, withdrawal 4."""
JOINED_FIRST: list[Command] = [Submit(), done(0), done(1), done(3, **DESIGNED)]
"""Design done first: accept 0, review 1, survey 2, design 3, inspection 4 JOINING."""


@dataclass(frozen=True)
class Run:
    """A case played command by command with its tasks, and every event it produced."""

    state: CaseState
    tasks: dict[int, Task]
    events: list[Event]
    last: list[Event]
    times: list[dt.datetime]


def run(definition: lifecycle.Definition, commands: Sequence[Command]) -> Run:
    state, opened = cases.open_case(definition.version, BASE_DATA)
    held: dict[int, Task] = {}
    every, times = list(opened), [T0] * len(opened)
    last: list[Event] = list(opened)
    for hour, command in enumerate(commands, start=1):
        now = T0 + hour * HOUR
        state, last = execute(state, definition, command, now)
        held, created = tasks.follow(
            held, state, last, route=lambda stage: f"{stage}_post", now=now
        )
        every.extend([*last, *created])
        times.extend([now] * (len(last) + len(created)))
    return Run(state, held, every, last, times)


def visits(state: CaseState) -> list[tuple[str, StageStatus]]:
    return [(s.stage, s.status) for s in state.stages]


ENDS = [
    pytest.param(
        REJECTING,
        REFUSED,
        [("accept", DONE), ("refusal", ACTIVE)],
        CaseStatus.IN_PROGRESS,
        ["STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="a REJECT leads to the refusal stage; the case is still open there",
    ),
    pytest.param(
        REJECTING,
        [*REFUSED, done(1, **REASON)],
        [("accept", DONE), ("refusal", DONE)],
        CaseStatus.REJECTED,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "CASE_ENDED"],
        id="completing the REJECTED end rejects the case",
    ),
    pytest.param(
        REJECTING,
        [Submit(), done(0, "REJECT", **REASON), done(1)],
        [("accept", DONE), ("refusal", DONE)],
        CaseStatus.REJECTED,
        ["STAGE_COMPLETED", "CASE_ENDED"],
        id="a reason written before the end stage serves it",
    ),
    pytest.param(
        REJECTING,
        [Submit(), done(0), done(1), done(2)],
        [("accept", DONE), ("review", DONE), ("connect", DONE)],
        CaseStatus.COMPLETED,
        ["STAGE_COMPLETED", "CASE_COMPLETED"],
        id="the other end still completes",
    ),
    pytest.param(
        WITHDRAWING,
        AT_WITHDRAWAL,
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", ACTIVE),
            ("withdrawal", ACTIVE),
        ],
        CaseStatus.IN_PROGRESS,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "TRANSITION", "STAGE_ENTERED"],
        id="a WITHDRAW in one branch leaves the other branch open until the end completes",
    ),
    pytest.param(
        WITHDRAWING,
        [*AT_WITHDRAWAL, done(4, **NOTE)],
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", CANCELLED),
            ("withdrawal", DONE),
        ],
        CaseStatus.WITHDRAWN,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "BRANCH_CANCELLED", "CASE_ENDED"],
        id="completing the WITHDRAWN end cancels the other branch and withdraws the case",
    ),
    pytest.param(
        WITHDRAWING,
        [*JOINED_FIRST, done(2, "WITHDRAW", **SURVEYED), done(5, **NOTE)],
        [
            ("accept", DONE),
            ("review", DONE),
            ("survey", DONE),
            ("design", DONE),
            ("inspection", CANCELLED),
            ("withdrawal", DONE),
        ],
        CaseStatus.WITHDRAWN,
        ["DATA_WRITTEN", "STAGE_COMPLETED", "BRANCH_CANCELLED", "CASE_ENDED"],
        id="a join still waiting is cancelled too",
    ),
]


@pytest.mark.parametrize(
    ("definition", "commands", "expected_visits", "status", "last_actions"), ENDS
)
def test_ends(
    definition: lifecycle.Definition,
    commands: list[Command],
    expected_visits: list[tuple[str, StageStatus]],
    status: CaseStatus,
    last_actions: list[str],
) -> None:
    found = run(definition, commands)
    assert visits(found.state) == expected_visits
    assert found.state.status is status
    assert [e.action for e in found.last] == last_actions


def test_the_end_event_names_the_end_and_its_visit_but_never_the_reason() -> None:
    found = run(REJECTING, [*REFUSED, done(1, **REASON)])
    ended = found.last[-1]
    assert ended == Event("CASE_ENDED", {"end": "REJECTED", "stage": "refusal", "visit": 1})


def test_an_ended_case_is_closed_and_its_clocks_stopped() -> None:
    found = run(WITHDRAWING, [*AT_WITHDRAWAL, done(4, **NOTE)])
    state, ended_at = found.state, T0 + 5 * HOUR
    assert state.completed_at == ended_at
    assert state.timer is not None and not state.timer.running and state.due_at is None
    assert all(s.timer is None or not s.timer.running for s in state.stages)
    assert state.stages[3].completed_at == ended_at  # the cancelled branch
    assert state.status in CLOSED_STATUSES and state.status not in OPEN_STATUSES
    assert {
        CaseStatus.COMPLETED,
        CaseStatus.CANCELLED,
        CaseStatus.REJECTED,
        CaseStatus.WITHDRAWN,
    } == CLOSED_STATUSES


def test_every_task_closes_the_end_s_done_and_the_others_cancelled() -> None:
    found = run(WITHDRAWING, [*AT_WITHDRAWAL, done(4, **NOTE)])
    assert [(v, t.stage, t.status, t.outcome) for v, t in sorted(found.tasks.items())] == [
        (0, "accept", TaskStatus.DONE, "APPROVE"),
        (1, "review", TaskStatus.DONE, "APPROVE"),
        (2, "survey", TaskStatus.DONE, "WITHDRAW"),
        (3, "design", TaskStatus.CANCELLED, None),
        (4, "withdrawal", TaskStatus.DONE, "APPROVE"),
    ]


def test_the_end_refuses_to_complete_without_its_reason() -> None:
    found = run(REJECTING, REFUSED)
    with pytest.raises(Refused) as refused:
        execute(found.state, REJECTING, done(1), T0 + 9 * HOUR)
    [problem] = refused.value.problems
    assert (problem.code, problem.path) == ("REQUIRED", ("input", "data", "reject_reason"))
    assert "不予受理原因" in problem.message


@pytest.mark.parametrize(
    "command",
    [Cancel(), Suspend(), Resume(), Complete(1), Submit()],
    ids=["cancel", "suspend", "resume", "complete", "submit"],
)
def test_an_ended_case_takes_no_command(command: Command) -> None:
    found = run(REJECTING, [*REFUSED, done(1, **REASON)])
    with pytest.raises(Refused) as refused:
        execute(found.state, REJECTING, command, T0 + 9 * HOUR)
    assert [p.code for p in refused.value.problems] == ["INVALID_TRANSITION"]


def test_an_ended_case_s_data_cannot_change() -> None:
    found = run(REJECTING, [*REFUSED, done(1, **REASON)])
    with pytest.raises(Refused) as refused:
        cases.write_data(found.state, REJECTING.version, {"customer_name": "改名"})
    assert [p.code for p in refused.value.problems] == ["INVALID_TRANSITION"]


@dataclass(frozen=True)
class Recorded:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    data: Mapping[str, Any]


def stored_facts(found: Run, version: BusinessTypeVersion, ids: Mapping[int, int]) -> Any:
    state = found.state
    return case_facts.CaseFacts(
        data={c: datatypes.to_json(version.item(c), v) for c, v in state.data.items()},
        status=state.status.value,
        version=None,
        submitted_at=state.submitted_at,
        completed_at=state.completed_at,
        visits=tuple(
            case_facts.Visit(
                stage=s.stage,
                status=s.status.value,
                outcome=s.outcome,
                entered_at=s.entered_at,
                completed_at=s.completed_at,
                arrivals=s.arrivals,
            )
            for s in state.stages
        ),
        tasks={
            ids[visit]: case_facts.Task(t.stage, t.post, None, t.status.value, t.outcome)
            for visit, t in found.tasks.items()
        },
    )


@pytest.mark.parametrize(
    ("definition", "commands"),
    [
        (REJECTING, [*REFUSED, done(1, **REASON)]),
        (WITHDRAWING, [*AT_WITHDRAWAL, done(4, **NOTE)]),
        (WITHDRAWING, [*JOINED_FIRST, done(2, "WITHDRAW", **SURVEYED), done(5, **NOTE)]),
    ],
    ids=["rejected", "withdrawn", "withdrawn past a waiting join"],
)
def test_the_history_of_an_ended_case_replays_to_what_it_is(
    definition: lifecycle.Definition, commands: list[Command]
) -> None:
    found = run(definition, commands)
    ids: dict[int, int] = {}
    entries = []
    for seq, (event, at) in enumerate(zip(found.events, found.times, strict=True), start=1):
        data = dict(event.data)
        if event.action in (tasks.NEW_TASK, tasks.UNASSIGNED_TASK):
            ids[data["visit"]] = data["task"] = 100 + data["visit"]
        entries.append(Recorded(seq, at, "system", event.action, data))
    replayed = replay.replay(entries)
    assert replayed.error is None
    stored = stored_facts(found, definition.version, ids)
    assert case_facts.differences(replayed.facts, stored) == []
    assert replayed.facts.status == found.state.status.value


def test_a_replayed_end_must_follow_the_completion_of_its_stage() -> None:
    entries = [
        Recorded(1, T0, "a", "CREATED", {"data": {}}),
        Recorded(2, T0, "a", "SUBMITTED", {}),
        Recorded(3, T0, "a", "STAGE_ENTERED", {"stage": "refusal", "visit": 0}),
        Recorded(4, T0, "a", "CASE_ENDED", {"end": "REJECTED", "stage": "refusal", "visit": 0}),
    ]
    assert replay.replay(entries).error == (4, "stage visit 0 ends the case but was not completed")
    done_entry = Recorded(
        4, T0, "a", "STAGE_COMPLETED", {"stage": "refusal", "visit": 0, "outcome": "APPROVE"}
    )
    odd = Recorded(5, T0, "a", "CASE_ENDED", {"end": "COMPLETED", "stage": "refusal", "visit": 0})
    assert replay.replay([*entries[:3], done_entry, odd]).error == (
        5,
        "a case cannot end as COMPLETED",
    )


def test_the_reason_shown_is_the_end_s_item_an_enum_by_its_label() -> None:
    rejected = run(REJECTING, [*REFUSED, done(1, **REASON)]).state
    withdrawn = run(WITHDRAWING, [*AT_WITHDRAWAL, done(4, **NOTE)]).state

    def shown(definition: lifecycle.Definition, state: CaseState) -> str | None:
        stored = {
            c: datatypes.to_json(definition.version.item(c), v) for c, v in state.data.items()
        }
        pairs = [(s.stage, s.status.value) for s in state.stages]
        return ends.end_reason(definition.version, state.status.value, pairs, stored)

    assert shown(REJECTING, rejected) == "不具备供电条件"
    assert shown(WITHDRAWING, withdrawn) == "客户项目取消，申请撤销"
    completed = run(REJECTING, [Submit(), done(0, **REASON), done(1), done(2)]).state
    assert completed.status is CaseStatus.COMPLETED
    assert shown(REJECTING, completed) is None  # only a refusing end tells a reason
    assert shown(REJECTING, replace(rejected, status=CaseStatus.CANCELLED)) is None
